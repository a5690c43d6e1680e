"""The report: the machine, the columns (what each interpreter is and which switches were in
effect), the comparison tables, and the parallel speed-up within each column.

Written as Markdown (for a release page or a CI job summary) and JSON (for tools), both
atomically.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cpmatrix import features as fx
from cpmatrix.bench import causes, claims, claims_report, likeness, published, scaling_report
from cpmatrix.bench.columns import Artifact, DebianImage
from cpmatrix.bench.compare import SuiteTable, table_rows
from cpmatrix.bench.runner import ColumnResult
from cpmatrix.bench.suites import Settings
from cpmatrix.engine.containers import NO_NETWORK
from cpmatrix.util import console
from cpmatrix.util.fileio import write_text_atomic

SCHEMA = 1
NOISE_NOTE = (
    "Numbers from a shared or virtual machine (other jobs running, no CPU isolation, turbo "
    "and frequency scaling left on) are indicative only: compare columns of one report, "
    "not reports from different machines, and rerun without --fast before quoting a small "
    "difference."
)


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, kernel and load: what a reader needs to weigh the numbers."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        model = found.group(1).strip() if found else ""
    memory = None
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        found = re.search(r"^MemTotal:\s+(\d+) kB", meminfo.read_text(), re.MULTILINE)
        memory = round(int(found.group(1)) / 1024 / 1024, 1) if found else None
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cores": os.cpu_count(),
        "cpu": model or platform.processor() or platform.machine(),
        "memory_gib": memory,
        "kernel": f"{platform.system()} {platform.release()}",
        "load_average": [round(x, 2) for x in load] if load else None,
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    title: str
    created: str
    machine: Mapping[str, Any]
    settings: Settings
    columns: tuple[ColumnResult, ...]
    builds: Mapping[str, Mapping[str, Any]]
    """What the builder recorded, by cell id."""
    tables: tuple[SuiteTable, ...]
    scaling: Mapping[str, Mapping[str, float]]
    seconds: float
    load_at_start: Sequence[float] | None = None
    busy_at_start: float | None = None
    """Tasks runnable besides the benchmark as it started (None: not known here)."""
    warnings: tuple[str, ...] = ()
    """What makes these numbers less trustworthy (a loaded machine, pyperf's spread)."""
    claims: claims.Evaluation | None = None
    causes: Mapping[str, causes.Scaling] = dataclasses.field(default_factory=dict)
    """Per column, the cause-isolating workloads of the scaling suite."""
    jit: tuple[published.JitPair, ...] = ()
    """JIT-on vs JIT-off pairs of one interpreter, set beside the published figure."""

    @staticmethod
    def now() -> str:
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def runs_in(result: ColumnResult) -> str:
    """Debian images by their packages, artifacts by the bare image they were unpacked in;
    other places as the runner named them (containers always without network)."""
    if isinstance(result.column.image, DebianImage | Artifact):
        return f"{result.column.where}, {NO_NETWORK}"
    return result.runs_in


def _column_line(result: ColumnResult, build: Mapping[str, Any]) -> list[str]:
    about = result.about
    jit = about.get("jit", {})
    jit_text = (
        "not built"
        if jit.get("available") is False
        else {True: "on", False: "off", None: "?"}[jit.get("enabled")]
    )
    env = " ".join(f"{k}={v}" for k, v in result.column.env) or "—"
    flags = _build_flags(str(about.get("config_args", "")))
    profile = f"{build['profile']}: {flags}" if "profile" in build else flags
    if build.get("build_seconds"):
        profile = f"{profile} (built in {console.elapsed(float(build['build_seconds']))})"
    return [
        result.column.name,
        f"{about.get('version', '?')}{about.get('abiflags', '')}",
        runs_in(result),
        env,
        "yes" if about.get("gil_enabled") else "no",
        jit_text,
        str(profile),
        f"`{result.column.interpreter}`",
    ]


def _speed_switches() -> list[str]:
    """Every feature and profile switch cpmatrix knows (cpmatrix/features/), without values."""
    switches = {arg.split("=")[0] for spec in fx.SPECS.values() for arg in spec.configure}
    switches |= {arg for args in fx.PROFILE_CONFIGURE.values() for arg in args}
    return sorted(switches, key=len, reverse=True)


BUILD_FLAGS = re.compile(
    "(?:" + "|".join(re.escape(flag) for flag in _speed_switches()) + r")(?:=[^\s']*)?"
)


def _build_flags(config_args: str) -> str:
    """The configure flags that change speed, from an interpreter's CONFIG_ARGS."""
    flags = BUILD_FLAGS.findall(config_args)
    return " ".join(f"`{flag}`" for flag in flags) or "default configure"


def markdown(report: Report) -> str:
    m = report.machine
    parts = [
        f"# {console.markdown_escape(report.title)}",
        "",
        f"{report.created}, {report.settings.name} settings "
        f"({report.settings.processes} processes x {report.settings.values} values, "
        f"{report.settings.warmups} warmup, in {report.settings.rounds} rounds taking turns "
        f"across the columns), {console.elapsed(report.seconds)} in all.",
        "",
        f"**Machine:** {m['cores']} cores, {m['cpu']}, {m['memory_gib']} GiB memory, "
        f"{m['kernel']}; load average {list(report.load_at_start or [])} at the start"
        f"{_busy_words(report.busy_at_start)}, {m['load_average']} at the end.",
        "",
        *(f"> **Warning:** {text}\n" for text in report.warnings),
        f"> {NOISE_NOTE}",
        "",
        "## Columns",
        "",
        console.markdown_table(
            ["column", "Python", "runs in", "switches", "GIL", "JIT", "build profile", "path"],
            [
                _column_line(r, report.builds.get(r.column.cell_id or "", {}))
                for r in report.columns
            ],
        ),
    ]
    notes = _column_notes(report)
    if notes:
        parts += ["", *notes]
    parts += _likeness_markdown(report)
    for table in report.tables:
        headers, rows = table_rows(table)
        parts += ["", f"## {table.tag}", "", console.markdown_table(headers, rows)]
    parts += _pyperformance_markdown(report)
    if report.scaling:
        parts += ["", "## Parallel speed-up over serial, within each column", ""]
        parts.append(scaling_report.speedups_markdown(report.scaling))
    if report.claims is not None:
        parts += ["", *claims_report.markdown(report.claims)]
    if report.causes:
        parts += ["", *scaling_report.causes_markdown(report.causes)]
    parts += [
        "",
        "Ratios and significance are pyperf's (`python -m pyperf compare_to BASELINE.json "
        "COLUMN.json` gives the same for one pair; its output over all columns is in "
        "`compare_to.md`); each column's pyperf JSON lies beside this report.",
    ]
    return "\n".join(parts) + "\n"


def _likeness_rows(report: Report) -> list[list[str]] | None:
    """Per column: profile, compiler, and whether its ratio measures the features alone."""
    if not report.tables:
        return None
    builds = [
        (r.column.name, likeness.build_of(r.about, report.builds.get(r.column.cell_id or "", {})))
        for r in report.columns
    ]
    return likeness.rows(builds, report.tables[0].baseline)


def _likeness_markdown(report: Report) -> list[str]:
    """What each column is (issue #25), in the report."""
    table = _likeness_rows(report)
    if table is None:
        return []
    return [
        "",
        "## What each column is",
        "",
        console.markdown_table(likeness.HEADERS, table),
        "",
        "A ratio measures a column's features alone only where it is like for like: the same "
        "release, profile (PGO, LTO) and compiler as the baseline.",
    ]


def _pyperformance_markdown(report: Report) -> list[str]:
    """Per column: what ran, what was excluded and why, the setup's time; then the JIT."""
    facts = [(r.column.name, r.pyperformance) for r in report.columns if r.pyperformance]
    if not facts:
        return []
    rows = [
        [
            name,
            str(len(f.benchmarks) - len(f.excluded)),
            str(len(f.excluded)),
            "cached" if f.wheels_cached else console.elapsed(f.build_seconds),
            console.elapsed(f.venv_seconds),
            console.elapsed(sum(f.run_seconds.values())),
        ]
        for name, f in facts
    ]
    headers = ["column", "ran", "excluded", "wheel builds", "venv setup", "benchmark runs"]
    parts = ["", "## pyperformance in each column", "", console.markdown_table(headers, rows)]
    excluded = [[name, e.benchmark, e.reason] for name, f in facts for e in f.excluded]
    parts += ["", "### Excluded benchmarks", ""]
    parts.append(
        console.markdown_table(["column", "benchmark", "reason"], excluded)
        if excluded
        else "None: every chosen benchmark ran in every column."
    )
    if report.jit:
        parts += ["", "## The JIT beside faster-cpython's published figure", ""]
        parts.append(published.jit_markdown(report.jit))
    return parts


def _column_notes(report: Report) -> list[str]:
    notes = []
    for result in report.columns:
        env = dict(result.column.env)
        enabled = result.about.get("jit", {}).get("enabled")
        name = console.markdown_escape(result.column.name)
        if env.get("PYTHON_JIT") == "1" and enabled is False:
            notes.append(f"- {name}: PYTHON_JIT=1 had no effect (no JIT built in).")
        if result.unmeasured:
            names = ", ".join(result.unmeasured)
            notes.append(f"- {name}: no -X importtime line for {names}.")
    return notes


def _busy_words(busy: float | None) -> str:
    return "" if busy is None else f" ({busy:g} task(s) runnable besides the benchmark)"


def to_json(report: Report) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "title": report.title,
        "created": report.created,
        "machine": {
            **report.machine,
            "load_average_at_start": report.load_at_start,
            "runnable_besides_at_start": report.busy_at_start,
        },
        "note": NOISE_NOTE,
        "warnings": list(report.warnings),
        "settings": {
            "name": report.settings.name,
            "processes": report.settings.processes,
            "rounds": report.settings.rounds,
            "values": report.settings.values,
            "warmups": report.settings.warmups,
            "import_repeat": report.settings.import_repeat,
        },
        "columns": [
            {
                "name": r.column.name,
                "interpreter": r.column.interpreter,
                "runs_in": runs_in(r),
                "env": dict(r.column.env),
                "cell": r.column.cell_id,
                "results": r.results.name,
                "log": r.log.name,
                "interpreter_facts": r.about,
                "build": dict(report.builds.get(r.column.cell_id or "", {})),
                "no_importtime_line": list(r.unmeasured),
                "seconds": round(r.seconds, 1),
                "pyperformance": r.pyperformance.to_json() if r.pyperformance else None,
            }
            for r in report.columns
        ],
        "baseline": report.tables[0].baseline if report.tables else None,
        "like_for_like": _likeness_json(report),
        "suites": [_table_json(t) for t in report.tables],
        "scaling_speedup_over_serial": {c: dict(v) for c, v in report.scaling.items()},
        "release_claims": None if report.claims is None else claims_report.to_json(report.claims),
        "scaling_causes": {c: scaling_report.causes_json(m) for c, m in report.causes.items()},
        "jit_vs_published": published.jit_json(report.jit) if report.jit else None,
    }


