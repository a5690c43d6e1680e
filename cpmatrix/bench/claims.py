"""What CPython 3.14 promises, as data, and whether each promise held on each column.

The claims are quoted from "What's New in Python 3.14" (``Doc/whatsnew/3.14.rst`` in
python/cpython; the wording below is the released 3.14.10 documentation's, Debian's
``python3.14-doc`` 3.14.10-1, which adds that the incremental collector was reverted in 3.14.5).
Each names the benchmarks that measure it: the release-claims suite's pyperf benchmarks, the GC
pause benchmarks (:mod:`cpmatrix.bench.gcpauses`) and the import times of the startup suite's
machinery (:mod:`cpmatrix.bench.importtime`).

A claim is judged on each 3.14+ column against one 3.13 column, the reference: the report's
baseline column when it runs 3.13, else the first column that does. Ratios and significance
are pyperf's (:func:`cpmatrix.bench.compare.versus`). The rules are :data:`RULES`, printed in
the report as they are applied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from cpmatrix.bench import compare, gcpauses

WHATS_NEW = "https://docs.python.org/3.14/whatsnew/3.14.html"
WHATS_NEW_SOURCE = "python/cpython Doc/whatsnew/3.14.rst"
OPTIMIZED_UUID = f"{WHATS_NEW}#optimizations (uuid, gh-128150)"
CLAIMED_SERIES = (3, 14)
REFERENCE_SERIES = (3, 13)


class Rule(StrEnum):
    UP_TO = "up to"
    ROUGHLY = "roughly"
    FASTER = "faster"
    AT_LEAST = "at least"


RULES: dict[Rule, str] = {
    Rule.UP_TO: "“up to N×” names a best case, not a typical one: held when the best of the "
    "claim's benchmarks is significantly faster than in the reference at all; the measured "
    "speed-up stands beside N so the distance to the ceiling shows.",
    Rule.ROUGHLY: "“roughly P% faster” names a typical gain: held when every benchmark of the "
    "claim is significantly faster by at least half of it (≥ 1.20× for “roughly 40%”).",
    Rule.FASTER: "“improved”/“faster” without a figure: held when every benchmark of the claim "
    "is significantly faster.",
    Rule.AT_LEAST: "“by an order of magnitude or more”: held when every benchmark of the claim "
    "is significantly lower by the factor or more (10× for an order of magnitude).",
}


class Verdict(StrEnum):
    HELD = "held"
    NOT_HELD = "did not hold"
    NOT_MEASURABLE = "not measurable"
    REFERENCE = "reference"
    NOT_CLAIMED = "—"


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    key: str
    title: str
    wording: str
    """What's New's own words."""
    source: str
    benchmarks: tuple[str, ...]
    rule: Rule
    factor: float = 1.0
    """The claimed speed-up (or reduction) as a ratio: 6.0 for "up to six times", 1.4 for
    "roughly 40% faster"; 1.0 when the claim gives no figure."""
    caveat: str = ""
    better: tuple[str, str] = ("speed-up", "faster")
    """The noun and the adjective for "better" in this claim's terms."""
    worse: str = "slower"

    def relation(self, speedup: float) -> str:
        """A speed-up (reference over column) in the claim's words (1.3 → 1.30 times faster)."""
        if speedup >= 1:
            return f"{speedup:.2f}× {self.better[1]}"
        return f"{1 / speedup:.2f}× {self.worse}" if speedup > 0 else "?"

    @property
    def required(self) -> float:
        """The speed-up each benchmark (the best one for "up to") must beat or reach."""
        if self.rule is Rule.ROUGHLY:
            return 1 + (self.factor - 1) / 2
        if self.rule is Rule.AT_LEAST:
            return self.factor
        return 1.0

    @property
    def claimed_text(self) -> str:
        match self.rule:
            case Rule.UP_TO:
                return f"up to {self.factor:g}×"
            case Rule.ROUGHLY:
                return f"~{(self.factor - 1) * 100:.0f}% faster"
            case Rule.AT_LEAST:
                return f"≥ {self.factor:g}× {self.better[1]}"
            case Rule.FASTER:
                return "faster"


GC_CLAIM = Claim(
    key="gc-pauses",
    title="Incremental garbage collector: shorter maximum pauses",
    wording="The cycle garbage collector is now incremental. This means that maximum pause "
    "times are reduced by an order of magnitude or more for larger heaps. There are now only "
    "two generations: young and old.",
    source=f"{WHATS_NEW}#whatsnew314-incremental-gc",
    benchmarks=(gcpauses.MAX,),
    rule=Rule.AT_LEAST,
    factor=10.0,
    better=("reduction", "shorter"),
    worse="longer",
    caveat="From Python 3.14.5 onwards What's New says: “Python 3.14.0-3.14.4 shipped with a "
    "new incremental GC. However, due to a number of reports of significant memory pressure in "
    "production environments, it has been reverted back to the generational GC from 3.13.” "
    f"({WHATS_NEW}#notable-changes-in-3-14-5; 3.15 has the generational GC too).",
)

