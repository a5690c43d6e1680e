"""What a directory tree holds, as one digest or as a per-file listing.

``digest`` covers every path, its type, whether it is executable, and its content (a file's
sha256, a link's target): the install tree's identity between verification and packaging.
``listing`` adds sizes and modification times, so ``changes`` can tell with ``lstat`` alone
whether a tree (a cached source tree) still is what was listed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

CHUNK = 1 << 20


def _walk(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """(path relative to root, lstat) for everything under root, in a stable order."""
    for directory, names, files in os.walk(root):
        names.sort()
        base = Path(directory)
        for name in sorted([*names, *files]):
            path = base / name
            yield path.relative_to(root).as_posix(), path.lstat()


def _content(path: Path, status: os.stat_result) -> str:
    if stat.S_ISLNK(status.st_mode):
        return f"link:{path.readlink()}"
    if stat.S_ISDIR(status.st_mode):
        return "dir"
    if not stat.S_ISREG(status.st_mode):
        return f"special:{stat.S_IFMT(status.st_mode):o}"
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def digest(root: Path) -> str:
    """sha256 over every entry's path, type and content, and its owner-execute bit."""
    total = hashlib.sha256()
    for relative, status in _walk(root):
        executable = "x" if status.st_mode & stat.S_IXUSR else "-"
        total.update(f"{relative}\0{executable}\0{_content(root / relative, status)}\n".encode())
    return total.hexdigest()


Listing = dict[str, list[int]]
"""path -> [file type bits, size, mtime in ns]."""


def listing(root: Path) -> Listing:
    return {
        relative: [stat.S_IFMT(s.st_mode), s.st_size, s.st_mtime_ns] for relative, s in _walk(root)
    }


def changes(root: Path, expected: Mapping[str, list[int]], *, limit: int = 5) -> list[str]:
    """What differs from ``expected`` (at most ``limit`` items); empty when nothing does."""
    found: list[str] = []
    seen = set()
    for relative, status in _walk(root):
        seen.add(relative)
        want = expected.get(relative)
        now = [stat.S_IFMT(status.st_mode), status.st_size, status.st_mtime_ns]
        if want is None:
            found.append(f"{relative} was added")
        elif list(want) != now:
            found.append(f"{relative} changed")
        if len(found) >= limit:
            return found
    found += [f"{relative} is missing" for relative in sorted(set(expected) - seen)]
    return found[:limit]
