"""The report and the chart, made from real recorded pyperf output and interpreter probes
(tests/data/bench/, re-recorded by scripts/record_bench_data.py)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from cpmatrix.bench import Request, finish
from cpmatrix.bench.columns import PRESETS, Column
from cpmatrix.bench.report import NOISE_NOTE, machine
from cpmatrix.bench.runner import ColumnResult
from cpmatrix.bench.scaling_report import scaling_speedups
from cpmatrix.bench.suites import FAST, Suite

DATA = Path(__file__).parents[1] / "data" / "bench"


def recorded_results(tmp_path: Path) -> tuple[ColumnResult, ...]:
    """The recorded columns as the runner would hand them over."""
    jit_off, jit_on, py315_off, _ = PRESETS["debian-jit"]
    results = []
    for column in (jit_off, jit_on, py315_off):
        source = DATA / f"{column.slug}.json"
        results.append(
            ColumnResult(
                column=column,
                runs_in="container of cpmatrix-debian:sid",
                results=source,
                log=tmp_path / f"{column.slug}.log",
                about=json.loads((DATA / f"{column.slug}.about.json").read_text()),
                unmeasured=(),
                seconds=12.5,
            )
        )
    return tuple(results)


@pytest.fixture
def made(tmp_path: Path) -> tuple[Path, tuple[ColumnResult, ...]]:
    results = recorded_results(tmp_path)
    request = Request(
        title="cpmatrix benchmarks: recorded",
        columns=tuple(r.column for r in results),
        suites=tuple(Suite),
        settings=FAST,
        out_dir=tmp_path,
    )
    finish(request, results, "3.14 JIT off", 60.0)
    return tmp_path, results


def test_markdown_states_machine_columns_noise_and_tables(
    made: tuple[Path, tuple[ColumnResult, ...]],
) -> None:
    out, results = made
    text = (out / "report.md").read_text()
    facts = machine()
    # every container a column runs in has network_mode="none", and the report says so
    assert f"| 3.14.10 | {results[0].column.where}, no network |" in text
    assert f"{facts['cores']} cores" in text and str(facts["cpu"]) in text
    assert "GiB memory" in text and facts["kernel"] in text
    assert NOISE_NOTE in text
    # Debian's probe: JIT compiled in but off; PYTHON_JIT=1 turns it on
    assert "| 3.14 JIT off | 3.14.10 |" in text and "| 3.14 JIT on | 3.14.10 |" in text
    assert "| PYTHON_JIT=1 | yes | on | `--enable-experimental-jit=yes-off` |" in text
    assert "| PYTHON_JIT=0 | yes | off |" in text
    for heading in ("## single-thread", "## scaling", "## startup", "## Parallel speed-up"):
        assert heading in text
    assert "| Benchmark | 3.14 JIT off | 3.14 JIT on | 3.15 JIT off |" in text
    assert "| Geometric mean | (ref) |" in text
    pyperfs_own = (out / "compare_to.md").read_text()
    assert "Benchmarks with tag 'single-thread':" in pyperfs_own
    assert "3.14_JIT_on" in pyperfs_own and "3.15_JIT_off" in pyperfs_own


def test_json_report_has_every_column_against_the_baseline(
    made: tuple[Path, tuple[ColumnResult, ...]],
) -> None:
    out, results = made
    report = json.loads((out / "report.json").read_text())
    assert report["schema"] == 1
    assert report["baseline"] == "3.14 JIT off"
    assert [c["name"] for c in report["columns"]] == [r.column.name for r in results]
    assert report["columns"][1]["interpreter_facts"]["jit"]["enabled"] is True
    assert report["columns"][1]["env"] == {"PYTHON_JIT": "1"}
    single = next(s for s in report["suites"] if s["suite"] == "single-thread")
    nbody = next(r for r in single["rows"] if r["benchmark"] == "nbody")
    assert set(nbody["columns"]) == {"3.14 JIT on", "3.15 JIT off"}
    for versus in nbody["columns"].values():
        assert versus["ratio"] > 0 and isinstance(versus["significant"], bool)
    assert set(single["geometric_mean"]) == {"3.14 JIT on", "3.15 JIT off"}
    speedups = report["scaling_speedup_over_serial"]["3.14 JIT off"]
    assert {"threads-1", "threads-2", "interpreters-2", "processes-2"} <= set(speedups)


def test_scaling_speedup_is_serial_time_over_pool_time() -> None:
    from cpmatrix.bench.compare import load

    suite = load(DATA / "3.15_JIT_off.json")
    speedups = scaling_speedups({"x": suite})["x"]
    serial = suite.get_benchmark("scaling-serial").mean()
    assert speedups["processes-2"] == pytest.approx(
        serial / suite.get_benchmark("scaling-processes-2").mean()
    )
    assert scaling_speedups({"none": load(DATA / "3.14_JIT_off.json")})  # has the suite
    assert "scaling-serial" not in {k for v in scaling_speedups({"x": suite}).values() for k in v}


def test_chart_is_an_svg_and_a_png_naming_every_benchmark_and_column(
    made: tuple[Path, tuple[ColumnResult, ...]],
) -> None:
    out, _ = made
    svg = (out / "chart.svg").read_text()
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    for name in ("nbody", "unpack-sequence", "import-asyncio", "3.14 JIT on", "3.15 JIT off"):
        assert name in svg
    assert "parallel speed-up" in svg
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert oct((out / "chart.png").stat().st_mode & 0o777) == "0o644"


def test_a_note_when_a_switch_had_no_effect(tmp_path: Path) -> None:
    from cpmatrix.bench.report import _column_notes

    (result,) = recorded_results(tmp_path)[:1]
    no_jit = ColumnResult(
        column=Column(name="3.13 PYTHON_JIT=1", interpreter="p", env=(("PYTHON_JIT", "1"),)),
        runs_in="host",
        results=result.results,
        log=result.log,
        about={**result.about, "jit": {"available": None, "enabled": False}},
        unmeasured=("sys",),
        seconds=1.0,
    )
    from cpmatrix.bench.report import Report

    report = Report(
        title="t",
        created=Report.now(),
        machine=machine(),
        settings=FAST,
        columns=(no_jit,),
        builds={},
        tables=(),
        scaling={},
        seconds=1.0,
    )
    notes = "\n".join(_column_notes(report))
    assert "PYTHON_JIT=1 had no effect" in notes
    assert "no -X importtime line for sys" in notes
