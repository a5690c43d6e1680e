"""A cell's archives, written and checked before anything reaches ``dist/``.

``build/<cell-id>/artifact/`` receives the archives a consumer downloads: ``<id>.tar.gz`` (every
consumer reads it), ``<id>.tar.zst`` beside it (smaller; uv reads both), ``<id>-tests.tar.gz``
with CPython's test suite (unpacked over the archive, same top directory), and
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

from cpmatrix.artifacts import manifest
from cpmatrix.artifacts.archive import (
    Select,
    Written,
    everything,
    write_entries,
    write_tar_gz,
)
from cpmatrix.matrix import Cell
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util import console
from cpmatrix.util.errors import ArtifactError, EnvironmentProblem
from cpmatrix.util.fileio import sha256_of
from cpmatrix.util.sourcedate import source_date_epoch

STAGE_DIR = "artifact"
PROGRESS_EVERY_SECONDS = 5.0
ZSTD_LEVEL = 12
DBGSYM_SUFFIX = "-dbgsym"
TESTS_SUFFIX = "-tests"


def zst_name(cell_id: str) -> str:
    return f"{cell_id}.tar.zst"


def dbgsym_name(cell_id: str) -> str:
    return f"{cell_id}{DBGSYM_SUFFIX}.tar.gz"


def tests_name(cell_id: str) -> str:
    return f"{cell_id}{TESTS_SUFFIX}.tar.gz"


def test_package(relative: str) -> bool:
    """``lib/python3.X/test`` and what is under it: CPython's own test suite (134 MB of 273 MB
    in a 3.13 tree). It ships beside the archive, under the same top directory, as Debian ships
    ``libpythonX.Y-testsuite`` beside ``pythonX.Y``."""
    parts = relative.split("/")
    return (
        len(parts) >= 3
        and parts[0] == "lib"
        and parts[1].startswith("python3")
        and (parts[2] == "test")
    )


def without_tests(relative: str) -> bool:
    return not test_package(relative)


def docstring_free_bytecode(relative: str) -> bool:
    """``*.opt-2.pyc``: bytecode for ``python -OO`` (asserts and docstrings stripped), a third
    of a 3.13 tree's bytecode, about 5 MB of the .tar.gz. Left out so every archive stays
    under 30 MB; ``-OO`` still works (it compiles, and caches where the tree is writable)."""
    return relative.endswith(".opt-2.pyc")


def shipped(relative: str) -> bool:
    """What the .tar.gz and .tar.zst hold: the tree without the test package and ``-OO``
    bytecode."""
    return without_tests(relative) and not docstring_free_bytecode(relative)


def only_tests(relative: str) -> bool:
    """The test package and the directories that lead to it."""
    parts = relative.split("/")
    stdlib = len(parts) == 2 and parts[0] == "lib" and parts[1].startswith("python3")
    leading = relative == "." or parts == ["lib"] or stdlib
    return leading or test_package(relative)


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
    root: Path,
    out: Path,
    *,
    top: str,
    mtime: int,
    level: int = ZSTD_LEVEL,
    select: Select = everything,
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
                entries = write_entries(tar, root, top, mtime, lambda count: None, select)
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
    """Write the tree's archives into ``build/<cell-id>/artifact/`` (gated before: see
    :mod:`.release`)."""
    directory = paths.dir / STAGE_DIR
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    mtime = source_date_epoch()
    gz = directory / manifest.archive_name(cell.id)
    tree = paths.install
    written = write_tar_gz(tree, gz, top=cell.id, mtime=mtime, on_entry=on_entry, select=shipped)
    archive = StagedFile(path=gz, written=written, role="archive")
    zst = directory / zst_name(cell.id)
    tests = directory / tests_name(cell.id)
    extras = [
        StagedFile(
            path=zst,
            written=write_tar_zst(tree, zst, top=cell.id, mtime=mtime, select=shipped),
            role="archive-zst",
        ),
        StagedFile(
            path=tests,
            written=write_tar_gz(tree, tests, top=cell.id, mtime=mtime, select=only_tests),
            role="tests",
        ),
    ]
    if paths.dbgsym.is_dir():
        debug = directory / dbgsym_name(cell.id)
        top = f"{cell.id}{DBGSYM_SUFFIX}"
        written = write_tar_gz(paths.dbgsym, debug, top=top, mtime=mtime)
        extras.append(StagedFile(path=debug, written=written, role="dbgsym"))
    return Staged(cell_id=cell.id, archive=archive, extras=tuple(extras))


def progress_lines(cell_id: str) -> Callable[[int], None]:
    """A staging progress line at most every few seconds, for a CI log and a person."""
    watch = console.Stopwatch()
    shown = [0.0]

    def progress(count: int) -> None:
        if watch.seconds - shown[0] >= PROGRESS_EVERY_SECONDS:
            shown[0] = watch.seconds
            console.progress(f"{cell_id}: packaging, {count} entries [{watch.seconds:.0f}s]")

    return progress