def _likeness_json(report: Report) -> list[dict[str, str]] | None:
    table = _likeness_rows(report)
    if table is None:
        return None
    keys = ("column", "python", "profile", "compiler", "like_for_like")
    return [dict(zip(keys, row, strict=True)) for row in table]


def _table_json(table: SuiteTable) -> dict[str, Any]:
    return {
        "suite": table.tag,
        "baseline": table.baseline,
        "rows": [
            {
                "benchmark": row.benchmark,
                "unit": row.unit,
                "baseline_mean": row.baseline_mean,
                "columns": {
                    column: None
                    if versus is None
                    else {
                        "mean": versus.mean,
                        "ratio": versus.ratio,
                        "significant": versus.significant,
                        "t_score": versus.t_score,
                        "text": versus.text,
                    }
                    for column, versus in row.versus.items()
                },
            }
            for row in table.rows
        ],
        "geometric_mean": dict(table.geometric_means),
    }


def write(report: Report, out_dir: Path) -> tuple[Path, Path]:
    md, js = out_dir / "report.md", out_dir / "report.json"
    write_text_atomic(md, markdown(report))
    write_text_atomic(js, json.dumps(to_json(report), indent=2) + "\n")
    return md, js


def plain_tables(tables: Sequence[SuiteTable]) -> str:
    """The comparison tables for a terminal."""
    blocks = []
    for table in tables:
        headers, rows = table_rows(table)
        blocks.append(f"{table.tag}\n{console.table(headers, rows)}")
    return "\n\n".join(blocks)
