"""The one tar extraction cpmatrix does, for source tarballs and artifacts alike.

tarfile's own ``data`` filter judges paths with ``os.path.realpath`` and falls back to lexical
checks where that gives up (longer than PATH_MAX: CVE-2025-4517, fixed only in 3.11.13,
3.12.11 and 3.13.4+). So nothing here relies on tarfile to place a file: tarfile only parses
headers and streams contents. Every member is first placed in an in-memory model of the tree,
resolving each path component through the links already in it, exactly as the kernel would;
a member that leaves the archive's top directory at any step, names something that cannot
exist, or is too large, refuses the whole archive before anything is written. Then regular
files and directories are written to their resolved, link-free paths, hard links are made to
resolved regular files, and symbolic links come last, after every link in the final model was
resolved again (a link checked when it was added can be re-pointed by a later one:
``a -> s/..`` then ``s -> .``). Nothing is written through a link, because none exist on disk
until the end.
"""

from __future__ import annotations

import errno
import lzma
import os
import shutil
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAX_LINK_FOLLOWS = 40
"""Linux's own limit on symbolic links followed in one lookup (MAXSYMLINKS)."""
MAX_STEPS = 100_000
"""Path components processed while resolving one name: bounds the work a crafted chain asks."""
NAME_MAX = 255


class ArchiveRefused(Exception):
    """The archive could write outside its tree, or asks for more than is allowed."""

    def __init__(self, member: str, reason: str) -> None:
        super().__init__(f"member {member!r} {reason}" if member else reason)
        self.member = member
        self.reason = reason


class ArchiveUnreadable(Exception):
    """The bytes are not a complete tar archive (truncated, corrupt, not tar)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What one archive may ask for; a declared size above these refuses it before writing."""

    max_members: int = 200_000
    max_member_bytes: int = 4 << 30
    max_total_bytes: int = 16 << 30


SOURCE_LIMITS = Limits(max_members=50_000, max_member_bytes=256 << 20, max_total_bytes=2 << 30)
"""A CPython source tarball: ~5,000 members, ~120 MB extracted."""


_UNREADABLE = (tarfile.TarError, EOFError, lzma.LZMAError, zlib.error, OSError)


@dataclass(slots=True)
class _Node:
    kind: str  # "dir", "file", "link"
    target: str = ""  # a symlink's target as stored
    children: dict[str, _Node] = field(default_factory=dict)


@dataclass(slots=True)
class _Model:
    """The tree as it will be once extracted; paths are tuples of components under ``into``."""

    top: str
    root: _Node = field(default_factory=lambda: _Node("dir"))

    def node(self, parts: tuple[str, ...]) -> _Node | None:
        here: _Node | None = self.root
        for part in parts:
            if here is None or here.kind != "dir":
                return None
            here = here.children.get(part)
        return here

    def resolve(self, start: tuple[str, ...], path: str, *, follow_last: bool) -> tuple[str, ...]:
        """The link-free location of ``path`` looked up from directory ``start``.

        Raises ValueError(why) when the lookup leaves ``top`` at any step, is absolute, loops,
        or goes through something that is not a directory.
        """
        if path.startswith("/"):
            raise ValueError(f"leads to the absolute path {path!r}")
        where = list(start)
        pending = [p for p in reversed(path.split("/")) if p not in ("", ".")]
        follows = steps = 0
        while pending:
            steps += 1
            if steps > MAX_STEPS:
                raise ValueError(f"expands through links past {MAX_STEPS} path components")
            part = pending.pop()
            if part == "..":
                if len(where) <= 1:
                    raise ValueError("leaves the archive's top directory")
                where.pop()
                continue
            if not where and part != self.top:
                raise ValueError("leaves the archive's top directory")
            here = self.node((*where, part))
            if here is not None and here.kind == "link" and (pending or follow_last):
                follows += 1
                if follows > MAX_LINK_FOLLOWS:
                    raise ValueError(f"loops (more than {MAX_LINK_FOLLOWS} links followed)")
                if here.target.startswith("/"):
                    raise ValueError(f"leads to the absolute path {here.target!r}")
                pending.extend(p for p in reversed(here.target.split("/")) if p not in ("", "."))
                continue
            if here is not None and here.kind == "file" and pending:
                raise ValueError("goes through a file as if it were a directory")
            where.append(part)
        return tuple(where)

    def add(self, parts: tuple[str, ...], node: _Node) -> None:
        parent = self.root
        for part in parts[:-1]:
            parent = parent.children.setdefault(part, _Node("dir"))
            if parent.kind != "dir":
                raise ValueError("goes through a file as if it were a directory")
        old = parent.children.get(parts[-1])
        if old is not None and old.kind == "dir" and node.kind == "dir":
            return
        if old is not None and (old.kind == "dir" or node.kind == "dir"):
            raise ValueError("replaces a directory with a file or a file with a directory")
        parent.children[parts[-1]] = node

    def links(self) -> Iterator[tuple[tuple[str, ...], _Node]]:
        stack: list[tuple[tuple[str, ...], _Node]] = [((), self.root)]
        while stack:
            parts, here = stack.pop()
            for name, child in here.children.items():
                if child.kind == "link":
                    yield (*parts, name), child
                elif child.kind == "dir":
                    stack.append(((*parts, name), child))


