"""A CPython source tarball extracted by :mod:`cpmatrix.util.safetar` and checked to be CPython.

Extraction goes to a scratch directory; the caller renames it into place only when complete.
"""

from __future__ import annotations

from pathlib import Path

from cpmatrix.util import safetar
from cpmatrix.util.errors import SourceError

CPYTHON_MARKERS = ("configure", "Include/patchlevel.h")


class Refused(SourceError):
    """The tarball could write outside its tree or asks too much: it is removed, not re-fetched."""


def extract(tarball: Path, into: Path) -> Path:
    """Extract ``tarball`` into the empty directory ``into``; return its one top-level directory."""
    try:
        top = safetar.extract(tarball, into, limits=safetar.SOURCE_LIMITS)
    except safetar.ArchiveRefused as refused:
        raise Refused(
            f"refused {tarball.name}: {refused}",
            hint="this archive is not a safe CPython release tarball; nothing was extracted",
        ) from None
    except safetar.ArchiveUnreadable as error:
        raise SourceError(
            f"{tarball.name} is truncated or corrupt: {error}",
            hint="remove it (invoke clean --sources) and fetch it again",
        ) from None
    except OSError as error:
        raise SourceError(
            f"cannot extract {tarball.name} into {error.filename or into}: {error.strerror}",
            hint="free space or fix permissions there, then run again",
        ) from None
    missing = [name for name in CPYTHON_MARKERS if not (top / name).is_file()]
    if missing:
        raise SourceError(
            f"{tarball.name} is not a CPython source tree: no {', '.join(missing)}",
            hint="--source takes a CPython release tarball (Python-X.Y.Z.tar.xz) or a checkout",
        )
    return top
