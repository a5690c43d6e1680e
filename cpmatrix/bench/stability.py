"""Whether a run's numbers can be trusted: was the machine busy, and how much did pyperf's values
spread.

Two signals, both printed at the top of the report when they fire:

- **Load.** The 1-minute load average before the first column ran is other people's work; at the
  end it also holds our own benchmark process (about one runnable task), so one is taken off.
  Either above a quarter of the cores means something else competed for the CPU.
- **Spread.** pyperf warns when a benchmark's standard deviation reaches 10% of its mean
  (``pyperf check``): such a benchmark's ratio says little. The report lists every one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


def load_warning(
    cores: int, at_start: Sequence[float] | None, at_end: Sequence[float] | None
) -> str | None:
    """A sentence when the machine was busy with other work, else None."""
    limit = LOADED_PER_CORE * max(cores, 1)
    before = at_start[0] if at_start else 0.0
    after = max(0.0, (at_end[0] if at_end else 0.0) - OWN_LOAD)
    if before <= limit and after <= limit:
        return None
    return (
        f"the machine was loaded: 1-minute load average {before:.2f} before the run and "
        f"{after:.2f} besides this run at its end (more than {limit:.2f}, a quarter of its "
        f"{cores} cores): other work shared the CPU, so small differences mean little"
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
) -> tuple[str, ...]:
    found = (load_warning(cores, at_start, at_end), spread_warning(unstable(suites)))
    return tuple(text for text in found if text)
