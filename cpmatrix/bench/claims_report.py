"""The release-claims section of the benchmark report: each claim of
:mod:`cpmatrix.bench.claims` with its numbers and verdict per column, as Markdown and JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cpmatrix.bench import gcpauses
from cpmatrix.bench.claims import (
    GC_CLAIM,
    RULES,
    WHATS_NEW,
    WHATS_NEW_SOURCE,
    Claim,
    Evaluation,
    Judged,
    Verdict,
)
from cpmatrix.util import console


def _duration(seconds: float) -> str:
    return f"{seconds:.3g} s" if seconds >= 1 else f"{seconds * 1e3:.3g} ms"


def _verdict_cell(judged: Judged) -> str:
    if judged.verdict is Verdict.REFERENCE:
        return judged.verdict.value
    if judged.verdict is Verdict.NOT_CLAIMED:
        return f"{judged.verdict.value} ({judged.reason})"
    return f"**{judged.verdict.value}**: {judged.reason}"


def _gc_table(evaluation: Evaluation, judged: Sequence[Judged]) -> str:
    rows = []
    for entry in judged:
        found = evaluation.gc.get(entry.column)
        numbers = (
            ["—"] * 6
            if found is None
            else [
                str(found.runs),
                f"{found.collections_per_run:.0f}",
                _duration(found.median),
                _duration(found.p99),
                _duration(found.max),
                f"{found.gc_share:.0%}",
            ]
        )
        versus = next(
            (m.text(GC_CLAIM) for m in entry.measured if m.benchmark == gcpauses.MAX), "—"
        )
        rows.append(
            [
                entry.column,
                evaluation.versions.get(entry.column) or "?",
                evaluation.collectors.get(entry.column, "?"),
                *numbers,
                versus,
                _verdict_cell(entry),
            ]
        )
    headers = ["column", "Python", "collector", "runs", "collections per run", "median pause",
               "p99 pause", "max pause", "GC time / workload", "mean per-run max pause",
               "verdict"]  # fmt: skip
    return console.markdown_table(headers, rows)


def _claim_table(claim: Claim, evaluation: Evaluation, judged: Sequence[Judged]) -> str:
    rows = []
    for entry in judged:
        by_name = {m.benchmark: m.text(claim) for m in entry.measured}
        rows.append(
            [
                entry.column,
                evaluation.versions.get(entry.column) or "?",
                *(by_name.get(name, "—") for name in claim.benchmarks),
                _verdict_cell(entry),
            ]
        )
    return console.markdown_table(["column", "Python", *claim.benchmarks, "verdict"], rows)


def markdown(evaluation: Evaluation) -> list[str]:
    """The report's release-claims section."""
    parts = [
        "## Release claims: what Python 3.14 promises, measured per column",
        "",
        f"Each claim is quoted from [What's New in Python 3.14]({WHATS_NEW}) "
        f"({WHATS_NEW_SOURCE}). It is judged on each 3.14+ column against one 3.13 column, "
        f"the reference: the baseline column if it runs 3.13, else the first 3.13 column. "
        f"**Reference here: {evaluation.reference_reason}.** Other columns show their numbers "
        "without a verdict (—). Functions are timed by pyperf in the interpreter under test, "
        "imports by `-X importtime` (cumulative, a fresh interpreter each time), GC pauses as "
        "below. Speed-ups are the reference's mean over the column's; significance is pyperf's "
        "t-test. Verdicts: held, did not hold, not measurable. The rules:",
        "",
        *(f"- {text}" for text in RULES.values()),
    ]
    for claim, judged in evaluation.claims:
        parts += [
            "",
            f"### {claim.title}: claimed {claim.claimed_text}",
            "",
            f"> {claim.wording}",
            "",
            f"Source: {claim.source}.",
        ]
        if claim.caveat:
            parts += ["", f"**Note:** {claim.caveat}"]
        parts += [""]
        if claim is GC_CLAIM:
            parts += [
                "Pauses are the time from each collection's `gc.callbacks` start to its stop, "
                "all runs together (nearest-rank percentiles); the verdict compares the runs' "
                "maximum pauses. The collector is read from `gc.get_threshold()` (its third "
                "value is always 0 on the incremental collector).",
                "",
                _gc_table(evaluation, judged),
            ]
        else:
            parts.append(_claim_table(claim, evaluation, judged))
    return parts


def to_json(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "reference": evaluation.reference,
        "reference_reason": evaluation.reference_reason,
        "rules": {rule.value: text for rule, text in RULES.items()},
        "claims": [
            {
                "key": claim.key,
                "title": claim.title,
                "wording": claim.wording,
                "source": claim.source,
                "caveat": claim.caveat or None,
                "rule": claim.rule.value,
                "claimed": claim.claimed_text,
                "required_speedup": claim.required,
                "columns": [
                    {
                        "column": entry.column,
                        "version": evaluation.versions.get(entry.column),
                        "verdict": entry.verdict.value,
                        "reason": entry.reason,
                        "measured": [
                            {
                                "benchmark": m.benchmark,
                                "mean": m.mean,
                                "speedup": m.speedup,
                                "significant": m.significant,
                            }
                            for m in entry.measured
                        ],
                    }
                    for entry in judged
                ],
            }
            for claim, judged in evaluation.claims
        ],
        "gc_pauses": {
            column: {
                "collector": evaluation.collectors.get(column),
                "runs": found.runs,
                "collections_per_run": found.collections_per_run,
                "median_seconds": found.median,
                "p99_seconds": found.p99,
                "max_seconds": found.max,
                "gc_seconds_per_run": found.gc_seconds_per_run,
                "workload_seconds_per_run": found.workload_seconds_per_run,
                "gc_share": found.gc_share,
            }
            for column, found in evaluation.gc.items()
        },
    }
