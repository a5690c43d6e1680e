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

from cpmatrix import layout
from cpmatrix.ci import Shard
from cpmatrix.errors import CpmatrixError, EnvironmentProblem, UsageError

DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
MAX_SHARDS = 10_000
_SHARD = re.compile(r"^\s*(\d{1,6})\s*/\s*(\d{1,6})\s*$")


class Unexpected(CpmatrixError):
    """An exception cpmatrix has no message for: a bug, or a case nobody foresaw."""

    exit_code = 70  # EX_SOFTWARE


def log_traceback(error: BaseException) -> Path | None:
    """Write the traceback to the cache's logs/ directory; its path, or None if that failed."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = layout.cache_dir() / "logs" / f"error-{stamp}-{os.getpid()}.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
    except OSError:
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
    if isinstance(error, MemoryError):
        return EnvironmentProblem(f"out of memory ({where})")
    return Unexpected(
        f"unexpected {type(error).__name__}: {str(error)[:300]}",
        hint=f"{where}; please report it with that file",
    )


def shard(text: str) -> Shard:
    """``--shard N/M``, its numbers bounded before anything is computed from them."""
    found = _SHARD.match(text)
    if found is None or int(found.group(2)) > MAX_SHARDS:
        raise UsageError(
            f"--shard takes N/M with 1 <= N <= M <= {MAX_SHARDS}, e.g. 1/2; got {text[:40]!r}"
        )
    return Shard.parse(f"{int(found.group(1))}/{int(found.group(2))}")
