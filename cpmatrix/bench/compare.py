"""Each column against the baseline column, benchmark by benchmark, as ``pyperf compare_to``
judges it: the ratio of means, the significance test and the wording are pyperf's own functions
(the ones ``compare_to`` calls), not a reimplementation.

A column's geometric mean covers the benchmarks it shares with the baseline, which is what
``python -m pyperf compare_to baseline.json column.json`` prints for that pair.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyperf
from pyperf._compare import (
    compute_normalized_mean,
    format_normalized_mean,
    is_significant_benchs,
)
from pyperf._utils import geometric_mean

from cpmatrix.util.errors import UsageError

UNTAGGED = "other"


@dataclass(frozen=True, slots=True, kw_only=True)
class Versus:
    """One benchmark of one column against the baseline."""

    mean: float
    mean_text: str
    ratio: float
    """The column's mean over the baseline's: below 1 is faster (compare_to's ``norm_mean``)."""
    significant: bool
    t_score: float | None

    @property
    def text(self) -> str:
        return format_normalized_mean(self.ratio) if self.significant else "not significant"


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    benchmark: str
    unit: str
    baseline_mean: float
    baseline_text: str
    versus: Mapping[str, Versus | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteTable:
    tag: str
    baseline: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    geometric_means: Mapping[str, float | None]

    def geometric_text(self, column: str) -> str:
        value = self.geometric_means.get(column)
        return "—" if value is None else format_normalized_mean(value)


def load(path: Path) -> Any:
    return pyperf.BenchmarkSuite.load(str(path))


def _tag(bench: Any) -> str:
    tags = bench.get_metadata().get("tags") or [UNTAGGED]
    return str(tags[0])


def versus(baseline: Any, other: Any) -> Versus:
    """One pyperf benchmark against the same benchmark of the baseline, as compare_to does."""
    significant, t_score = is_significant_benchs(baseline, other)
    return Versus(
        mean=other.mean(),
        mean_text=other.format_value(other.mean()),
        ratio=compute_normalized_mean(other, baseline),
        significant=bool(significant),
        t_score=t_score,
    )


def compare(suites: Mapping[str, Any], baseline: str) -> list[SuiteTable]:
    """Tables per suite tag for columns (name → loaded pyperf suite), in the baseline's order."""
    if baseline not in suites:
        raise UsageError(f"no column named {baseline!r} to compare against", hint=f"{list(suites)}")
    others = tuple(name for name in suites if name != baseline)
    by_tag: dict[str, list[Row]] = {}
    for bench in suites[baseline]:
        name = bench.get_name()
        against = {}
        for column in others:
            names = suites[column].get_benchmark_names()
            against[column] = (
                versus(bench, suites[column].get_benchmark(name)) if name in names else None
            )
        row = Row(
            benchmark=name,
            unit=bench.get_unit(),
            baseline_mean=bench.mean(),
            baseline_text=bench.format_value(bench.mean()),
            versus=against,
        )
        by_tag.setdefault(_tag(bench), []).append(row)
    return [_table(tag, baseline, others, rows) for tag, rows in by_tag.items()]


def _table(tag: str, baseline: str, others: Sequence[str], rows: list[Row]) -> SuiteTable:
    means: dict[str, float | None] = {}
    for column in others:
        ratios = [v.ratio for row in rows if (v := row.versus[column]) is not None]
        means[column] = geometric_mean(ratios) if len(ratios) > 1 else None
    return SuiteTable(
        tag=tag,
        baseline=baseline,
        columns=tuple(others),
        rows=tuple(rows),
        geometric_means=means,
    )


def table_rows(table: SuiteTable) -> tuple[list[str], list[list[str]]]:
    """Headers and cells as compare_to's ``--table`` words them, plus the geometric mean."""
    headers = ["Benchmark", table.baseline, *table.columns]
    rows = []
    for row in table.rows:
        cells = [row.benchmark, row.baseline_text]
        for column in table.columns:
            versus = row.versus[column]
            cells.append("—" if versus is None else _cell_text(versus))
        rows.append(cells)
    if any(value is not None for value in table.geometric_means.values()):
        rows.append(["Geometric mean", "(ref)", *(table.geometric_text(c) for c in table.columns)])
    return headers, rows


def _cell_text(versus: Versus) -> str:
    return f"{versus.mean_text}: {versus.text}" if versus.significant else "not significant"


def compare_to_output(baseline: Path, others: Sequence[Path]) -> str:
    """pyperf's own ``compare_to --table`` over the columns' files (kept beside the report, so
    a reader can check our tables against pyperf's)."""
    completed = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to", "--table", "--table-format", "md",
         str(baseline), *map(str, others)],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    return completed.stdout if completed.returncode == 0 else completed.stdout + completed.stderr
