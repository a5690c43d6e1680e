"""Figures others published, kept in one place with their source and date, and our own
measurement of the same thing beside them.

The JIT: faster-cpython's public benchmarking measures CPython's JIT against the same build with
it off, as a geometric mean over pyperformance's default set. When a report has two columns of
one interpreter that differ only in ``PYTHON_JIT`` (0 and 1, like the debian-jit preset's
``3.15 JIT off`` / ``3.15 JIT on``), it shows our geometric mean for that pair next to theirs,
with the benchmark set each was measured on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyperf._compare import format_normalized_mean

from cpmatrix.bench import compare
from cpmatrix.bench.pyperformance import TAG
from cpmatrix.bench.runner import ColumnResult


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishedSpeedup:
    """A published "X vs base" figure: speed-ups as base time over X time (1.05 = 5 % faster)."""

    what: str
    geometric_mean: float
    per_benchmark: Mapping[str, float]
    benchmark_set: str
    architecture: str
    source: str
    date: str


FASTER_CPYTHON_JIT = PublishedSpeedup(
    what="JIT vs base (same build, JIT off)",
    geometric_mean=1.05,
    per_benchmark={"nbody": 1.25, "float": 1.19},
    benchmark_set="pyperformance's full default set (~95 benchmarks)",
    architecture="x86_64",
    source="faster-cpython's public benchmarking results "
    "(github.com/faster-cpython/benchmarking-public), as quoted in cpmatrix issue #14",
    date="January 2026",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class JitPair:
    """Our JIT-on column against the JIT-off column of the same interpreter."""

    off: str
    on: str
    speedup: float | None
    """Geometric mean of off-time over on-time across the benchmarks both measured."""
    per_benchmark: Mapping[str, float]
    benchmarks: tuple[str, ...]
    not_significant: frozenset[str] = frozenset()
    """Benchmarks whose difference pyperf's t-test does not call significant."""


def jit_pairs(results: Sequence[ColumnResult]) -> list[tuple[str, str]]:
    """Column pairs (off, on) of one interpreter in one place differing only in PYTHON_JIT."""
    pairs = []
    for off in results:
        env = dict(off.column.env)
        if env.get("PYTHON_JIT") != "0":
            continue
        for on in results:
            other = dict(on.column.env)
            if (
                on.column.interpreter == off.column.interpreter
                and on.column.image == off.column.image
                and other == {**env, "PYTHON_JIT": "1"}
            ):
                pairs.append((off.column.name, on.column.name))
    return pairs


def measure_jit(results: Sequence[ColumnResult], loaded: Mapping[str, Any]) -> list[JitPair]:
    """Our JIT speed-up per pair, over the pyperformance benchmarks both columns measured."""
    measured = []
    for off, on in jit_pairs(results):
        tables = compare.compare({off: loaded[off], on: loaded[on]}, off)
        rows = [
            (row.benchmark, versus.ratio, versus.significant)
            for table in tables
            if table.tag == TAG
            for row in table.rows
            if (versus := row.versus[on]) is not None
        ]
        if not rows:
            continue
        mean = next(t.geometric_means[on] for t in tables if t.tag == TAG)
        measured.append(
            JitPair(
                off=off,
                on=on,
                speedup=None if mean is None else 1 / mean,
                per_benchmark={name: 1 / ratio for name, ratio, _ in rows},
                benchmarks=tuple(name for name, _, _ in rows),
                not_significant=frozenset(name for name, _, significant in rows if not significant),
            )
        )
    return measured


def speedup_text(speedup: float | None) -> str:
    return "—" if speedup is None else format_normalized_mean(1 / speedup)


def _measured_text(pair: JitPair, name: str) -> str:
    text = speedup_text(pair.per_benchmark.get(name))
    return f"{text} (not significant)" if name in pair.not_significant else text


def jit_markdown(pairs: Sequence[JitPair], published: PublishedSpeedup = FASTER_CPYTHON_JIT) -> str:
    """Our JIT geometric mean per pair beside the published one, each with its benchmark set."""
    headers = ["", "geometric mean", *published.per_benchmark, "benchmark set"]
    rows = [
        [
            f"ours: {pair.on} vs {pair.off}",
            speedup_text(pair.speedup),
            *(_measured_text(pair, name) for name in published.per_benchmark),
            f"{len(pair.benchmarks)} pyperformance benchmarks: {', '.join(pair.benchmarks)}",
        ]
        for pair in pairs
    ]
    rows.append(
        [
            f"published: {published.what}, {published.architecture}, {published.date}",
            speedup_text(published.geometric_mean),
            *(speedup_text(v) for v in published.per_benchmark.values()),
            published.benchmark_set,
        ]
    )
    from cpmatrix.util import console

    note = (
        f"Source of the published figure: {published.source}. A geometric mean depends on the "
        "benchmark set: ours covers only the benchmarks listed, theirs the whole default set."
    )
    return console.markdown_table(headers, rows) + "\n\n" + note


def jit_json(
    pairs: Sequence[JitPair], published: PublishedSpeedup = FASTER_CPYTHON_JIT
) -> dict[str, Any]:
    return {
        "ours": [
            {
                "off": pair.off,
                "on": pair.on,
                "speedup_geometric_mean": pair.speedup,
                "speedup_per_benchmark": dict(pair.per_benchmark),
                "benchmarks": list(pair.benchmarks),
                "not_significant": sorted(pair.not_significant),
            }
            for pair in pairs
        ],
        "published": {
            "what": published.what,
            "speedup_geometric_mean": published.geometric_mean,
            "speedup_per_benchmark": dict(published.per_benchmark),
            "benchmark_set": published.benchmark_set,
            "architecture": published.architecture,
            "source": published.source,
            "date": published.date,
        },
    }
