"""The manifest beside each archive: what it is, how it was made and proven, where it runs.

``dist/<cell-id>.json``, schema 1, documented field by field in ``docs/manifest.md``. It is
assembled from the cell, the build record (``build.json``), the verification report
(``verify.json``), the archive just written and the ELF facts of the install tree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cpmatrix
from cpmatrix import features as fx
from cpmatrix.artifacts.archive import Written
from cpmatrix.builders.record import BuildRecord
from cpmatrix.features import Feature, Version
from cpmatrix.matrix import Cell, layout
from cpmatrix.util import jsonfile, names
from cpmatrix.util.elfinfo import Requirements
from cpmatrix.util.errors import ArtifactError

SCHEMA = 1
ARCHIVE_FORMAT = "tar.gz"


def archive_name(cell_id: str) -> str:
    return f"{cell_id}.{ARCHIVE_FORMAT}"


def manifest_name(cell_id: str) -> str:
    return f"{cell_id}.json"


def manifest_beside(archive: Path) -> Path | None:
    """The manifest that describes a dist/ archive (``<cell-id>.tar.gz`` → ``<cell-id>.json``);
    None for a file not named like an archive."""
    cell_id = archive.name.removesuffix(f".{ARCHIVE_FORMAT}")
    return None if cell_id == archive.name else archive.with_name(manifest_name(cell_id))


def interpreter_path(cell: Cell) -> str:
    """The interpreter inside the archive, relative to its top directory."""
    where = layout.interpreter_in_tree(cell.version, cell.features, cell.profile, cell.platform.os)
    return where.as_posix()


@dataclass(frozen=True, slots=True, kw_only=True)
class Inputs:
    """Everything a manifest is made of, gathered by the packager."""

    cell: Cell
    build: BuildRecord
    verification: Mapping[str, Any]
    archive: Written
    requirements: Requirements | None
    key: str
    key_inputs: Mapping[str, Any]
    extras: tuple[tuple[str, str, Written], ...] = ()
    """(role, file name, what was written) of each archive beside the main one."""
    proven_on: tuple[Mapping[str, Any], ...] = ()
    """The bare consumer images the archive was verified in, and how each went."""


def _first(record: Mapping[str, Any], *names: str) -> Any:
    """The first of several spellings present in a record."""
    for name in names:
        if record.get(name) not in (None, "", [], {}):
            return record[name]
    return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def build_section(cell: Cell, record: BuildRecord) -> dict[str, Any]:
    image = _mapping(record.where.get("image"))
    llvm = [
        version for name, version in sorted(record.toolchain.items()) if name.startswith("clang-")
    ]
    command = record.command
    return {
        "builder": record.builder,
        "command": {"tool": command.tool, "argv": list(command.argv), "env": dict(command.env)},
        "compiler": record.toolchain.get("cc") or record.toolchain.get("cl"),
        "llvm": llvm[0] if llvm else None,
        "toolchain": dict(record.toolchain),
        "image": {"tag": image.get("tag"), "id": image.get("id")} if image else None,
        "prefix": record.prefix,
        "started": record.started,
        "finished": record.finished,
        "duration_seconds": round(sum(record.phases.values()), 2),
        "phases": dict(record.phases),
    }


def source_section(cell: Cell, record: BuildRecord) -> dict[str, Any]:
    fields = record.source
    sha256 = _first(fields, "sha256")
    published = sha256 == cell.python.sha256
    return {
        "url": cell.python.url if published else None,
        "origin": _first(fields, "origin"),
        "sha256": sha256,
        "matches_matrix_sha256": published,
        "signature": _first(fields, "signature") or "not recorded",
        "git_commit": _first(fields, "git_commit"),
        "provider": _first(fields, "provider"),
        "patches": list(_first(fields, "patches") or []),
        "patchset": _first(fields, "patchset"),
    }


def verification_section(report: Mapping[str, Any]) -> dict[str, Any]:
    """Every check and the test results, as the verification report states them."""
    return {**report, "passed": report.get("passed") is True}


def runs_on_section(cell: Cell, requirements: Requirements | None) -> dict[str, Any]:
    section: dict[str, Any] = {"os": cell.platform.os, "arch": cell.platform.arch}
    if requirements is not None:
        section.update(requirements.record())
    return section


LEFT_OUT = {
    "tkinter": "Tcl/Tk and the X11 libraries it needs are not bundled; _tkinter is not built",
}
"""Standard-library modules a portable Linux artifact does not ship, and why."""


def portable_section(cell: Cell, record: BuildRecord) -> dict[str, Any] | None:
    """How a Linux artifact was made self-contained: bundled libraries and their versions."""
    portable = record.portable
    if cell.platform.os != "linux" or not portable:
        return None
    return {
        "method": "bundled shared libraries from the build's sysroot, found through an "
        "$ORIGIN-relative RUNPATH (lib/cpmatrix-libs); debug info split into the dbgsym archive",
        "glibc_floor": cell.platform.glibc_floor,
        "bundled": list(portable.get("bundled", [])),
        "left_out": dict(LEFT_OUT),
        "relocated": dict(portable.get("relocated", {})),
    }


def make(inputs: Inputs) -> dict[str, Any]:
    cell = inputs.cell
    return {
        "schema": SCHEMA,
        "cpmatrix_version": cpmatrix.__version__,
        "id": cell.id,
        "python": str(cell.version),
        "variant": cell.variant.name,
        "features": [str(f) for f in cell.variant.ordered],
        "profile": cell.profile,
        "platform": cell.platform.name,
        "cell": cell.record(),
        "artifact": {
            "file": archive_name(cell.id),
            "format": ARCHIVE_FORMAT,
            "sha256": inputs.archive.sha256,
            "size": inputs.archive.size,
            "entries": inputs.archive.entries,
            "top_directory": cell.id,
            "interpreter": interpreter_path(cell),
            "source_date_epoch": inputs.archive.mtime,
            "also": [
                {"role": role, "file": name, "sha256": w.sha256, "size": w.size}
                for role, name, w in inputs.extras
            ],
        },
        "portable": portable_section(cell, inputs.build),
        "proven_on": [dict(proof) for proof in inputs.proven_on],
        "runs_on": runs_on_section(cell, inputs.requirements),
        "build": build_section(cell, inputs.build),
        "source": source_section(cell, inputs.build),
        "verification": verification_section(inputs.verification),
        "cache": {"key": inputs.key, "inputs": dict(inputs.key_inputs)},
    }


def dumps(manifest: Mapping[str, Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"


MAX_BYTES = 4 * 1024 * 1024
"""A manifest is ~20 KiB; one far larger was not written by cpmatrix."""
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TYPES: dict[str, type | tuple[type, ...]] = {
    "python": str,
    "variant": str,
    "features": list,
    "profile": str,
    "platform": str,
    "cell": dict,
    "artifact": dict,
    "runs_on": dict,
    "proven_on": list,
    "verification": dict,
    "cache": dict,
}


def load(path: Path) -> dict[str, Any]:
    """A manifest from disk, validated before any of it is used: a manifest in dist/ may come
    from another job's upload. Refused unless it is one cpmatrix of this schema wrote for the
    cell its file name says, with an archive named after that cell."""
    data = jsonfile.read(path, what="manifest", error=ArtifactError, max_bytes=MAX_BYTES)
    if data.get("schema") != SCHEMA or isinstance(data.get("schema"), bool):
        raise ArtifactError(
            f"{path} is not a cpmatrix manifest of schema {SCHEMA} "
            f"(schema: {str(data.get('schema'))[:40]!r})",
            hint="package the cell again with this cpmatrix: invoke package --force …",
        )
    problem = _problem(data, path.name)
    if problem is not None:
        raise ArtifactError(
            f"manifest {path} {problem}; cpmatrix does not use it",
            hint="remove it, or package the cell again: invoke package --force …",
        )
    return data


def _problem(data: dict[str, Any], file_name: str) -> str | None:
    """What makes a manifest unusable, or None."""
    cell_id = data.get("id")
    if not isinstance(cell_id, str) or names.problem(cell_id, max_length=200) is not None:
        return "has no valid 'id'"
    if file_name != manifest_name(cell_id):
        return f"is named {file_name!r} but describes {cell_id!r}"
    for key, kind in _TYPES.items():
        if not isinstance(data.get(key), kind):
            return f"lacks its {key!r} field or it has the wrong type"
    if not _canonical_variant(data["variant"], data["features"]):
        return f"names the variant {names.shown(data['variant'])}, not a canonical one"
    return _artifact_problem(data["artifact"], cell_id) or _entry_problem(data)


def _canonical_variant(variant: str, features: list[Any]) -> bool:
    """The one name of a set of features (``freethreaded+tailcall``), and those features."""
    if not all(isinstance(word, str) for word in features):
        return False
    words = [] if variant == "default" else variant.split("+")
    try:
        chosen = [Feature(word) for word in words]
    except ValueError:
        return False
    return fx.variant_name(chosen) == variant and sorted(words) == sorted(features)


def _artifact_problem(artifact: dict[str, Any], cell_id: str) -> str | None:
    if artifact.get("file") != archive_name(cell_id):
        return f"names an archive other than {archive_name(cell_id)}"
    if not isinstance(artifact.get("sha256"), str) or not _SHA256.fullmatch(artifact["sha256"]):
        return "records no sha256 of 64 hex digits"
    size = artifact.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return "records no size in bytes"
    also = artifact.get("also", [])
    if not isinstance(also, list) or not all(_extra_ok(extra, cell_id) for extra in also):
        return f"lists a file beside the archive that is not a plain {cell_id}… file name"
    return None


def _extra_ok(extra: object, cell_id: str) -> bool:
    if not isinstance(extra, dict) or not isinstance(extra.get("role"), str):
        return False
    name, digest = extra.get("file"), extra.get("sha256")
    return (
        isinstance(name, str)
        and name.startswith(cell_id)
        and names.component_problem(name) is None
        and isinstance(digest, str)
        and _SHA256.fullmatch(digest) is not None
    )


def _entry_problem(data: dict[str, Any]) -> str | None:
    """The fields the index and uv's files take: a release version, known system names."""
    try:
        version = Version.parse(data["python"])
    except ValueError:
        version = None
    if version is None or version.micro is None or str(version) != data["python"]:
        return f"names no CPython release: {names.shown(data['python'])}"
    runs_on = data["runs_on"]
    if runs_on.get("os") not in ("linux", "macos", "windows"):
        return "names no known system in runs_on.os"
    if not isinstance(runs_on.get("arch"), str) or names.problem(runs_on["arch"]) is not None:
        return "names no valid architecture in runs_on.arch"
    if not all(isinstance(proof, dict) for proof in data["proven_on"]):
        return "lists a proof that is not an object"
    return None
