"""The GitHub Actions matrix: a pure function of the cells.

GitHub refuses a matrix of more than 256 jobs, so a larger selection is cut into numbered
shards; it is never emitted whole.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cpmatrix import features as fx
from cpmatrix.matrix import Cell
from cpmatrix.util.errors import UsageError

GITHUB_MAX_JOBS = 256


@dataclass(frozen=True, slots=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        number, _, total = text.partition("/")
        try:
            shard = cls(int(number), int(total))
        except ValueError:
            raise UsageError(f"--shard takes N/M, e.g. 1/2; got {text!r}") from None
        if not 1 <= shard.index <= shard.count:
            raise UsageError(f"--shard {text}: N must be between 1 and M")
        return shard


def job(cell: Cell) -> dict[str, str]:
    """One matrix entry; the workflow reads these keys (tests check it uses no others)."""
    return {
        "cell": cell.id,
        "python": str(cell.python.release),
        "series": cell.python.series.minor_text,
        "variant": cell.variant.name,
        "platform": cell.platform.name,
        "profile": cell.profile,
        "runner": cell.platform.runner,
        "builder": cell.platform.builder,
        "llvm": llvm_to_install(cell),
    }


def llvm_to_install(cell: Cell) -> str:
    """The LLVM major the cell builds with (macOS: ``brew install llvm@N``; Windows: Chocolatey's
    ``llvm`` N for the JIT), or "" for none: features' rule, the same one the builders ask."""
    major = fx.toolchain(cell.version, cell.features, cell.platform.os).llvm_major
    return "" if major is None else str(major)


def shards_needed(count: int, max_jobs: int = GITHUB_MAX_JOBS) -> int:
    return max(1, math.ceil(count / max_jobs))


def split(cells: Sequence[Cell], count: int) -> list[list[Cell]]:
    """Cut cells into `count` shards of nearly equal size, keeping the cells' order."""
    size = math.ceil(len(cells) / count) if cells else 0
    return [list(cells[i * size : (i + 1) * size]) for i in range(count)]


def github_matrix(
    cells: Sequence[Cell], shard: Shard | None = None, max_jobs: int = GITHUB_MAX_JOBS
) -> dict[str, Any]:
    """The object for ``strategy.matrix: ${{ fromJSON(...) }}``: ``{"include": [...]}``."""
    needed = shards_needed(len(cells), max_jobs)
    if shard is None:
        if needed > 1:
            raise UsageError(
                f"{len(cells)} cells exceed GitHub's {max_jobs}-job limit for one matrix",
                hint=f"use --shard 1/{needed} … {needed}/{needed}, or --format github-shards",
            )
        return {"include": [job(cell) for cell in cells]}
    if shard.count < needed:
        raise UsageError(
            f"{len(cells)} cells need at least {needed} shards of {max_jobs} jobs; "
            f"--shard {shard.index}/{shard.count} would still pass the limit"
        )
    return {"include": [job(cell) for cell in split(cells, shard.count)[shard.index - 1]]}


def github_shards(cells: Sequence[Cell], max_jobs: int = GITHUB_MAX_JOBS) -> dict[str, Any]:
    """Every shard at once: ``{"count": M, "shards": [{"include": [...]}, ...]}``."""
    count = shards_needed(len(cells), max_jobs)
    return {
        "count": count,
        "shards": [{"include": [job(c) for c in part]} for part in split(cells, count)],
    }
