"""Deterministic tarballs: the same tree gives the same bytes, whoever packs it and when.

Entries are sorted, every mtime is ``SOURCE_DATE_EPOCH``, owners are 0/0 with no names, modes
are normalised (0755 for directories and executables, 0644 for other files), the gzip header
carries no name and no time, and the archive's single top directory is the cell id. The file
is written beside its destination under a hidden ``.partial`` name and renamed into place, so
an interrupted write never leaves a half archive where a consumer looks.
"""

from __future__ import annotations

import gzip
import os
import stat
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cpmatrix.util.errors import ArtifactError
from cpmatrix.util.fileio import sha256_of
from cpmatrix.util.sourcedate import source_date_epoch

PARTIAL_SUFFIX = ".partial"
GZIP_LEVEL = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class Written:
    sha256: str
    size: int
    entries: int
    mtime: int


Select = Callable[[str], bool]
"""Which entries (by path relative to the root, ``.`` for the root) an archive holds."""


def everything(relative: str) -> bool:
    return True


def _walk(directory: Path, root: Path, select: Select) -> Iterator[Path]:
    """Every selected entry under directory, depth first, names in byte order; symlinks not
    followed; a directory not selected is not entered."""
    for entry in sorted(os.scandir(directory), key=lambda e: os.fsencode(e.name)):
        path = Path(entry.path)
        if not select(path.relative_to(root).as_posix()):
            continue
        yield path
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path, root, select)


def _link_target(path: Path, root: Path) -> str:
    target = str(path.readlink())
    resolved = Path(os.path.normpath(path.parent / target))
    if Path(target).is_absolute() or not resolved.is_relative_to(root):
        raise ArtifactError(
            f"{path} is a symlink to {target}, outside the tree being packaged",
            hint="an artifact must not point outside itself; fix the install step",
        )
    return target


def _entry(path: Path, root: Path, top: str, mtime: int) -> tarfile.TarInfo:
    relative = path.relative_to(root).as_posix()
    info = tarfile.TarInfo(f"{top}/{relative}" if relative != "." else top)
    info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
    status = path.lstat()
    if stat.S_ISLNK(status.st_mode):
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, _link_target(path, root), 0o777
    elif stat.S_ISDIR(status.st_mode):
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    elif stat.S_ISREG(status.st_mode):
        info.size = status.st_size
        info.mode = 0o755 if status.st_mode & stat.S_IXUSR else 0o644
    else:
        raise ArtifactError(
            f"{path} is neither a file, a directory nor a symlink",
            hint="remove device files, sockets and FIFOs from the install tree",
        )
    return info


def write_entries(
    out: tarfile.TarFile,
    root: Path,
    top: str,
    mtime: int,
    on_entry: Callable[[int], None],
    select: Select = everything,
) -> int:
    count = 0
    for path in (root, *_walk(root, root, select)):
        info = _entry(path, root, top, mtime)
        if info.isreg():
            with path.open("rb") as handle:
                out.addfile(info, handle)
        else:
            out.addfile(info)
        count += 1
        on_entry(count)
    return count


@contextmanager
def partial_file(destination: Path) -> Iterator[Path]:
    """A hidden temp path beside destination; removed unless the caller renamed it into place."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=PARTIAL_SUFFIX
    )
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
    finally:
        temp.unlink(missing_ok=True)


def write_tar_gz(
    root: Path,
    out: Path,
    *,
    top: str,
    mtime: int | None = None,
    on_entry: Callable[[int], None] = lambda count: None,
    select: Select = everything,
) -> Written:
    """Pack root as ``top/…`` into out (a partial file); returns its sha256 and size.

    ``on_entry`` is called after each entry (progress); whatever it raises aborts the write.
    """
    if not root.is_dir():
        raise ArtifactError(f"nothing to package: {root} is not a directory")
    stamp = source_date_epoch() if mtime is None else mtime
    with (
        out.open("wb") as raw,
        gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=GZIP_LEVEL
        ) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        entries = write_entries(tar, root, top, stamp, on_entry, select)
    out.chmod(0o644)
    return Written(sha256=sha256_of(out), size=out.stat().st_size, entries=entries, mtime=stamp)


def remove_stale_partials(
    directory: Path, name: str = "*", *, keep: Path | None = None
) -> list[Path]:
    """Partial files of `name` (default: any) left by a killed writer.

    Only for callers that hold the directory's lock: every writer does, so none is live.
    """
    removed = [p for p in sorted(directory.glob(f".{name}.*{PARTIAL_SUFFIX}")) if p != keep]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
