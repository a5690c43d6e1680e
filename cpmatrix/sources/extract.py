"""Safe extraction: refuse any member that could land outside the tree, then use tarfile's
``data`` filter as a second line. Extraction goes to a scratch directory; the caller renames it
into place only when it is complete."""

from __future__ import annotations

import lzma
import posixpath
import tarfile
import zlib
from pathlib import Path, PurePosixPath

from cpmatrix.errors import SourceError

CPYTHON_MARKERS = ("configure", "Include/patchlevel.h")
_CORRUPT = (tarfile.TarError, EOFError, lzma.LZMAError, zlib.error, OSError)


def unsafe_reason(member: tarfile.TarInfo) -> str | None:
    """Why a member must not be extracted, or None.

    A link must point inside the member's own top-level directory: that directory alone becomes
    the tree, so a link to a sibling would escape it once the tree is renamed into place.
    """
    name = member.name
    if name.startswith("/") or PurePosixPath(name).is_absolute() or ":" in name.split("/")[0]:
        return "has an absolute path"
    if ".." in PurePosixPath(name).parts:
        return "has a '..' component"
    if member.ischr() or member.isblk() or member.isfifo():
        return "is a device or FIFO"
    parts = PurePosixPath(name).parts
    top = parts[0] if parts else "."
    if member.issym():
        if member.linkname.startswith("/"):
            return f"is a symlink to the absolute path {member.linkname!r}"
        if not _inside(posixpath.join(posixpath.dirname(name), member.linkname), top):
            return f"is a symlink escaping the tree ({member.linkname!r})"
    if member.islnk() and not _inside(member.linkname, top):
        return f"is a hard link escaping the tree ({member.linkname!r})"
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        return f"has an unsupported type {member.type!r}"
    return None


def _inside(path: str, top: str) -> bool:
    normal = posixpath.normpath(path)
    return normal == top or normal.startswith(f"{top}/")


def extract(tarball: Path, into: Path) -> Path:
    """Extract ``tarball`` into the empty directory ``into``; return its one top-level directory."""
    tops: set[str] = set()

    def checked(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo | None:
        reason = unsafe_reason(member)
        if reason is not None:
            raise SourceError(
                f"refusing {tarball.name}: member {member.name!r} {reason}",
                hint="this archive is not a CPython release tarball; nothing was kept from it",
            )
        parts = PurePosixPath(member.name).parts
        if parts:
            tops.add(parts[0])
        return tarfile.data_filter(member, destination)

    try:
        with tarfile.open(tarball, mode="r:*") as archive:
            archive.extractall(into, filter=checked)
    except SourceError:
        raise
    except _CORRUPT as error:
        raise SourceError(
            f"{tarball.name} is truncated or corrupt: {error or type(error).__name__}",
            hint="remove it (invoke clean --sources) and fetch it again",
        ) from None
    roots = [into / top for top in sorted(tops)]
    if len(roots) != 1 or not roots[0].is_dir():
        listing = ", ".join(sorted(tops)) or "nothing"
        raise SourceError(
            f"{tarball.name} must hold one top-level directory, holds: {listing[:200]}",
            hint="a CPython release tarball unpacks into Python-X.Y.Z/",
        )
    missing = [name for name in CPYTHON_MARKERS if not (roots[0] / name).is_file()]
    if missing:
        raise SourceError(
            f"{tarball.name} is not a CPython source tree: no {', '.join(missing)}",
            hint="--source takes a CPython release tarball (Python-X.Y.Z.tar.xz) or a checkout",
        )
    return roots[0]
