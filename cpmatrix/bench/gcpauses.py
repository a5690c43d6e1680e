"""Garbage-collector pauses (``programs/gcpauses.py`` records them) as pyperf benchmarks and as
the statistics the release-claims report quotes.

Every run is one fresh interpreter running the workload. Per run the program records each
collection's pause (``gc.callbacks`` start to stop), the workload's wall time and how many
objects the collector found unreachable. They become pyperf benchmarks, so that compare.py's
ratios and significance apply to them as to any other benchmark:

- ``gc-pause``: every pause of every run (one pyperf run per interpreter run), from which the
  report takes the median, the 99th percentile and the maximum;
- ``gc-pause-max`` and ``gc-pause-p99``: one value per run, the run's maximum and 99th
  percentile pause: the samples the significance test compares;
- ``gc-time`` and ``gc-workload``: per run, the sum of the pauses and the workload's wall time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyperf

from cpmatrix.util.errors import BenchmarkFailed

TAG = "release-claims"
PAUSES = "gc-pause"
MAX = "gc-pause-max"
P99 = "gc-pause-p99"
TOTAL = "gc-time"
WORKLOAD = "gc-workload"


def nearest_rank(values: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``percent`` % of the values
    at or below it (so p100 is the maximum and every answer is a measured value)."""
    if not values:
        raise ValueError("no values")
    if not 0 < percent <= 100:
        raise ValueError(f"percent {percent} is not in (0, 100]")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


@dataclass(frozen=True, slots=True, kw_only=True)
class PauseStats:
    """All pauses of all runs of one column taken together."""

    runs: int
    collections_per_run: float
    median: float
    p99: float
    max: float
    gc_seconds_per_run: float
    workload_seconds_per_run: float

    @property
    def gc_share(self) -> float:
        """The fraction of the workload's wall time spent in collections."""
        return self.gc_seconds_per_run / self.workload_seconds_per_run


def _run(values: Sequence[float], name: str, unit: str = "second") -> Any:
    metadata = {"name": name, "unit": unit, "loops": 1, "tags": [TAG]}
    return pyperf.Run(values, metadata=metadata, collect_metadata=False)


def benchmarks(records: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The pyperf benchmarks of one column's runs (see the module docstring)."""
    runs: dict[str, list[Any]] = {PAUSES: [], MAX: [], P99: [], TOTAL: [], WORKLOAD: []}
    for number, record in enumerate(records, 1):
        pauses = [ns / 1e9 for ns in record["pauses_ns"] if ns > 0]
        if not pauses or not record.get("collected"):
            raise BenchmarkFailed(
                f"GC run {number} recorded {len(pauses)} collections that freed "
                f"{record.get('collected', 0)} objects: the workload did not exercise the "
                "cycle collector",
                hint="gc must be enabled in the interpreter under test (no gc.disable())",
            )
        runs[PAUSES].append(_run(pauses, PAUSES))
        runs[MAX].append(_run([max(pauses)], MAX))
        runs[P99].append(_run([nearest_rank(pauses, 99)], P99))
        runs[TOTAL].append(_run([sum(pauses)], TOTAL))
        runs[WORKLOAD].append(_run([record["wall_ns"] / 1e9], WORKLOAD))
    return [pyperf.Benchmark(made) for made in runs.values()] if records else []


def stats(suite: Any) -> PauseStats | None:
    """The pooled statistics from a column's pyperf suite, or None when it has no GC runs."""
    if PAUSES not in suite.get_benchmark_names():
        return None
    pauses = suite.get_benchmark(PAUSES)
    every = list(pauses.get_values())
    runs = pauses.get_nrun()
    return PauseStats(
        runs=runs,
        collections_per_run=len(every) / runs,
        median=nearest_rank(every, 50),
        p99=nearest_rank(every, 99),
        max=max(every),
        gc_seconds_per_run=suite.get_benchmark(TOTAL).mean(),
        workload_seconds_per_run=suite.get_benchmark(WORKLOAD).mean(),
    )
