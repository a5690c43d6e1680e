"""The tree an archive will make, modelled in memory before anything is written.

Every path is resolved component by component through the links already in the model, as the
kernel would resolve it on disk; :mod:`cpmatrix.util.safetar` refuses an archive as soon as a
lookup leaves its top directory, loops or goes through a file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_LINK_FOLLOWS = 40
"""Linux's own limit on symbolic links followed in one lookup (MAXSYMLINKS)."""
MAX_STEPS = 100_000
"""Path components processed while resolving one name: bounds the work a crafted chain asks."""


@dataclass(slots=True)
class Node:
    kind: str  # "dir", "file", "link"
    target: str = ""  # a symlink's target as stored
    children: dict[str, Node] = field(default_factory=dict)


@dataclass(slots=True)
class TreeModel:
    """The tree as it will be once extracted; paths are tuples of components under ``into``."""

    top: str
    root: Node = field(default_factory=lambda: Node("dir"))

    def node(self, parts: tuple[str, ...]) -> Node | None:
        here: Node | None = self.root
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

    def add(self, parts: tuple[str, ...], node: Node) -> None:
        parent = self.root
        for part in parts[:-1]:
            parent = parent.children.setdefault(part, Node("dir"))
            if parent.kind != "dir":
                raise ValueError("goes through a file as if it were a directory")
        old = parent.children.get(parts[-1])
        if old is not None and old.kind == "dir" and node.kind == "dir":
            return
        if old is not None and (old.kind == "dir" or node.kind == "dir"):
            raise ValueError("replaces a directory with a file or a file with a directory")
        parent.children[parts[-1]] = node

    def links(self) -> Iterator[tuple[tuple[str, ...], Node]]:
        stack: list[tuple[tuple[str, ...], Node]] = [((), self.root)]
        while stack:
            parts, here = stack.pop()
            for name, child in here.children.items():
                if child.kind == "link":
                    yield (*parts, name), child
                elif child.kind == "dir":
                    stack.append(((*parts, name), child))
