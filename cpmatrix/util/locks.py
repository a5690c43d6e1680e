"""A file lock that says when it waits: another cpmatrix run holds it, and for how long."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from cpmatrix.util import console
from cpmatrix.util.errors import CpmatrixError

DEFAULT_TIMEOUT = 3600.0


@contextlib.contextmanager
def held(
    path: Path,
    *,
    purpose: str,
    timeout: float = DEFAULT_TIMEOUT,
    gave_up: Callable[[str], CpmatrixError],
) -> Iterator[None]:
    """Hold the lock at ``path``; waiting is reported; ``gave_up(message)`` after ``timeout``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0.05)
    except Timeout:
        console.info(f"waiting for another cpmatrix run that is {purpose} (it holds {path})")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise gave_up(f"gave up waiting {timeout / 60:.0f} minutes for {path}") from None
    try:
        yield
    finally:
        lock.release()
