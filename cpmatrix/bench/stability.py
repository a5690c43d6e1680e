"""Whether a run's numbers can be trusted: was the machine busy, and how much did pyperf's values
spread.

Two signals, both printed at the top of the report when they fire:

- **Load.** Other work when the run starts is counted as the tasks runnable besides ours, sampled
  for a moment (the 1-minute load average still holds a build that ended seconds ago, so it
  only stands in where /proc/loadavg is missing); at the end the 1-minute average also holds our
  own benchmark process (about one runnable task), so one is taken off. Either above a quarter
  of the cores means something else competed for the CPU.
- **Spread.** pyperf warns when a benchmark's standard deviation reaches 10% of its mean
  (``pyperf check``): such a benchmark's ratio says little. The report lists every one.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOADED_PER_CORE = 0.25
OWN_LOAD = 1.0
"""What our own benchmark process adds to the load average at the end of the run."""
UNSTABLE_PERCENT = 10.0
"""pyperf's own threshold (``pyperf check``: "the standard deviation is N% of the mean")."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Unstable:
    column: str
    benchmark: str
    percent: float
    """Standard deviation over mean, in percent."""


def runnable_besides_us(
    samples: int = 20, interval: float = 0.1, loadavg: Path = Path("/proc/loadavg")
) -> float | None:
    """Median count of runnable tasks other than the reader over ``samples`` reads of
    /proc/loadavg's ``running/total`` field: what competes for the CPU now, not in the last
    minute. None where the file is missing (macOS)."""
    counts = []
    for index in range(samples):
        try:
            fields = loadavg.read_text().split()
            counts.append(max(0, int(fields[3].split("/")[0]) - 1))
        except (OSError, IndexError, ValueError):
            return None
        if index + 1 < samples:
            time.sleep(interval)
    return float(statistics.median(counts)) if counts else None


def load_warning(
    cores: int,
    at_start: Sequence[float] | None,
    at_end: Sequence[float] | None,
    busy_at_start: float | None = None,
) -> str | None:
    """A sentence when the machine was busy with other work, else None. ``busy_at_start``
    (tasks runnable besides ours as the run began) decides the start where it is known."""
    limit = LOADED_PER_CORE * max(cores, 1)
    if busy_at_start is not None:
        before = busy_at_start
        start_words = f"{before:.1f} task(s) runnable besides this run as it started"
    else:
        before = at_start[0] if at_start else 0.0
        start_words = f"1-minute load average {before:.2f} before the run"
    after = max(0.0, (at_end[0] if at_end else 0.0) - OWN_LOAD)
    if before <= limit and after <= limit:
        return None
    return (
        f"the machine was loaded: {start_words} and {after:.2f} besides this run in the "
        f"1-minute load average at its end (more than {limit:.2f}, a quarter of its {cores} "
        "cores): other work shared the CPU, so small differences mean little"
    )


def unstable(suites: Mapping[str, Any]) -> list[Unstable]:
    """Every benchmark, in every column's pyperf suite, whose values spread as pyperf warns of."""
    found = []
    for column, suite in suites.items():
        for bench in suite.get_benchmarks():
            if bench.get_nvalue() < 2:
                continue
            percent = bench.stdev() * 100.0 / bench.mean()
            if percent >= UNSTABLE_PERCENT:
                found.append(Unstable(column=column, benchmark=bench.get_name(), percent=percent))
    return sorted(found, key=lambda u: -u.percent)


def spread_warning(found: Sequence[Unstable], shown: int = 8) -> str | None:
    if not found:
        return None
    listed = ", ".join(f"{u.benchmark} in {u.column} ({u.percent:.0f}%)" for u in found[:shown])
    more = f" and {len(found) - shown} more" if len(found) > shown else ""
    return (
        f"{len(found)} benchmark result(s) spread by {UNSTABLE_PERCENT:.0f}% of the mean or more "
        f"(pyperf's warning): {listed}{more}; their ratios are unreliable"
    )


def warnings(
    cores: int,
    at_start: Sequence[float] | None,
    at_end: Sequence[float] | None,
    suites: Mapping[str, Any],
    busy_at_start: float | None = None,
) -> tuple[str, ...]:
    found = (
        load_warning(cores, at_start, at_end, busy_at_start),
        spread_warning(unstable(suites)),
    )
    return tuple(text for text in found if text)
