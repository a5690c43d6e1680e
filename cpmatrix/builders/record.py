"""``build.json`` as one typed value: written by every builder, read by reuse and packaging.

A record on disk is input like any other: :func:`load` refuses one that is too large, not
UTF-8, not JSON, of another schema, or has a field of the wrong type, with the file and the
field in the message. Fields a record may lack (older builds, Windows) have empty defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cpmatrix
from cpmatrix.matrix import BUILDER_KINDS
from cpmatrix.util import jsonfile
from cpmatrix.util.errors import ArtifactError
from cpmatrix.util.fileio import write_json_atomic

SCHEMA = 1
MAX_BYTES = 4 << 20
OK = "ok"
CommandTool = Literal["configure", "buildbat"]


class RecordError(ArtifactError):
    """build.json is missing, malformed, or says the build did not succeed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """The command that configured (POSIX) or built (Windows) the cell, and its environment."""

    tool: CommandTool
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildRecord:
    cell: Mapping[str, Any]
    """``Cell.record()``: its id, python, variant, platform …"""
    result: str
    """``ok``, ``interrupted``, or ``failed: <why>``."""
    source: Mapping[str, Any]
    """The source tree's record: sha256, origin, provider, signature, git commit, patches."""
    where: Mapping[str, Any]
    """Where it was built: ``builder`` (docker, native, windows), image tag and id, host."""
    command: Command
    make: tuple[str, ...] = ()
    install: tuple[str, ...] = ()
    toolchain: Mapping[str, str] = field(default_factory=dict)
    phases: Mapping[str, float] = field(default_factory=dict)
    fingerprint: Mapping[str, Any] = field(default_factory=dict)
    prefix: str | None = None
    jobs: int | None = None
    started: str | None = None
    finished: str | None = None
    notes: Mapping[str, str] = field(default_factory=dict)
    """Free text for people (``relocatable``, Windows' ``toolset``)."""
    portable: Mapping[str, Any] = field(default_factory=dict)
    """Linux: what the portable phase bundled, sanitized and split off (builders/finish_tree)."""
    binary: Mapping[str, Any] = field(default_factory=dict)
    """Evidence stripping removes, read before it (builders.binary: ``_TAIL_CALL_*`` functions)."""
    cpmatrix: str = cpmatrix.__version__

    @property
    def cell_id(self) -> str:
        return str(self.cell["id"])

    @property
    def builder(self) -> str:
        return str(self.where["builder"])

    @property
    def ok(self) -> bool:
        return self.result == OK

    def dump(self) -> dict[str, Any]:
        """The JSON object build.json holds (the shape docs/manifest.md's build section reads)."""
        data: dict[str, Any] = {
            "schema": SCHEMA,
            "cpmatrix": self.cpmatrix,
            "cell": dict(self.cell),
            "result": self.result,
            "source": dict(self.source),
            "where": dict(self.where),
            "make": list(self.make),
            "install": list(self.install),
            "toolchain": dict(self.toolchain),
            "phases": dict(self.phases),
            "fingerprint": dict(self.fingerprint),
            "prefix": self.prefix,
            "jobs": self.jobs,
            "started": self.started,
            "finished": self.finished,
            **self.notes,
        }
        if self.portable:
            data["portable"] = dict(self.portable)
        if self.binary:
            data["binary"] = dict(self.binary)
        if self.command.tool == "configure":
            data["configure"] = {"argv": list(self.command.argv), "env": dict(self.command.env)}
        else:
            data["buildbat"] = list(self.command.argv)
        return data

    def write(self, path: Path) -> None:
        write_json_atomic(path, self.dump())


NOTES = ("relocatable", "toolset")


