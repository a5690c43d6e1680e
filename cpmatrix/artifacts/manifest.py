"""The manifest beside each archive: what it is, how it was made and proven, where it runs.

``dist/<cell-id>.json``, schema 1, documented field by field in ``docs/manifest.md``. It is
assembled from the cell, the build record (``build.json``), the verification report
(``verify.json``), the archive just written and the ELF facts of the install tree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cpmatrix
from cpmatrix import layout
from cpmatrix.artifacts.archive import Written
from cpmatrix.builders.record import BuildRecord
from cpmatrix.elfinfo import Requirements
from cpmatrix.errors import ArtifactError
from cpmatrix.matrix import Cell

SCHEMA = 1
ARCHIVE_FORMAT = "tar.gz"


def archive_name(cell_id: str) -> str:
    return f"{cell_id}.{ARCHIVE_FORMAT}"


def manifest_name(cell_id: str) -> str:
    return f"{cell_id}.json"


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


def load(path: Path) -> dict[str, Any]:
    """A manifest from disk, refused when it is not one cpmatrix of this schema wrote."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ArtifactError(f"cannot read manifest {path}: {error}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise ArtifactError(
            f"{path} is not a cpmatrix manifest of schema {SCHEMA} (schema: {found!r})",
            hint="package the cell again with this cpmatrix: invoke package --force …",
        )
    for key in ("id", "artifact", "verification", "cache"):
        if key not in data:
            raise ArtifactError(f"manifest {path} lacks its {key!r} field")
    return data
