"""What every POSIX build shares: the Builder protocol, the request, and pure functions that
compose configure / make / install, the toolchain preflight, and failure messages.

Runners (docker.py, posix.py) execute what these functions compose; nothing here runs anything.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from cpmatrix import features as fx
from cpmatrix.builders import portable
from cpmatrix.builders.portable import Sysroot
from cpmatrix.features import Version
from cpmatrix.features.toolchains import llvm_tools_env
from cpmatrix.matrix import BuilderKind, Cell
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util.errors import BuildFailed, EnvironmentProblem

Phase = Literal[
    "preflight", "configure", "instrument", "profile-task", "compile", "install", "portable"
]
PHASES: tuple[Phase, ...] = (
    "preflight",
    "configure",
    "instrument",
    "profile-task",
    "compile",
    "install",
    "portable",
)
"""In order; ``instrument`` and ``profile-task`` only in a PGO build (features.PGO_MAKE_TARGETS)."""
PGO_PHASES: tuple[Phase, Phase] = ("instrument", "profile-task")
LOG_TAIL_LINES = 30
PREFIX_ROOT = "/opt/cpmatrix"
"""Where the interpreter believes it lives. Without --enable-shared CPython finds its stdlib
relative to its executable, so the staged tree works wherever it is moved."""

ALWAYS_TOOLS: tuple[fx.Tool, ...] = (
    fx.Tool("make", "runs CPython's Makefile", "apt-get install build-essential (or make)"),
    fx.Tool("cc", "the C compiler configure finds", "apt-get install build-essential"),
)


class Source(Protocol):
    """A prepared CPython tree (cpmatrix.sources.SourceTree satisfies this)."""

    @property
    def path(self) -> Path: ...

    @property
    def release(self) -> Version: ...

    @property
    def key(self) -> str: ...

    def record(self) -> dict[str, object]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildRequest:
    cell: Cell
    source: Source
    paths: CellPaths
    jobs: int
    fingerprint: Mapping[str, object] = field(default_factory=dict)
    """What makes an existing build of this cell reusable; stored in build.json."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    install: Path
    record: dict[str, object]
    phases: dict[str, float] = field(default_factory=dict)


class Builder(Protocol):
    kind: BuilderKind

    def check_environment(self) -> None:
        """Raise EnvironmentProblem when this builder cannot run on this machine at all."""

    def identity(self) -> dict[str, object]:
        """What about the build environment decides the result (e.g. the image id)."""

    def build(self, request: BuildRequest) -> BuildResult: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Commands:
    """The exact configure / make / install steps of one cell."""

    configure: tuple[str, ...]
    configure_env: tuple[tuple[str, str], ...]
    make: tuple[str, ...]
    install: tuple[str, ...]
    prefix: str
    finish: tuple[str, ...] | None = None
    """The portable phase (bundle libraries, sanitize sysconfig, split debug info), if any."""
    pgo: tuple[tuple[Phase, tuple[str, ...]], ...] = ()
    """A PGO build's instrumented build and profile task, before ``make`` rebuilds with the
    profile; empty otherwise."""


def prefix_for(cell: Cell) -> str:
    return f"{PREFIX_ROOT}/{cell.id}"


def toolchain(cell: Cell) -> fx.Toolchain:
    """The cell's toolchain from features' one table (compiler, LLVM, tools, packages)."""
    return fx.toolchain(cell.version, cell.features, cell.platform.os)


def commands(
    cell: Cell,
    *,
    source_dir: str,
    destdir: str,
    jobs: int,
    sysroot: Sysroot | None = None,
    work_dir: str = ".",
) -> Commands:
    """configure, make and make install for a cell, built out of tree in the current directory.

    ``make install`` byte-compiles the stdlib with ``-j0`` (every core) unless told otherwise;
    it gets the cell's share of the -j budget like the compile does. With a sysroot, the build
    links against it and a portable phase follows the install.
    """
    chain = toolchain(cell)
    prefix = prefix_for(cell)
    env = list(chain.env)
    if sysroot is not None:
        env.extend(sysroot.configure_env(chain.cc or sysroot.compiler))
    elif chain.cc is not None:
        env.append(("CC", chain.cc))
    if cell.profile == "optimized":
        env.extend(llvm_tools_env(chain.cc or (sysroot.compiler if sysroot else "")))
        env.append(("PROFILE_TASK", fx.PGO_TASK_READ_ONLY_SOURCE))
    args = fx.configure_arguments(cell.version, cell.features, cell.profile)
    finish = None
    if sysroot is not None:
        finish = sysroot.finish_command(
            work_dir=work_dir,
            tree=f"{destdir}{prefix}",
            dbgsym=f"{destdir}/{portable.DBGSYM_DIR}",
        )
    cross = sysroot.cross if sysroot is not None else None
    cross_args = cross.configure_arguments() if cross is not None else ()
    return Commands(
        configure=(f"{source_dir}/configure", f"--prefix={prefix}", *args, *cross_args),
        configure_env=tuple(env),
        make=("make", f"-j{max(1, jobs)}"),
        install=("make", "install", f"DESTDIR={destdir}", f"COMPILEALL_OPTS=-j{max(1, jobs)}"),
        prefix=prefix,
        finish=finish,
        pgo=pgo_steps(cell, jobs),
    )