class _Fields:
    """Typed access to a JSON object; a wrong type is a RecordError naming file and field."""

    def __init__(self, data: Mapping[str, Any], path: Path, prefix: str = "") -> None:
        self.data, self.path, self.prefix = data, path, prefix

    def fail(self, name: str, wanted: str) -> RecordError:
        value = self.data.get(name)
        scalar = value is None or isinstance(value, str | int | float)
        shown = repr(value)[:40] if scalar else f"a {type(value).__name__}"
        return RecordError(
            f"{self.path}: '{self.prefix}{name}' must be {wanted}, not {shown}",
            hint="this build record was not written by cpmatrix as it is; rebuild the cell",
        )

    def text(self, name: str, *, optional: bool = False) -> str | None:
        value = self.data.get(name)
        if isinstance(value, str) or (optional and value is None):
            return value
        raise self.fail(name, "a string")

    def mapping(self, name: str, *, optional: bool = False) -> Mapping[str, Any]:
        value = self.data.get(name)
        if isinstance(value, Mapping):
            return value
        if optional and value is None:
            return {}
        raise self.fail(name, "an object")

    def texts(self, name: str) -> tuple[str, ...]:
        value = self.data.get(name, [])
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise self.fail(name, "a list of strings")

    def text_map(self, name: str) -> dict[str, str]:
        value = self.mapping(name, optional=True)
        if all(isinstance(item, str) for item in value.values()):
            return dict(value)
        raise self.fail(name, "an object of strings")

    def numbers(self, name: str) -> dict[str, float]:
        value = self.mapping(name, optional=True)
        if all(_number(item) for item in value.values()):
            return {key: float(item) for key, item in value.items()}
        raise self.fail(name, "an object of numbers")

    def within(self, name: str, *, optional: bool = False) -> _Fields:
        return _Fields(self.mapping(name, optional=optional), self.path, f"{self.prefix}{name}.")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _command(fields: _Fields) -> Command:
    if "configure" in fields.data:
        configure = fields.within("configure")
        return Command(
            tool="configure", argv=configure.texts("argv"), env=configure.text_map("env")
        )
    if "buildbat" in fields.data:
        return Command(tool="buildbat", argv=fields.texts("buildbat"))
    raise fields.fail("configure", "an object (or 'buildbat' a list)")


def _source(fields: _Fields) -> Mapping[str, Any]:
    source = fields.within("source")
    for name in ("sha256", "origin", "provider", "signature", "git_commit", "patchset"):
        source.text(name, optional=True)
    source.texts("patches")
    if source.data.get("git_dirty") not in (None, True, False):
        raise source.fail("git_dirty", "true, false or null")
    return source.data


def _where(fields: _Fields) -> Mapping[str, Any]:
    where = fields.within("where")
    if where.data.get("builder") not in BUILDER_KINDS:
        raise where.fail("builder", f"one of {', '.join(BUILDER_KINDS)}")
    image = where.within("image", optional=True)
    image.text("tag", optional=True)
    image.text("id", optional=True)
    return where.data


def _portable(fields: _Fields) -> Mapping[str, Any]:
    portable = fields.within("portable", optional=True)
    bundled = portable.data.get("bundled", [])
    if not isinstance(bundled, list) or not all(
        isinstance(entry, Mapping) and isinstance(entry.get("soname"), str) for entry in bundled
    ):
        raise portable.fail("bundled", "a list of objects with a soname")
    return portable.data


def from_json(data: object, path: Path) -> BuildRecord:
    if not isinstance(data, Mapping):
        raise RecordError(f"{path} is not a JSON object", hint="rebuild the cell")
    fields = _Fields(data, path)
    if data.get("schema") != SCHEMA or isinstance(data.get("schema"), bool):
        raise fields.fail("schema", f"{SCHEMA}")
    cell = fields.within("cell")
    cell.text("id")
    jobs = data.get("jobs")
    if jobs is not None and (not isinstance(jobs, int) or isinstance(jobs, bool)):
        raise fields.fail("jobs", "an integer")
    return BuildRecord(
        cell=cell.data,
        result=fields.text("result") or "",
        source=_source(fields),
        where=_where(fields),
        command=_command(fields),
        make=fields.texts("make"),
        install=fields.texts("install"),
        toolchain=fields.text_map("toolchain"),
        phases=fields.numbers("phases"),
        fingerprint=fields.mapping("fingerprint", optional=True),
        prefix=fields.text("prefix", optional=True),
        jobs=jobs,
        started=fields.text("started", optional=True),
        finished=fields.text("finished", optional=True),
        notes={name: str(data[name]) for name in NOTES if isinstance(data.get(name), str)},
        portable=_portable(fields),
        binary=fields.mapping("binary", optional=True),
        cpmatrix=fields.text("cpmatrix", optional=True) or "unknown",
    )


def load(path: Path) -> BuildRecord:
    """The record at ``path``, validated; RecordError says what is wrong with it."""
    if not path.exists():
        raise RecordError(
            f"{path} is missing: this cell's build record was not written",
            hint="build the cell first: invoke build …",
        )
    data = jsonfile.read(
        path, what="build record", error=RecordError, max_bytes=MAX_BYTES, hint="rebuild the cell"
    )
    return from_json(data, path)


def load_ok(path: Path) -> BuildRecord:
    """The record of a build that succeeded, else RecordError (used before packaging)."""
    record = load(path)
    if not record.ok:
        raise RecordError(
            f"{path} says the build did not succeed ({record.result or 'no result'})",
            hint="rebuild the cell: invoke build …",
        )
    return record
