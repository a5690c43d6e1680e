"""Names that become paths: one character class where they enter, one join where they land.

A name from ``matrix.yaml`` (platform, variant, alias, consumer, the file name of a ``url``)
is checked by :func:`problem` when the file is read, and refused at ``matrix.yaml:LINE:COL``.
Whatever turns a name into a path (a cell's directory, a file in dist/, a journal entry, a
``SHA256SUMS`` line) goes through :func:`join`, which refuses anything that is not one plain
path component: the second wall, for names that come from files others wrote.
"""

from __future__ import annotations

import re
from pathlib import Path

from cpmatrix.util.errors import CpmatrixError

MAX_LENGTH = 64
"""Longest name matrix.yaml may give; a cell id of several such names stays under NAME_MAX."""

NAME_MAX = 255
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
CHARACTERS = "letters, digits, '.', '_', '+' and '-', starting with a letter or digit"


def shown(text: str) -> str:
    """A name for an error message: quoted, escaped, and cut short."""
    return repr(text[:80]) + ("…" if len(text) > 80 else "")


def problem(name: str, max_length: int = MAX_LENGTH) -> str | None:
    """Why ``name`` cannot be a name cpmatrix turns into a path, or None when it can."""
    if len(name) > max_length:
        return f"is {len(name)} characters long; a name has at most {max_length}"
    if not _NAME.fullmatch(name):
        return f"may hold only {CHARACTERS}"
    return None


def component_problem(name: str) -> str | None:
    """Why ``name`` is not one plain path component, or None when it is."""
    if name in ("", ".", ".."):
        return "is not a file name"
    if "/" in name or "\\" in name:
        return "holds a path separator"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "holds a control character"
    if len(name.encode("utf-8", "surrogateescape")) > NAME_MAX:
        return f"is longer than {NAME_MAX} bytes"
    return None


def join(root: Path, *names: str, what: str, error: type[CpmatrixError] = CpmatrixError) -> Path:
    """``root/name/…``, each name one plain path component; anything else is ``error``."""
    path = root
    for name in names:
        why = component_problem(name)
        if why is not None:
            raise error(
                f"{what} {shown(name)} {why}; cpmatrix refuses to make it a path under {root}",
                hint="a name here is one plain file name: no '/', '..' or control characters",
            )
        path = path / name
    return path
