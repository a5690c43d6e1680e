"""What a benchmark report compares: columns, each an interpreter in a place with a set of
run-time switches.

A column is a published artifact (the ``dist/`` archive teams get, unpacked in a fresh container
of a bare consumer image: what they will run, not the tree it was made from), a build tree (on
this machine, or in the builder image when it needs a newer glibc than this machine has), an
interpreter on this machine or inside a Docker image, or an interpreter from Debian packages
installed into a Debian image. ``--env VAR=A,B`` turns every
column into one column per value, so one build's run-time switches (``PYTHON_JIT``,
``PYTHON_GIL``) become side-by-side columns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cpmatrix.features import debian
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util.errors import UsageError, did_you_mean


def slug(name: str) -> str:
    """A name as a file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "column"


@dataclass(frozen=True, slots=True)
class HostOrBuilder:
    """A tree built here: on this machine if its glibc suffices, else in the builder image."""


@dataclass(frozen=True, slots=True)
class DebianImage:
    """A Debian image with apt packages installed (``debian_image_with``)."""

    suite: str
    packages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Artifact:
    """A ``dist/`` archive unpacked in a fresh container of a bare Debian image (``consumer``)."""

    archive: Path
    top: str
    """The archive's top directory (the cell id)."""
    interpreter: str
    """The interpreter relative to ``top`` (``bin/python3.13t``)."""
    consumer: str


ImageSource = str | HostOrBuilder | DebianImage | Artifact


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One interpreter, where it runs, and the environment it runs with."""

    name: str
    interpreter: str
    image: ImageSource | None = None
    mounts: tuple[Path, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    cell_id: str | None = None

    @property
    def slug(self) -> str:
        return slug(self.name)

    @property
    def where(self) -> str:
        match self.image:
            case None:
                return "this machine"
            case HostOrBuilder():
                return "this machine or the builder image"
            case DebianImage(suite=suite, packages=packages):
                return f"Debian {suite} with {', '.join(packages)}"
            case Artifact(archive=archive, consumer=consumer):
                return f"{archive.name} unpacked in bare Debian {consumer}"
            case str() as tag:
                return f"image {tag}"


def for_cell(name: str, cell_paths: CellPaths, executable: str) -> Column:
    """A built cell's interpreter (mounted where it lies on the host if it runs in a container)."""
    install = cell_paths.install
    if not (install / "bin" / executable).is_file() or cell_paths.incomplete_marker.exists():
        raise UsageError(
            f"cell {cell_paths.cell_id} is not built: no complete {install / 'bin' / executable}",
            hint="build it first with `invoke build` (same --python/--variant), or compare "
            "other interpreters with --interpreter/--image/--column",
        )
    return Column(
        name=name,
        interpreter=str(install / "bin" / executable),
        image=HostOrBuilder(),
        mounts=(install,),
        cell_id=cell_paths.cell_id,
    )


def for_artifact(name: str, artifact: Artifact, cell_id: str) -> Column:
    """A published archive's interpreter, as a team unpacks it on a bare machine."""
    from cpmatrix.artifacts.consumers import unpacked_interpreter

    return Column(
        name=name,
        interpreter=str(unpacked_interpreter(artifact.top, artifact.interpreter)),
        image=artifact,
        cell_id=cell_id,
    )


def parse_env(text: str) -> tuple[str, tuple[str, ...]]:
    """``PYTHON_JIT=0,1`` → ("PYTHON_JIT", ("0", "1"))."""
    name, equals, values = text.partition("=")
    if not equals or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name.strip()):
        raise UsageError(f"--env {text!r} is not VAR=VALUE[,VALUE...]", hint="e.g. PYTHON_JIT=0,1")
    return name.strip(), tuple(v.strip() for v in values.split(","))


def expand_env(columns: Sequence[Column], switches: Sequence[str]) -> list[Column]:
    """One column per combination of switch values, named ``<column> VAR=value``."""
    result = list(columns)
    for switch in switches:
        name, values = parse_env(switch)
        result = [
            replace(c, name=f"{c.name} {name}={v}", env=(*c.env, (name, v)))
            for c in result
            for v in values
        ]
    return result


COLUMN_KEYS = ("name", "interpreter", "image", "apt", "env")


def parse_column(spec: str) -> Column:
    """``name=jit-on,image=IMAGE,interpreter=/usr/bin/python3.14,env=PYTHON_JIT=1``.

    ``apt=SUITE:PKG+PKG`` instead of ``image=`` installs Debian packages into a Debian image;
    ``env=`` may repeat; without ``image``/``apt`` the interpreter runs on this machine.
    """
    fields: dict[str, str] = {}
    env: list[tuple[str, str]] = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, equals, value = part.partition("=")
        if not equals or key not in COLUMN_KEYS:
            raise UsageError(
                f"--column {spec!r}: {part!r} is not KEY=VALUE with a known key",
                hint=did_you_mean(key, COLUMN_KEYS),
            )
        if key == "env":
            var, (single,) = parse_env(value)
            env.append((var, single))
        else:
            fields[key] = value
    if "interpreter" not in fields:
        raise UsageError(f"--column {spec!r} names no interpreter", hint="add interpreter=PATH")
    image: ImageSource | None = fields.get("image")
    if "apt" in fields:
        suite, _, packages = fields["apt"].partition(":")
        image = DebianImage(suite, tuple(p for p in packages.split("+") if p))
    name = fields.get("name") or Path(fields["interpreter"]).name
    return Column(name=name, interpreter=fields["interpreter"], image=image, env=tuple(env))


SID_PYTHONS = DebianImage(debian.UNSTABLE_SUITE, debian.UNSTABLE_INTERPRETERS)

PRESETS: dict[str, tuple[Column, ...]] = {
    "debian-jit": tuple(
        Column(
            name=f"{series} JIT {state}",
            interpreter=debian.interpreter_path(series),
            image=SID_PYTHONS,
            env=(("PYTHON_JIT", flag),),
        )
        for series in debian.UNSTABLE_SERIES
        for state, flag in (("off", "0"), ("on", "1"))
    ),
}
"""Debian unstable's 3.14 and 3.15 are built with ``--enable-experimental-jit=yes-off``: the JIT
is compiled in and ``PYTHON_JIT=1`` turns it on."""


def preset(name: str) -> tuple[Column, ...]:
    if name not in PRESETS:
        raise UsageError(f"unknown --preset {name!r}", hint=did_you_mean(name, tuple(PRESETS)))
    return PRESETS[name]


def check_unique(columns: Sequence[Column]) -> None:
    seen: set[str] = set()
    for column in columns:
        if column.slug in seen:
            raise UsageError(
                f"two columns are named {column.name!r}", hint="give each --column a name="
            )
        seen.add(column.slug)