CLAIMS: tuple[Claim, ...] = (
    GC_CLAIM,
    Claim(
        key="b16decode",
        title="base64.b16decode",
        wording="b16decode() is now up to six times faster.",
        source=f"{WHATS_NEW}#optimizations (base64, gh-118761)",
        benchmarks=("b16decode-16B", "b16decode-4KiB"),
        rule=Rule.UP_TO,
        factor=6.0,
    ),
    Claim(
        key="uuid3-uuid5-16B",
        title="uuid.uuid3 and uuid.uuid5, 16-byte names",
        wording="uuid3() and uuid5() are now both roughly 40% faster for 16-byte names",
        source=OPTIMIZED_UUID,
        benchmarks=("uuid3-16B", "uuid5-16B"),
        rule=Rule.ROUGHLY,
        factor=1.4,
    ),
    Claim(
        key="uuid3-uuid5-1024B",
        title="uuid.uuid3 and uuid.uuid5, 1024-byte names",
        wording="[uuid3() and uuid5() are now both roughly 40% faster for 16-byte names] and 20% "
        "faster for 1024-byte names.",
        source=OPTIMIZED_UUID,
        benchmarks=("uuid3-1024B", "uuid5-1024B"),
        rule=Rule.ROUGHLY,
        factor=1.2,
    ),
    Claim(
        key="uuid4",
        title="uuid.uuid4",
        wording="uuid4() is now c. 30% faster.",
        source=OPTIMIZED_UUID,
        benchmarks=("uuid4",),
        rule=Rule.ROUGHLY,
        factor=1.3,
    ),
    Claim(
        key="imports",
        title="Import times of string, subprocess, tomllib, threading",
        wording="The import time for several standard library modules has been improved, "
        "including […] string, subprocess, threading, tomllib […].",
        source=f"{WHATS_NEW}#optimizations (gh-118761)",
        benchmarks=(
            "import-string",
            "import-subprocess",
            "import-tomllib",
            "import-threading",
        ),
        rule=Rule.FASTER,
    ),
)

IMPORT_MODULES: tuple[str, ...] = tuple(
    name.removeprefix("import-") for claim in CLAIMS for name in claim.benchmarks
    if name.startswith("import-")
)  # fmt: skip
"""The modules whose import time the claims name (measured by the startup suite's machinery)."""


def series(version: str) -> tuple[int, int] | None:
    """``3.14.10`` → (3, 14); None for a version that is not X.Y."""
    found = re.match(r"(\d+)\.(\d+)", version)
    return (int(found.group(1)), int(found.group(2))) if found else None


def reference(versions: Mapping[str, str], baseline: str) -> tuple[str | None, str]:
    """The 3.13 column the claims are judged against, and why that one (columns in order)."""
    if series(versions.get(baseline, "")) == REFERENCE_SERIES:
        return baseline, f"the baseline column {baseline!r} (Python {versions[baseline]})"
    for name, version in versions.items():
        if series(version) == REFERENCE_SERIES:
            return name, (
                f"{name!r} (Python {version}), the first 3.13 column: the baseline "
                f"{baseline!r} runs {versions.get(baseline) or 'an unknown version'}"
            )
    return None, "none: no column runs Python 3.13, so no claim can be judged"


@dataclass(frozen=True, slots=True, kw_only=True)
class Measured:
    """One benchmark of one column, against the reference."""

    benchmark: str
    mean: float
    mean_text: str
    speedup: float | None
    """Reference time over this column's (2.0 = twice as fast); None for the reference."""
    significant: bool

    def text(self, claim: Claim) -> str:
        if self.speedup is None:
            return self.mean_text
        tail = "" if self.significant else ", not significant"
        return f"{self.mean_text} ({claim.relation(self.speedup)}{tail})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Judged:
    column: str
    measured: tuple[Measured, ...]
    verdict: Verdict
    reason: str


def _measure(suites: Mapping[str, Any], column: str, ref: str, name: str) -> Measured | None:
    names = suites[column].get_benchmark_names()
    if name not in names or name not in suites[ref].get_benchmark_names():
        return None
    bench = suites[column].get_benchmark(name)
    mean_text = bench.format_value(bench.mean())
    if column == ref:
        return Measured(
            benchmark=name, mean=bench.mean(), mean_text=mean_text, speedup=None, significant=False
        )
    versus = compare.versus(suites[ref].get_benchmark(name), bench)
    return Measured(
        benchmark=name,
        mean=bench.mean(),
        mean_text=mean_text,
        speedup=1 / versus.ratio,
        significant=versus.significant,
    )