@dataclass(frozen=True, slots=True)
class _Planned:
    member: tarfile.TarInfo
    parts: tuple[str, ...]  # where it goes, link-free
    source: tuple[str, ...] = ()  # a hard link's resolved target


def _components(name: str) -> tuple[str, ...]:
    if name.startswith("/") or (name[1:3] == ":\\" or name[1:3] == ":/"):
        raise ValueError("has an absolute path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise ValueError("has a '..' component")
    if "\0" in name or any(len(p.encode()) > NAME_MAX for p in parts):
        raise ValueError("has a name no file system accepts")
    return parts


def _hard_link_target(member: tarfile.TarInfo) -> str:
    return "/".join(_components(member.linkname))


def _kind_problem(member: tarfile.TarInfo) -> str | None:
    if member.ischr() or member.isblk():
        return "is a device file"
    if member.isfifo():
        return "is a FIFO"
    if member.issparse():
        return "is a sparse file"
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        return f"has an unsupported type {member.type!r}"
    return None


def _path_max(into: Path) -> int:
    try:
        return os.pathconf(into, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):  # AttributeError: Windows has no pathconf
        return 4096


def plan(archive: tarfile.TarFile, into: Path, limits: Limits) -> tuple[str, list[_Planned]]:
    """Read every header and judge it; returns (top directory, what to extract in order)."""
    path_max = _path_max(into) - len(str(into)) - 2
    model: _Model | None = None
    planned: list[_Planned] = []
    total, last_offset = 0, -1
    for count, member in enumerate(_members(archive), start=1):
        if count > limits.max_members:
            raise ArchiveRefused("", f"has more than {limits.max_members} members")
        if member.offset <= last_offset:
            raise ArchiveRefused(member.name, "has a header that points backwards")
        last_offset = member.offset
        try:
            parts = _header_parts(member, limits)
            total += member.size if member.isreg() else 0
            if total > limits.max_total_bytes:
                raise ValueError(f"takes the archive past {limits.max_total_bytes} bytes")
            if not parts:
                continue
            model = model or _Model(top=parts[0])
            item = _place(model, member, parts, path_max)
        except ValueError as why:
            raise ArchiveRefused(member.name, str(why)) from None
        if item is not None:
            planned.append(item)
    if model is None:
        raise ArchiveRefused("", "is empty")
    for parts, link in model.links():
        try:
            _resolved(model, parts[:-1], link.target, _link_words(link.target))
        except ValueError as why:
            raise ArchiveRefused("/".join(parts), str(why)) from None
        planned.append(_Planned(_symlink(parts, link.target), parts))
    return model.top, planned


def _header_parts(member: tarfile.TarInfo, limits: Limits) -> tuple[str, ...]:
    """The member's name as components, after the checks its header alone allows."""
    parts = _components(member.name)
    if not parts and not member.isdir():
        raise ValueError("has an empty name")
    problem = _kind_problem(member)
    if problem is not None:
        raise ValueError(problem)
    if member.size < 0 or member.size > limits.max_member_bytes:
        raise ValueError(f"declares {member.size} bytes, over {limits.max_member_bytes} for a file")
    return parts


def _place(
    model: _Model, member: tarfile.TarInfo, parts: tuple[str, ...], path_max: int
) -> _Planned | None:
    """Add the member to the model; what to write for it (symlinks wait until the end)."""
    if len(parts) == 1 and not member.isdir():
        raise ValueError("is not inside a top-level directory")
    if parts[0] != model.top:
        raise ValueError(f"is outside {model.top!r}: an archive must hold one top-level directory")
    placed = (*_resolved(model, (), "/".join(parts[:-1]), "has a path that"), parts[-1])
    if len("/".join(placed).encode()) > path_max:
        raise ValueError("resolves to a path longer than the system allows (PATH_MAX)")
    if member.issym():
        if len(member.linkname.encode()) > path_max or "\0" in member.linkname:
            raise ValueError("is a symlink whose target is longer than PATH_MAX")
        _resolved(model, placed[:-1], member.linkname, _link_words(member.linkname))
        model.add(placed, _Node("link", target=member.linkname))
        return None
    if member.islnk():
        try:
            source = model.resolve((), _hard_link_target(member), follow_last=False)
        except ValueError as why:
            raise ValueError(f"is a hard link to {member.linkname!r} that {why}") from None
        target = model.node(source)
        if source == placed or target is None or target.kind != "file":
            raise ValueError(f"is a hard link to {member.linkname!r}, not to a file before it")
        model.add(placed, _Node("file"))
        return _Planned(member, placed, source)
    model.add(placed, _Node("dir" if member.isdir() else "file"))
    return _Planned(member, placed)


def _link_words(target: str) -> str:
    return f"is a symlink to {target!r} that"


def _resolved(model: _Model, start: tuple[str, ...], path: str, words: str) -> tuple[str, ...]:
    try:
        return model.resolve(start, path, follow_last=True)
    except ValueError as why:
        raise ValueError(f"{words} {why}") from None


def _symlink(parts: tuple[str, ...], target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo("/".join(parts))
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


MAX_EXTENDED_HEADER = 1 << 20
"""A pax or GNU long-name header holds a path or two (PATH_MAX is 4096): tarfile reads one
whole into memory, so a larger one is refused before it is read."""
_EXTENDED = (
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
)


class BoundedTarInfo(tarfile.TarInfo):
    """tarfile's header parser, refusing an extended header larger than MAX_EXTENDED_HEADER
    and GNU sparse headers (whose extension blocks chain without end) before reading them."""

    def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _EXTENDED and self.size > MAX_EXTENDED_HEADER:
            raise ArchiveRefused(
                "",
                f"declares an extended header of {self.size} bytes (at most "
                f"{MAX_EXTENDED_HEADER} are read)",
            )
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise ArchiveRefused(self.name, "is a sparse file")
        return super()._proc_member(archive)  # type: ignore[misc, no-any-return]


def open_bounded(path: Path) -> tarfile.TarFile:
    """``tarfile.open(path)`` for reading, with extended headers bounded."""
    return tarfile.open(path, mode="r:*", tarinfo=BoundedTarInfo)


def _members(archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    while (member := archive.next()) is not None:
        yield member


def _mode(member: tarfile.TarInfo) -> int:
    """Like tarfile's data filter: no set-id or sticky bits, no group/other write."""
    mode = member.mode & 0o755
    return (mode | 0o700) if member.isdir() else (mode | 0o600)


def _write(archive: tarfile.TarFile, into: Path, item: _Planned) -> None:
    member, path = item.member, into.joinpath(*item.parts)
    path.parent.mkdir(parents=True, exist_ok=True)  # link-free: no link is on disk yet
    if member.isdir():
        path.mkdir(exist_ok=True)
        return
    if member.issym():
        path.unlink(missing_ok=True)
        path.symlink_to(member.linkname)
        return
    path.unlink(missing_ok=True)
    if member.islnk():
        path.hardlink_to(into.joinpath(*item.source))
        return
    stream = archive.extractfile(member)
    assert stream is not None  # a regular file always has one
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with stream, os.fdopen(os.open(path, flags, _mode(member)), "wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    path.chmod(_mode(member))
    os.utime(path, (member.mtime, member.mtime))


def inspect(path: Path, *, limits: Limits) -> str:
    """Judge every header of the archive at ``path`` as :func:`extract` would, writing
    nothing; its top directory. Raises ArchiveRefused or ArchiveUnreadable."""
    try:
        with open_bounded(path) as archive:
            top, _ = plan(archive, path.parent, limits)
    except (OSError, *_UNREADABLE) as error:
        raise ArchiveUnreadable(str(error) or type(error).__name__) from None
    return top


def extract(
    path: Path,
    into: Path,
    *,
    limits: Limits = Limits(),
    on_member: Callable[[int], None] | None = None,
) -> Path:
    """Extract the archive at ``path`` into the empty directory ``into``; its top directory.

    Raises ArchiveRefused (nothing written), ArchiveUnreadable, or OSError with an errno when
    writing fails (disk full: checked against the declared sizes first). After either of the
    last two ``into`` may hold part of it: callers extract into scratch space and drop it.
    """
    try:
        with open_bounded(path) as archive:
            top, planned = plan(archive, into, limits)
            needed = sum(item.member.size for item in planned if item.member.isreg())
            free = shutil.disk_usage(into).free
            if needed > free:
                message = f"extracting needs {needed} bytes, {free} are free"
                raise OSError(errno.ENOSPC, message, str(into))
            directories: list[_Planned] = []
            for count, item in enumerate(planned, start=1):
                _write(archive, into, item)
                if item.member.isdir():
                    directories.append(item)
                if on_member is not None:
                    on_member(count)
            for item in reversed(directories):
                directory = into.joinpath(*item.parts)
                directory.chmod(_mode(item.member))
                os.utime(directory, (item.member.mtime, item.member.mtime))
    except ArchiveRefused:
        raise
    except OSError as error:
        if error.errno is not None:  # writing failed (disk full, permissions): not the archive
            raise
        raise ArchiveUnreadable(str(error) or type(error).__name__) from None
    except _UNREADABLE as error:
        raise ArchiveUnreadable(str(error) or type(error).__name__) from None
    root = into / top
    if not root.is_dir() or root.is_symlink():
        raise ArchiveRefused(top, "is the top level but not a directory")
    return root
