"""A cell's archives, written and checked before anything reaches ``dist/``.

``build/<cell-id>/artifact/`` receives the archives a consumer downloads: ``<id>.tar.gz`` (every
consumer reads it), ``<id>.tar.zst`` beside it (smaller; uv reads both), and
``<id>-dbgsym.tar.gz`` with the debug information the portable phase split off (``.debug``
files under ``.build-id/``, where gdb and perf look). Before any of them is written, a Linux tree
must pass the portability gate (:mod:`.validate`). The staged archive is the one proven on the
consumer images and then published, byte for byte.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cpmatrix.artifacts import validate
from cpmatrix.artifacts.archive import (
    Written,
    sha256_of,
    source_date_epoch,
    write_entries,
    write_tar_gz,
)
from cpmatrix.errors import ArtifactError, EnvironmentProblem
from cpmatrix.layout import CellPaths
from cpmatrix.matrix import Cell

STAGE_DIR = "artifact"
ZSTD_LEVEL = 12
DBGSYM_SUFFIX = "-dbgsym"


def gz_name(cell_id: str) -> str:
    return f"{cell_id}.tar.gz"


def zst_name(cell_id: str) -> str:
    return f"{cell_id}.tar.zst"


def dbgsym_name(cell_id: str) -> str:
    return f"{cell_id}{DBGSYM_SUFFIX}.tar.gz"


@dataclass(frozen=True, slots=True, kw_only=True)
class StagedFile:
    path: Path
    written: Written
    role: str
    """``archive`` (tar.gz), ``archive-zst`` or ``dbgsym``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Staged:
    """The archives of one cell, written under ``build/<cell-id>/artifact/``."""

    cell_id: str
    archive: StagedFile
    extras: tuple[StagedFile, ...]

    @property
    def files(self) -> tuple[StagedFile, ...]:
        return (self.archive, *self.extras)


def write_tar_zst(
    root: Path, out: Path, *, top: str, mtime: int, level: int = ZSTD_LEVEL
) -> Written:
    """The same deterministic tar stream as the .tar.gz, compressed by the ``zstd`` command
    (single-threaded, so the bytes do not depend on the machine)."""
    if shutil.which("zstd") is None:
        raise EnvironmentProblem(
            "zstd is not installed: cpmatrix writes a .tar.zst beside every .tar.gz",
            hint="apt-get install zstd (scripts/setup.sh does)",
        )
    command = ["zstd", "-q", f"-{level}", "-T1", "--no-progress", "-f", "-o", str(out)]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdin is not None
        try:
            with tarfile.open(fileobj=process.stdin, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                entries = write_entries(tar, root, top, mtime, lambda count: None)
        finally:
            process.stdin.close()
        error = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
        if process.wait() != 0:
            raise ArtifactError(f"zstd could not write {out}: {error.strip()}")
    out.chmod(0o644)
    return Written(sha256=sha256_of(out), size=out.stat().st_size, entries=entries, mtime=mtime)


def stage(
    cell: Cell, paths: CellPaths, *, on_entry: Callable[[int], None] = lambda count: None
) -> Staged:
    """Check the tree, then write its archives into ``build/<cell-id>/artifact/``."""
    floor = cell.platform.glibc_floor
    if cell.platform.os == "linux" and floor is not None:
        validate.require_portable(paths.install, cell_id=cell.id, glibc_floor=floor)
    directory = paths.dir / STAGE_DIR
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    mtime = source_date_epoch()
    gz = directory / gz_name(cell.id)
    archive = StagedFile(
        path=gz,
        written=write_tar_gz(paths.install, gz, top=cell.id, mtime=mtime, on_entry=on_entry),
        role="archive",
    )
    zst = directory / zst_name(cell.id)
    extras = [
        StagedFile(
            path=zst,
            written=write_tar_zst(paths.install, zst, top=cell.id, mtime=mtime),
            role="archive-zst",
        )
    ]
    if paths.dbgsym.is_dir():
        debug = directory / dbgsym_name(cell.id)
        top = f"{cell.id}{DBGSYM_SUFFIX}"
        written = write_tar_gz(paths.dbgsym, debug, top=top, mtime=mtime)
        extras.append(StagedFile(path=debug, written=written, role="dbgsym"))
    return Staged(cell_id=cell.id, archive=archive, extras=tuple(extras))
