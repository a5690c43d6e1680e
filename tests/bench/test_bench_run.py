"""A tiny real `invoke bench` run: Debian unstable's python3.14 in its container, the startup
suite only, the fewest pyperf processes and values, split by PYTHON_JIT=0,1."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from cpmatrix.bench import Request, run
from cpmatrix.bench.columns import SID_PYTHONS, Column, expand_env
from cpmatrix.bench.suites import DEFAULT_SUITES, FAST, Suite

TINY = replace(
    FAST, name="tiny", processes=2, rounds=2, values=2, warmups=0, import_repeat=2, timeout=300
)


@pytest.mark.docker
def test_debian_314_with_the_jit_off_and_on_makes_a_full_report(
    docker_engine: None, tmp_path: Path
) -> None:
    from cpmatrix.engine.containers import leftover_containers

    base = Column(name="3.14", interpreter="/usr/bin/python3.14", image=SID_PYTHONS)
    columns = tuple(expand_env([base], ["PYTHON_JIT=0,1"]))
    request = Request(
        title="tiny", columns=columns, suites=(Suite.STARTUP,), settings=TINY, out_dir=tmp_path
    )
    outputs = run(request)

    report = json.loads(outputs.json.read_text())
    off, on = report["columns"]
    assert off["interpreter_facts"]["version"].startswith("3.14.")
    assert off["interpreter_facts"]["jit"] == {"available": True, "enabled": False}
    assert on["interpreter_facts"]["jit"] == {"available": True, "enabled": True}
    (startup,) = report["suites"]
    names = {row["benchmark"] for row in startup["rows"]}
    assert {"startup-c-pass", "import-asyncio", "import-tomllib"} <= names
    for row in startup["rows"]:
        assert row["baseline_mean"] > 0
        assert row["columns"]["3.14 PYTHON_JIT=1"]["ratio"] > 0

    pyperf_file = tmp_path / "3.14_PYTHON_JIT_1.json"
    assert {
        b["metadata"]["name"] for b in json.loads(pyperf_file.read_text())["benchmarks"]
    } == names
    assert (
        "startup-c-pass" in outputs.tables and "| Geometric mean |" in outputs.markdown.read_text()
    )
    assert [p.name for p in outputs.charts] == ["chart.svg", "chart.png"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".staging")]
    assert not tmp_path.with_name(f"{tmp_path.name}.partial").exists()
    assert outputs.markdown == tmp_path / "report.md"
    assert not [name for name in leftover_containers() if name.startswith("cpmatrix-bench")]


@pytest.mark.docker
@pytest.mark.slow
def test_a_published_free_threaded_artifact_with_the_gil_forced_on_and_off(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real 3.13.5 free-threaded artifact from dist/, unpacked in a bare trixie (what a team
    gets), as two columns of PYTHON_GIL; its build time comes from the manifest."""
    from cpmatrix.bench import plan

    monkeypatch.setenv("CPMATRIX_DIST_DIR", str(published))
    options = plan.Options(python="3.13", variants="freethreaded", env=("PYTHON_GIL=1,0",))
    columns, builds = plan.cell_columns(options)
    columns = expand_env(columns, options.env)
    request = Request(
        title="tiny",
        columns=tuple(columns),
        suites=(Suite.STARTUP,),
        settings=TINY,
        out_dir=tmp_path,
        builds=builds,
    )
    report = json.loads(run(request).json.read_text())
    forced_on, off = report["columns"]
    assert forced_on["runs_in"].endswith("unpacked in bare Debian trixie, no network")
    assert forced_on["interpreter"].startswith("/opt/consumer/cpython-3.13.5-freethreaded-")
    assert forced_on["build"]["build_seconds"] > 0 and forced_on["build"]["archive"]
    facts = forced_on["interpreter_facts"], off["interpreter_facts"]
    assert all(f["free_threaded_build"] for f in facts)
    assert facts[0]["version"] == "3.13.5" and facts[0]["abiflags"] == "t"
    assert facts[0]["gil_enabled"] is True and facts[1]["gil_enabled"] is False
    assert {r["benchmark"] for r in report["suites"][0]["rows"]} >= {"startup-c-pass"}


def test_a_failing_interpreter_keeps_its_log_and_the_previous_results(tmp_path: Path) -> None:
    from cpmatrix.util.errors import BenchmarkFailed

    out = tmp_path / "bench"
    out.mkdir()
    (out / "report.md").write_text("the previous report\n")
    broken = Column(name="broken", interpreter="/bin/false")
    request = Request(
        title="t", columns=(broken,), suites=DEFAULT_SUITES, settings=TINY, out_dir=out
    )
    with pytest.raises(BenchmarkFailed, match="probe failed for column 'broken'") as failure:
        run(request)
    partial = tmp_path / "bench.partial"
    assert str(partial / "broken.log") in (failure.value.hint or "")
    assert "/bin/false" in (partial / "broken.log").read_text()
    assert (out / "report.md").read_text() == "the previous report\n"