def pgo_steps(cell: Cell, jobs: int) -> tuple[tuple[Phase, tuple[str, ...]], ...]:
    """CPython's instrumented build and profile task, two timed phases of their own."""
    if cell.profile != "optimized":
        return ()
    targets = fx.PGO_MAKE_TARGETS
    return tuple(
        (phase, ("make", f"-j{max(1, jobs)}", target))
        for phase, target in zip(PGO_PHASES, targets, strict=True)
    )


def required_tools(cell: Cell) -> tuple[fx.Tool, ...]:
    unique = {tool.command: tool for tool in (*ALWAYS_TOOLS, *toolchain(cell).tools)}
    return tuple(unique.values())


_MAJOR_IN_NAME = re.compile(r"^(?:clang|llvm-[a-z]+)-(\d+)$")


def preflight_script(tools: Sequence[fx.Tool]) -> str:
    """A sh script printing ``found NAME PATH`` / ``missing NAME`` / ``version NAME TEXT``."""
    lines = []
    for tool in tools:
        name = shlex.quote(tool.command)
        lines.append(
            f'if p=$(command -v {name}); then echo "found {tool.command} $p"; '
            f'else echo "missing {tool.command}"; fi'
        )
        if _MAJOR_IN_NAME.match(tool.command):
            lines.append(
                f'command -v {name} >/dev/null && echo "version {tool.command} '
                f'$({name} --version 2>&1 | grep -m1 -i version)"'
            )
    return "\n".join(lines)


def preflight_problems(tools: Sequence[fx.Tool], output: str) -> list[str]:
    """What is missing or at the wrong version, one line each, with what to install."""
    found: set[str] = set()
    versions: dict[str, str] = {}
    for line in output.splitlines():
        kind, _, rest = line.partition(" ")
        name, _, value = rest.partition(" ")
        if kind == "found":
            found.add(name)
        elif kind == "version":
            versions[name] = value
    problems = []
    for tool in tools:
        hint = f"; install: {tool.install_hint}" if tool.install_hint else ""
        if tool.command not in found:
            problems.append(f"{tool.command} is missing (needed for {tool.purpose}){hint}")
            continue
        wanted = _MAJOR_IN_NAME.match(tool.command)
        if wanted and not re.search(
            rf"version {wanted.group(1)}\.", versions.get(tool.command, "")
        ):
            problems.append(
                f"{tool.command} is not LLVM {wanted.group(1)} "
                f"({versions.get(tool.command, 'no version')!r}){hint}"
            )
    return problems


def preflight_error(cell: Cell, where: str, problems: Sequence[str]) -> EnvironmentProblem:
    return EnvironmentProblem(
        f"{where} lacks what {cell.id} needs:\n" + "\n".join(f"  - {p}" for p in problems),
        hint="install the tools named above, or use an image / machine that has them",
    )


_UNRECOGNIZED = re.compile(r"configure: error: unrecognized options?: (.+)$", re.MULTILINE)


def unrecognized_options(log_text: str) -> list[str]:
    match = _UNRECOGNIZED.search(log_text)
    return [o.strip() for o in match.group(1).split(",") if o.strip()] if match else []


def explain_unrecognized(version: Version, options: Sequence[str]) -> str:
    """``CPython 3.13.5 does not have --with-tail-call-interp (tailcall: 3.14+)``."""
    parts = []
    for option in options:
        name = option.split("=", 1)[0]
        owners = [
            spec
            for spec in fx.SPECS.values()
            if any(flag.split("=", 1)[0] == name for flag in spec.configure)
        ]
        why = f" ({owners[0].feature} needs {owners[0].since}+)" if owners else ""
        parts.append(f"CPython {version} does not have {name}{why}")
    return "; ".join(parts)


def log_tail(log: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log was written)"
    return "\n".join(text.splitlines()[-lines:])


def phase_failed(cell: Cell, phase: Phase, exit_code: int, log: Path) -> BuildFailed:
    """The error for a failed phase: what failed, why if we can tell, the log's tail and path."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    unknown = unrecognized_options(text) if phase == "configure" else []
    reason = explain_unrecognized(cell.version, unknown) if unknown else f"exit code {exit_code}"
    return BuildFailed(
        f"{phase} failed for {cell.id}: {reason}\n"
        f"--- last {LOG_TAIL_LINES} lines of {log} ---\n{log_tail(log)}\n--- end of log ---",
        hint=f"the full log is kept at {log}",
    )


def shell_line(argv: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """A copy-pasteable command line, for logs and records."""
    prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
    command = " ".join(shlex.quote(a) for a in argv)
    return f"{prefix} {command}" if prefix else command