def verdict(claim: Claim, measured: Sequence[Measured]) -> tuple[Verdict, str]:
    """The verdict for one 3.14+ column whose every claimed benchmark was measured (the rules
    are :data:`RULES`)."""
    need = claim.required
    strictly = claim.rule in (Rule.UP_TO, Rule.FASTER)

    def passes(m: Measured) -> bool:
        speedup = m.speedup or 0.0
        return m.significant and (speedup > need if strictly else speedup >= need)

    def shown(m: Measured) -> str:
        tail = "" if m.significant else ", not significant"
        return f"{m.benchmark} {claim.relation(m.speedup or 0.0)}{tail}"

    if claim.rule is Rule.UP_TO:
        held = [m for m in measured if passes(m)]
        best = max(held or measured, key=lambda m: m.speedup or 0.0)
        text = f"best: {shown(best)}; claimed {claim.claimed_text}"
        return (Verdict.HELD if held else Verdict.NOT_HELD), text
    needed = (
        f"needs a significant {claim.better[0]}"
        if claim.rule is Rule.FASTER
        else f"needs ≥ {need:.2f}× {claim.better[1]} for “{claim.claimed_text}”"
    )
    failing = [m for m in measured if not passes(m)]
    if failing:
        return Verdict.NOT_HELD, f"{'; '.join(map(shown, failing))} ({needed})"
    return Verdict.HELD, f"{'; '.join(map(shown, measured))} ({needed})"


def judge(
    claim: Claim, suites: Mapping[str, Any], versions: Mapping[str, str], ref: str | None
) -> tuple[Judged, ...]:
    """The claim on every column, in column order."""
    judged = []
    for column in suites:
        found = series(versions.get(column, ""))
        if ref is None:
            judged.append(
                Judged(
                    column=column,
                    measured=(),
                    verdict=Verdict.NOT_MEASURABLE if found and found >= CLAIMED_SERIES
                    else Verdict.NOT_CLAIMED,
                    reason="no 3.13 column to compare with",
                )
            )  # fmt: skip
            continue
        measured = [_measure(suites, column, ref, name) for name in claim.benchmarks]
        present = tuple(m for m in measured if m is not None)
        missing = [n for n, m in zip(claim.benchmarks, measured, strict=True) if m is None]
        if column == ref:
            outcome, reason = Verdict.REFERENCE, "the 3.13 reference"
        elif found is None or found < CLAIMED_SERIES:
            outcome, reason = Verdict.NOT_CLAIMED, f"Python {versions.get(column) or '?'}"
        elif missing:
            outcome = Verdict.NOT_MEASURABLE
            reason = f"not measured in this column or the reference: {', '.join(missing)}"
        else:
            outcome, reason = verdict(claim, present)
        judged.append(Judged(column=column, measured=present, verdict=outcome, reason=reason))
    return tuple(judged)


def collector(about: Mapping[str, Any]) -> str:
    """Which cycle collector a column runs, from its probe: What's New in 3.14 documents that
    the incremental collector's ``gc.get_threshold()`` has an always-zero third value."""
    if about.get("free_threaded_build"):
        return "free-threaded (no generations)"
    threshold = about.get("gc_threshold")
    if not isinstance(threshold, list) or len(threshold) != 3:
        return "?"
    return (
        "incremental (two generations)" if threshold[2] == 0 else "generational (three generations)"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    reference: str | None
    reference_reason: str
    claims: tuple[tuple[Claim, tuple[Judged, ...]], ...]
    gc: Mapping[str, gcpauses.PauseStats]
    collectors: Mapping[str, str]
    versions: Mapping[str, str]


def evaluate(
    suites: Mapping[str, Any], abouts: Mapping[str, Mapping[str, Any]], baseline: str
) -> Evaluation:
    """Every claim on every column (columns in order: name → loaded pyperf suite)."""
    versions = {name: str(abouts.get(name, {}).get("version", "")) for name in suites}
    ref, why = reference(versions, baseline)
    pauses = {name: made for name, suite in suites.items() if (made := gcpauses.stats(suite))}
    collectors = {name: collector(abouts.get(name, {})) for name in suites}
    judged = []
    for claim in CLAIMS:
        verdicts = judge(claim, suites, versions, ref)
        judged.append(
            (claim, _with_collector(verdicts, collectors) if claim is GC_CLAIM else verdicts)
        )
    return Evaluation(
        reference=ref,
        reference_reason=why,
        claims=tuple(judged),
        gc=pauses,
        collectors=collectors,
        versions=versions,
    )


def _with_collector(judged: Sequence[Judged], collectors: Mapping[str, str]) -> tuple[Judged, ...]:
    """The GC verdicts, saying so where a judged column does not run the incremental collector
    the claim is about."""
    return tuple(
        replace(j, reason=f"{j.reason}; this column's collector is {collectors[j.column]}")
        if j.verdict in (Verdict.HELD, Verdict.NOT_HELD)
        and not collectors[j.column].startswith("incremental")
        else j
        for j in judged
    )
