"""What the workflows and the builder image install, read from the files themselves.

``docker/Dockerfile``'s ``apt-get install`` lines say what a Docker cell's image has; the
install steps of ``.github/workflows/build-cells.yml`` (``brew install``, ``choco install``,
``apt-get install``) say what a runner gets, evaluated for one matrix job: the step's ``if:``,
its ``env:`` and ``${{ matrix.X }}`` are resolved with that job's values.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from cpmatrix.features.toolchains import Package, PackageManager
from cpmatrix.util.errors import ConfigError

RUNNER_OS = {"linux": "Linux", "macos": "macOS", "windows": "Windows"}
"""``runner.os`` as GitHub spells it, per matrix.yaml OS."""

_APT_OPTIONS_WITH_VALUE = frozenset(
    {"-t", "-o", "--target-release", "--default-release", "--option"}
)
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_CONDITION = re.compile(r"^(runner\.os|matrix\.[A-Za-z0-9_-]+)\s*(==|!=)\s*'([^']*)'$")


def _commands(script: str) -> Iterator[list[str]]:
    """Each simple command of a shell script (continuations joined; ``&&``, ``;`` split)."""
    joined = script.replace("\\\n", " ")
    for line in joined.splitlines():
        for part in re.split(r"&&|\|\||;", line.split(" #", 1)[0]):
            try:
                words = shlex.split(part)
            except ValueError:
                continue
            while words and (words[0] == "sudo" or "=" in words[0]):
                words = words[1:]
            if words:
                yield words


def _apt_names(words: list[str]) -> Iterator[str]:
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _APT_OPTIONS_WITH_VALUE:
            skip = True
        elif not word.startswith("-"):
            yield word.split("/", 1)[0].split("=", 1)[0]  # clang-21/trixie-backports, pkg=1.2


def _choco_names(words: list[str]) -> Iterator[str]:
    """``llvm --version 21.1.0`` → ``llvm@21``: a Chocolatey package with the major it has."""
    major, names, after_version = "", [], False
    for word in words:
        if after_version:
            major, after_version = word.split(".", 1)[0], False
        elif word == "--version":
            after_version = True
        elif not word.startswith("-"):
            names.append(word)
    for name in names:
        yield f"{name}@{major}" if major else name


def installed_by(script: str) -> frozenset[Package]:
    """The packages a shell script's install commands name."""
    found: set[Package] = set()
    for words in _commands(script):
        program, rest = words[0], words[1:]
        if not rest or rest[0] != "install":
            continue
        manager: PackageManager
        match program:
            case "apt-get" | "apt":
                manager, names = "apt", list(_apt_names(rest[1:]))
            case "brew":
                manager, names = "brew", [w for w in rest[1:] if not w.startswith("-")]
            case "choco":
                manager, names = "choco", list(_choco_names(rest[1:]))
            case _:
                continue
        found.update(Package(manager, name) for name in names)
    return frozenset(found)


def dockerfile_packages(path: Path) -> frozenset[Package]:
    """What the builder image installs: the ``apt-get install`` names of its RUN lines."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    runs = [line.strip()[4:] for line in text.splitlines() if line.strip().startswith("RUN ")]
    return installed_by("\n".join(runs))


def load_workflow(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a workflow")
    return data


def _substitute(text: str, values: Mapping[str, str]) -> str:
    return _EXPRESSION.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _expand(script: str, env: Mapping[str, str]) -> str:
    """``$NAME`` and ``${NAME}`` replaced by the step's ``env:`` values (others left as is)."""
    return _VARIABLE.sub(lambda m: env.get(m.group(1), m.group(0)), script)


def _condition_holds(condition: str, values: Mapping[str, str], where: str) -> bool:
    text = _EXPRESSION.sub(lambda m: m.group(1), condition).strip()
    if "||" in text:
        raise ConfigError(f"{where}: cannot evaluate `if: {condition}` on paper (uses ||)")
    for term in text.split("&&"):
        match = _CONDITION.match(term.strip())
        if match is None:
            raise ConfigError(
                f"{where}: cannot evaluate `if: {condition}` on paper",
                hint="an install step's condition may only compare runner.os or matrix.X "
                "with a quoted string, joined by &&",
            )
        name, operator, literal = match.groups()
        if (values.get(name, "") == literal) != (operator == "=="):
            return False
    return True


def job_installs(
    steps: list[dict[str, Any]], values: Mapping[str, str], where: str
) -> frozenset[Package]:
    """What the steps install for one job; ``values`` has ``runner.os`` and ``matrix.X``."""
    found: set[Package] = set()
    for index, step in enumerate(steps):
        script = step.get("run")
        if not isinstance(script, str):
            continue
        env = {str(k): _substitute(str(v), values) for k, v in (step.get("env") or {}).items()}
        packages = installed_by(_substitute(_expand(script, env), values))
        if not packages:
            continue
        condition = step.get("if")
        name = f"{where} step {step.get('name') or index + 1}"
        if condition is None or _condition_holds(str(condition), values, name):
            found.update(packages)
    return frozenset(found)
