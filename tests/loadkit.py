"""Load on demand: more CPU-bound processes than this machine has cores."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def busy_count(extra: int = 2) -> int:
    return (os.cpu_count() or 1) * 2 + extra


@contextmanager
def saturated(count: int | None = None) -> Iterator[int]:
    """``count`` spinning processes (twice the cores and two more by default) for as long as
    the block runs; all killed and reaped when it ends, however it ends."""
    count = busy_count() if count is None else count
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield count
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()
