"""The one reader for every JSON document cpmatrix reads: bounded, finite, typed.

Build and verification records, manifests, ``index.json``, the cache's ``origin.json`` and
tree listings all come through :func:`read`. A document is refused, with an error that names
the file, when it is larger than its bound (read no further than that), nests deeper than
:data:`MAX_DEPTH`, is not UTF-8, holds ``NaN``/``Infinity`` or a number too large to be
finite, holds a string that is not text, or is not a JSON object at the top.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from cpmatrix.util.errors import CpmatrixError

MAX_BYTES = 16 * 1024 * 1024
"""The default bound: the largest record cpmatrix writes (a verification report) is ~100 KiB."""
MAX_DEPTH = 32


class _Refused(ValueError):
    """A value the parser hooks refuse; becomes the caller's error."""


def _no_constant(word: str) -> Any:
    raise _Refused(f"{word} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:40]} is too large to be finite")
    return value


def _check_tree(data: Any, max_depth: int) -> None:
    """Refuse nesting beyond ``max_depth`` and strings with lone surrogates, without recursing."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            items: list[Any] = [*value.keys(), *value.values()]
        elif isinstance(value, list):
            items = value
        elif isinstance(value, str):
            value.encode("utf-8")  # UnicodeEncodeError on "\ud800"
            continue
        else:
            continue
        if depth > max_depth:
            raise _Refused(f"values nest more than {max_depth} deep")
        pending.extend((item, depth + 1) for item in items)


def _value(raw: bytes, *, where: str, error: type[CpmatrixError], max_depth: int) -> Any:
    """Any JSON value from ``raw`` within the bounds; anything else is ``error``."""
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
        _check_tree(data, max_depth)
    except RecursionError:
        problem = f"nests more than {max_depth} deep"
    except UnicodeError:
        problem = "is not UTF-8 text (or holds a string that is not text)"
    except _Refused as failed:
        problem = f"is refused: {failed}"
    except ValueError as failed:  # JSONDecodeError, int() of thousands of digits
        problem = f"is not valid JSON: {str(failed)[:200]}"
    else:
        return data
    raise error(f"cannot read {where}: it {problem}")


def parse(
    raw: bytes, *, where: str, error: type[CpmatrixError], max_depth: int = MAX_DEPTH
) -> dict[str, Any]:
    """A JSON object from ``raw``; anything else is ``error`` naming ``where``."""
    data = _value(raw, where=where, error=error, max_depth=max_depth)
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise error(f"cannot read {where}: it is not a JSON object (it is a {kind})")
    return data


def _bytes(
    path: Path, what: str, error: type[CpmatrixError], max_bytes: int, hint: str | None
) -> bytes:
    """At most ``max_bytes`` of ``path``; a missing or larger file is ``error``."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(max_bytes + 1)
    except OSError as failed:
        raise error(
            f"cannot read the {what} {path}: {failed.strerror or failed}", hint=hint
        ) from None
    if len(raw) > max_bytes:
        raise error(
            f"the {what} {path} is larger than {max_bytes // 1024} KiB; cpmatrix reads no more",
            hint=hint,
        )
    return raw


def read(
    path: Path,
    *,
    what: str,
    error: type[CpmatrixError],
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    hint: str | None = None,
) -> dict[str, Any]:
    """The JSON object in ``path`` (``what`` says which document), read no further than
    ``max_bytes``; every problem, a missing file included, is ``error``."""
    raw = _bytes(path, what, error, max_bytes, hint)
    return parse(raw, where=f"the {what} {path}", error=error, max_depth=max_depth)


def read_list(
    path: Path, *, what: str, error: type[CpmatrixError], max_bytes: int = MAX_BYTES
) -> list[Any]:
    """As :func:`read`, for a document that is a JSON list."""
    where = f"the {what} {path}"
    data = _value(
        _bytes(path, what, error, max_bytes, None), where=where, error=error, max_depth=MAX_DEPTH
    )
    if not isinstance(data, list):
        raise error(f"cannot read {where}: it is not a JSON list")
    return data
