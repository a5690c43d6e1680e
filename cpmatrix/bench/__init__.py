"""``invoke bench``: run the suites in every column with pyperf, compare against a baseline
column, and write the report, the chart and each column's pyperf JSON under ``build/bench/``.

Stages, in order: run the columns (``runner``), compare (``compare``), report and chart. All of
it is written to ``build/bench/<name>.partial/`` and swapped in whole when complete.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cpmatrix.bench import chart, claims, compare, published, report, scaling_report, stability
from cpmatrix.bench.columns import Column, check_unique
from cpmatrix.bench.compare import SuiteTable
from cpmatrix.bench.emulated import refuse_emulated
from cpmatrix.bench.pyperformance import DEFAULT_BENCHMARKS
from cpmatrix.bench.runner import ColumnResult, run_columns
from cpmatrix.bench.suites import Settings, Suite
from cpmatrix.util import console
from cpmatrix.util.errors import UsageError
from cpmatrix.util.fileio import write_text_atomic


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    title: str
    columns: tuple[Column, ...]
    suites: tuple[Suite, ...]
    settings: Settings
    out_dir: Path
    baseline: str | None = None
    builds: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    max_workers: int = 0
    benchmarks: tuple[str, ...] = DEFAULT_BENCHMARKS
    """pyperformance's benchmarks, for the pyperformance suite."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Outputs:
    markdown: Path
    json: Path
    charts: tuple[Path, ...]
    tables: str


def baseline_of(columns: tuple[Column, ...], explicit: str | None) -> str:
    names = [c.name for c in columns]
    if explicit:
        if explicit not in names:
            raise UsageError(f"--baseline {explicit!r} is not a column", hint=f"columns: {names}")
        return explicit
    return "default" if "default" in names else names[0]


def run(request: Request) -> Outputs:
    if not request.columns:
        raise UsageError(
            "nothing to benchmark",
            hint="give --python/--variants, --interpreter, --column or --preset",
        )
    check_unique(request.columns)
    refuse_emulated(request.columns)
    baseline = baseline_of(request.columns, request.baseline)
    workers = request.max_workers or os.cpu_count() or 1
    stopwatch = console.Stopwatch()
    load_at_start = report.machine()["load_average"]
    busy_at_start = stability.runnable_besides_us()
    partial = request.out_dir.with_name(f"{request.out_dir.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    results = run_columns(
        request.columns, request.suites, request.settings, partial, workers, request.benchmarks
    )
    made = finish(
        replace(request, out_dir=partial),
        tuple(results),
        baseline,
        stopwatch.seconds,
        load_at_start=load_at_start,
        busy_at_start=busy_at_start,
    )
    _publish(partial, request.out_dir)
    final = request.out_dir
    return replace(
        made,
        markdown=final / made.markdown.name,
        json=final / made.json.name,
        charts=tuple(final / path.name for path in made.charts),
    )


def _publish(partial: Path, final: Path) -> None:
    """Swap the finished results in whole; a failed run leaves ``<name>.partial`` with its logs
    and the previous results untouched."""
    old = final.with_name(f"{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    partial.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _charts(
    tables: Sequence[SuiteTable], scaling: Mapping[str, Mapping[str, float]], request: Request
) -> list[Path]:
    """The chart, or none: measured results are already written, and a chart that cannot be
    drawn (matplotlib refusing a label) must not lose them."""
    try:
        return chart.draw(tables, scaling, request.out_dir, request.title)
    except (ValueError, RuntimeError, OSError) as error:
        console.warn(
            f"the chart could not be drawn ({type(error).__name__}: {str(error)[:200]}); "
            f"the results and report are in {request.out_dir}"
        )
        return []


def finish(
    request: Request,
    results: tuple[ColumnResult, ...],
    baseline: str,
    seconds: float,
    *,
    load_at_start: list[float] | None = None,
    busy_at_start: float | None = None,
) -> Outputs:
    """Compare, chart and report from the columns' pyperf files."""
    loaded = {r.column.name: compare.load(r.results) for r in results}
    tables = tuple(compare.compare(loaded, baseline))
    scaling = scaling_report.scaling_speedups(loaded)
    facts = report.machine()
    judged = (
        claims.evaluate(loaded, {r.column.name: r.about for r in results}, baseline)
        if Suite.RELEASE_CLAIMS in request.suites
        else None
    )
    made = report.Report(
        title=request.title,
        created=report.Report.now(),
        machine=facts,
        settings=request.settings,
        columns=results,
        builds=request.builds,
        tables=tables,
        scaling=scaling,
        seconds=seconds,
        load_at_start=load_at_start,
        busy_at_start=busy_at_start,
        warnings=stability.warnings(
            facts["cores"] or 1, load_at_start, facts["load_average"], loaded, busy_at_start
        ),
        claims=judged,
        causes=scaling_report.scaling_causes(
            loaded, {r.column.name: r.about.get("gil_enabled") for r in results}
        ),
        jit=tuple(published.measure_jit(results, loaded)),
    )
    for warning in made.warnings:
        console.warn(warning)
    markdown, json_path = report.write(made, request.out_dir)
    files = {r.column.name: r.results for r in results}
    others = [path for name, path in files.items() if name != baseline]
    if others:
        write_text_atomic(
            request.out_dir / "compare_to.md", compare.compare_to_output(files[baseline], others)
        )
    charts = _charts(tables, scaling, request)
    console.write_step_summary(report.markdown(made))
    return Outputs(
        markdown=markdown,
        json=json_path,
        charts=tuple(charts),
        tables=report.plain_tables(tables),
    )
