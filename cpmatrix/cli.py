"""The command line's edge: every failure becomes an ``error:`` line, never a traceback.

A CpmatrixError already says what to do. Anything else is turned into one here: a full disk
names the file, and an exception cpmatrix did not expect is reported with the log file its
traceback was written to.
"""

from __future__ import annotations

import datetime
import errno
import os
import re
import traceback
from pathlib import Path

from cpmatrix.matrix import layout
from cpmatrix.matrix.ci import Shard
from cpmatrix.util.errors import ArtifactError, CpmatrixError, EnvironmentProblem, UsageError

DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
MAX_SHARDS = 10_000
_SHARD = re.compile(r"^\s*(\d{1,6})\s*/\s*(\d{1,6})\s*$")


class Unexpected(CpmatrixError):
    """An exception cpmatrix has no message for: a bug, or a case nobody foresaw."""

    exit_code = 70  # EX_SOFTWARE


def log_traceback(error: BaseException) -> Path | None:
    """Write the traceback to the cache's logs/ directory; its path, or None if that failed."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        path = layout.cache_dir() / "logs" / f"error-{stamp}-{os.getpid()}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
    except (OSError, CpmatrixError):
        return None
    return path


def as_error(error: Exception) -> CpmatrixError:
    """What to tell the user about an exception that is not a CpmatrixError."""
    log = log_traceback(error)
    where = f"the traceback is in {log}" if log else "the traceback could not be written"
    if isinstance(error, OSError) and error.errno in DISK_FULL:
        what = f"cannot write {error.filename}: " if error.filename else ""
        return EnvironmentProblem(
            f"disk full: {what}{error.strerror}",
            hint=f"free space and run again ({where}, with the file it was writing)",
        )
    if isinstance(error, OSError) and error.filename:
        return path_error(error, where)
    if isinstance(error, MemoryError):
        return EnvironmentProblem(f"out of memory ({where})")
    return Unexpected(
        f"unexpected {type(error).__name__}: {str(error)[:300]}",
        hint=f"{where}; please report it with that file",
    )


WHAT_TO_DO = {
    errno.EROFS: "it is on a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.EISDIR: "it is a directory",
    errno.ENOENT: "it does not exist",
    errno.EEXIST: "something is already there",
    errno.ENOTEMPTY: "the directory is not empty",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ELOOP: "too many symbolic links",
}


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        return False


def path_error(error: OSError, where: str) -> CpmatrixError:
    """An OS error about a path: the path, what is wrong, what to do. In dist/ it is an
    ArtifactError (exit 7); anywhere else (cache, build/, a file given) an EnvironmentProblem."""
    path = Path(os.fsdecode(error.filename))
    what = WHAT_TO_DO.get(error.errno or 0, (error.strerror or str(error)).lower())
    try:
        in_dist = _inside(path, layout.dist_root())
    except CpmatrixError:
        in_dist = False
    kind: type[CpmatrixError] = ArtifactError if in_dist else EnvironmentProblem
    variable = "CPMATRIX_DIST_DIR" if in_dist else "CPMATRIX_CACHE / CPMATRIX_BUILD_DIR"
    return kind(
        f"cannot use {path}: {what} ({error.strerror or error})",
        hint=f"make it writable (or point {variable} elsewhere) and run again ({where})",
    )


def shard(text: str) -> Shard:
    """``--shard N/M``, its numbers bounded before anything is computed from them."""
    found = _SHARD.match(text)
    if found is None or int(found.group(2)) > MAX_SHARDS:
        raise UsageError(
            f"--shard takes N/M with 1 <= N <= M <= {MAX_SHARDS}, e.g. 1/2; got {text[:40]!r}"
        )
    return Shard.parse(f"{int(found.group(1))}/{int(found.group(2))}")
