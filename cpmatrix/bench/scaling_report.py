"""The report's parallel speed-up section: serial time over threaded time per column, and the
cause-isolating workloads (:mod:`cpmatrix.bench.causes`) that say why threads scale or not."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from cpmatrix.bench import causes
from cpmatrix.util import console


def scaling_speedups(suites: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Per column: serial time over each ``scaling-<kind>-<n>`` time (2.0 = twice as fast)."""
    speedups: dict[str, dict[str, float]] = {}
    for column, suite in suites.items():
        names = suite.get_benchmark_names()
        if "scaling-serial" not in names:
            continue
        serial = suite.get_benchmark("scaling-serial").mean()
        speedups[column] = {
            name.removeprefix("scaling-"): serial / suite.get_benchmark(name).mean()
            for name in names
            if name.startswith("scaling-") and name != "scaling-serial"
        }
    return speedups


def scaling_causes(
    suites: Mapping[str, Any], gil_enabled: Mapping[str, bool | None]
) -> dict[str, causes.Scaling]:
    """Per column that ran them: the cause-isolating workloads' speed-ups (causes.from_means),
    with whether the column's interpreter said its GIL was on."""
    found = {}
    for column, suite in suites.items():
        means, counted = {}, {}
        for bench in suite:
            name = bench.get_name()
            means[name] = bench.mean()
            workload = bench.get_metadata().get("scaling_workload")
            if workload:
                counted[str(workload)] = str(bench.get_metadata().get("scaling_counted", "?"))
        measured = causes.from_means(means, counted)
        if measured is not None:
            found[column] = dataclasses.replace(measured, gil_enabled=gil_enabled.get(column))
    return found


def speedups_markdown(scaling: Mapping[str, Mapping[str, float]]) -> str:
    columns = list(scaling)
    keys = list(dict.fromkeys(k for values in scaling.values() for k in values))
    rows = [
        [key, *(f"{scaling[c][key]:.2f}x" if key in scaling[c] else "—" for c in columns)]
        for key in keys
    ]
    return console.markdown_table(["workers", *columns], rows)


WORKLOAD_DIFFERENCE = {
    "private": "the control: small-int constants and a modulus the running thread made",
    "shared-global": "the modulus is a module global, one object for all threads",
    "constant-compiled": "the modulus is a literal, code made by built-in compile()",
    "constant-unmarshalled": "the same code object through marshal (as from a .pyc)",
}


def causes_markdown(measured: Mapping[str, causes.Scaling]) -> list[str]:
    columns = list(measured)
    workloads = [
        [
            f"`{name}`",
            WORKLOAD_DIFFERENCE.get(name, ""),
            *(_workload_cell(measured[c], name) for c in columns),
        ]
        for name in causes.WORKLOAD_NAMES
    ]
    findings = {c: causes.attribute(measured[c]) for c in columns}
    verdicts = [
        [cause.name, *(findings[c][i].verdict.value for c in columns)]
        for i, cause in enumerate(causes.CAUSES)
    ]
    lines = [
        "## Why threads scale or not",
        "",
        "Each workload is the same loop (`value = (value * 31 + i) % modulus`) differing from "
        "`private` in one way; its speed-up is its time on 1 thread over its time on "
        f"{'/'.join(sorted({str(m.workers) for m in measured.values()}))} threads sharing one "
        "function "
        "object. Whether the objects the loop reads every iteration are counted or immortal "
        "is what each interpreter said.",
        "",
        console.markdown_table(["workload", "differs from private", *columns], workloads),
        "",
        f"A workload scales at {causes.SCALES_FRACTION:.0%} of N; a cause holds on a column "
        "when its control scales there and its workload reaches less than "
        f"{causes.HOLDS_FRACTION:.0%} of the control's speed-up.",
        "",
        console.markdown_table(["cause", *columns], verdicts),
        "",
    ]
    for i, cause in enumerate(causes.CAUSES):
        lines.append(f"- **{cause.name}** (`{cause.workload}`): {cause.what}. {cause.source}.")
        for column in columns:
            found = findings[column][i]
            name = console.markdown_escape(column)
            lines.append(f"  - {name}: {found.verdict.value}: {found.why}")
    return lines


def _workload_cell(measured: causes.Scaling, name: str) -> str:
    speedup = measured.workloads.get(name)
    if speedup is None:
        return "—"
    counted = measured.counted.get(name, "")
    return f"{speedup:.2f}x ({counted})" if counted and counted != "-" else f"{speedup:.2f}x"


def causes_json(measured: causes.Scaling) -> dict[str, Any]:
    return {
        "workers": measured.workers,
        "workload_speedups": dict(measured.workloads),
        "processes_speedup": measured.processes,
        "counted": dict(measured.counted),
        "causes": {
            f.cause.name: {"verdict": f.verdict.value, "why": f.why, "workload": f.cause.workload}
            for f in causes.attribute(measured)
        },
    }
