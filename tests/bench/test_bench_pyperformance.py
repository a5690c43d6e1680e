"""The pyperformance suite: its catalog, lock and report logic, and real runs in containers
without network, from an empty wheelhouse."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyperf
import pytest

from cpmatrix.bench import Request, pyperformance, run, wheelhouse
from cpmatrix.bench.columns import Column, DebianImage, HostOrBuilder, preset
from cpmatrix.bench.plan import Options, request
from cpmatrix.bench.published import FASTER_CPYTHON_JIT, jit_pairs, measure_jit
from cpmatrix.bench.pyperformance_suite import build_target
from cpmatrix.bench.runner import ColumnResult
from cpmatrix.bench.suites import FAST, Suite, parse_suites
from cpmatrix.engine.containers import Completed
from cpmatrix.util.errors import UsageError

JIT_PUBLISHED_TEXT = "1.05x faster"


def test_the_lock_pins_every_file_of_every_benchmark_it_lists() -> None:
    lock = wheelhouse.load_lock()
    assert set(pyperformance.DEFAULT_BENCHMARKS) | set(pyperformance.CI_BENCHMARKS) <= set(
        lock.benchmarks
    )
    for name in lock.benchmarks:
        for entry in lock.files_for([name]):
            assert len(entry.sha256) == 64 and entry.url.endswith("/" + entry.name)
    assert lock.pip_wheel().startswith("pip-") and lock.pyperformance.startswith("pyperformance-")
    assert {f.name for f in lock.files_for(["crypto_pyaes"])} >= {"pyaes-1.6.1.tar.gz"}
    with pytest.raises(UsageError, match="lock covers no hg_startup"):
        lock.files_for(["hg_startup"])


def test_the_wheelhouse_is_keyed_by_the_lock_text(tmp_path: Path) -> None:
    text = wheelhouse.LOCK_FILE.read_text()
    one, two = wheelhouse.parse_lock(text), wheelhouse.parse_lock(text.replace("\n", "\n ", 1))
    assert one.digest != two.digest
    assert wheelhouse.wheelhouse_dir(one) != wheelhouse.wheelhouse_dir(two)


def test_benchmarks_are_picked_by_pyperformance_names() -> None:
    known = tuple(wheelhouse.load_lock().benchmarks)
    assert pyperformance.parse_benchmarks("", known) == pyperformance.DEFAULT_BENCHMARKS
    assert pyperformance.parse_benchmarks("ci", known) == pyperformance.CI_BENCHMARKS
    assert pyperformance.parse_benchmarks("float, nbody,float", known) == ("float", "nbody")
    with pytest.raises(UsageError, match="'nbdoy' is not in the lock") as error:
        pyperformance.parse_benchmarks("nbdoy", known)
    assert "nbody" in (error.value.hint or "")
    chosen = request(Options(suites="pyperformance", benchmarks="nbody", interpreter="python3"))
    assert chosen.suites == (Suite.PYPERFORMANCE,) and chosen.benchmarks == ("nbody",)
    assert Suite.PYPERFORMANCE not in parse_suites("")
    with pytest.raises(UsageError, match="pyperformance suite is not chosen"):
        request(Options(suites="startup", benchmarks="nbody", interpreter="python3"))


def test_the_catalog_reads_pyperformance_manifest_and_variants(tmp_path: Path) -> None:
    (tmp_path / "MANIFEST").write_text(
        "[benchmarks]\n\nname\tmetafile\nnbody\t<local>\n#hg_startup\t<local>\n"
        "pickle_dict\t<local:pickle>\n\n[group default]\n"
    )
    for directory, table in (("bm_nbody", 'name = "nbody"'), ("bm_pickle", 'extra_opts = ["x"]')):
        (tmp_path / directory).mkdir()
        (tmp_path / directory / "pyproject.toml").write_text(f"[tool.pyperformance]\n{table}\n")
    (tmp_path / "bm_pickle" / "bm_pickle_dict.toml").write_text(
        '[tool.pyperformance]\nextra_opts = ["pickle_dict"]\n'
    )
    (tmp_path / "bm_pickle" / "requirements.txt").write_text("# pinned\nsix==1.16.0\n")
    found = pyperformance.catalog(tmp_path)
    assert list(found) == ["nbody", "pickle_dict"]
    pickle = found["pickle_dict"]
    assert pickle.directory == "bm_pickle" and pickle.extra_opts == ("pickle_dict",)
    assert pickle.requirements == ("six==1.16.0",)
    assert pickle.requirements_file == "bm_pickle/requirements.txt"
    assert found["nbody"].requirements_file is None
    command = pyperformance.run_command("py", "s.py", pickle, "out.json", ["--quiet"])
    assert command == ["py", "-u", "s.py", "pickle_dict", "--quiet", "--append", "out.json"]


def test_installs_are_offline_and_ignore_the_place_pip_configuration() -> None:
    command = pyperformance.install_command("venv/bin/python", "/wh/pip.whl", "r.txt", ["/wh"])
    assert command[:3] == ["venv/bin/python", "/wh/pip.whl/pip", "--isolated"]
    assert "--no-index" in command and "--find-links=/wh" in command
    assert pyperformance.venv_command("python3.15", "v") == [
        "python3.15", "-m", "venv", "--without-pip", "v",
    ]  # fmt: skip


def test_wheels_build_where_a_compiler_and_the_headers_are() -> None:
    debian = Column(
        name="3.15", interpreter="/usr/bin/python3.15", image=DebianImage("sid", ("python3.15",))
    )
    target = build_target(debian)
    assert target.image is not None and target.image.startswith("cpmatrix-debian:sid-")
    assert target.interpreter == "/usr/bin/python3.15"
    assert isinstance(Column(name="c", interpreter="/x/bin/python3", image=HostOrBuilder()).image,
                      HostOrBuilder)  # fmt: skip


def test_the_reason_is_the_script_exception_not_pyperf_words() -> None:
    from cpmatrix.bench.pyperformance_suite import _reason

    output = (
        "Traceback (most recent call last):\n  File x\n"
        "TypeError: ast.Expression.__init__ missing 1 required positional argument: 'body'\n"
        "Traceback (most recent call last):\n"
        "RuntimeError: /venv/bin/python failed with exit code 1\n"
    )
    done = Completed(exit_code=1, output=output, timed_out=False, seconds=1.0)
    reason = _reason(done, "running it")
    assert reason == (
        "running it failed (exit 1): TypeError: ast.Expression.__init__ missing 1 required "
        "positional argument: 'body'"
    )
    pip = Completed(exit_code=1, output="x\nERROR: No matching distribution found for a==1\n",
                    timed_out=False, seconds=1.0)  # fmt: skip
    assert _reason(pip, "installing").endswith("ERROR: No matching distribution found for a==1")


def _result(name: str, env: dict[str, str], path: Path) -> ColumnResult:
    column = Column(name=name, interpreter="/usr/bin/python3.15", env=tuple(env.items()))
    return ColumnResult(column=column, runs_in="x", results=path, log=path, about={},
                        unmeasured=(), seconds=0.0)  # fmt: skip


def _suite(values: dict[str, list[float]]) -> Any:
    benchmarks = []
    for name, numbers in values.items():
        run = pyperf.Run(numbers, metadata={"name": name, "tags": ["pyperformance"]},
                         collect_metadata=False)  # fmt: skip
        benchmarks.append(pyperf.Benchmark([run]))
    return pyperf.BenchmarkSuite(benchmarks)


def test_a_jit_pair_is_one_interpreter_differing_only_in_python_jit(tmp_path: Path) -> None:
    off = _result("off", {"PYTHON_JIT": "0"}, tmp_path)
    on = _result("on", {"PYTHON_JIT": "1"}, tmp_path)
    gil = _result("gil", {"PYTHON_JIT": "1", "PYTHON_GIL": "0"}, tmp_path)
    assert jit_pairs([off, on, gil]) == [("off", "on")]
    loaded = {
        "off": _suite({"nbody": [1.0, 1.01, 0.99], "float": [2.0, 2.02, 1.98]}),
        "on": _suite({"nbody": [0.8, 0.81, 0.79], "float": [2.0, 2.02, 1.98]}),
    }
    (pair,) = measure_jit([off, on], loaded)
    assert pair.benchmarks == ("nbody", "float")
    assert pair.per_benchmark["nbody"] == pytest.approx(1.25)
    assert pair.speedup == pytest.approx(1.25**0.5)
    assert FASTER_CPYTHON_JIT.geometric_mean == 1.05 and FASTER_CPYTHON_JIT.date == "January 2026"


@pytest.mark.docker
@pytest.mark.slow
def test_pyperformance_on_debian_315_jit_off_and_on_from_an_empty_wheelhouse(
    docker_engine: None, own_cache: None, tmp_path: Path
) -> None:
    """The CI subset on Debian unstable's real 3.15 with PYTHON_JIT=0 and =1 (the debian-jit
    preset's columns), no network in any container: pyaes is built into a wheel by 3.15 itself,
    Genshi 0.7.7 fails on 3.15 and is listed with its reason."""
    lock = wheelhouse.load_lock()
    assert not wheelhouse.wheelhouse_dir(lock).exists()
    columns = tuple(c for c in preset("debian-jit") if c.name.startswith("3.15"))
    outputs = run(
        Request(
            title="pyperformance",
            columns=columns,
            suites=(Suite.PYPERFORMANCE,),
            settings=FAST,
            out_dir=tmp_path / "bench",
            benchmarks=pyperformance.CI_BENCHMARKS,
        )
    )

    filled = wheelhouse.wheelhouse_dir(lock)
    assert {p.name for p in filled.iterdir()} == {
        f.name for f in lock.files_for(pyperformance.CI_BENCHMARKS)
    }
    built = list(wheelhouse.bench_cache().glob("built-*/*/pyaes-1.6.1-py3-none-any.whl"))
    assert len(built) == 1

    report = json.loads(outputs.json.read_text())
    off, on = report["columns"]
    assert (off["name"], on["name"]) == ("3.15 JIT off", "3.15 JIT on")
    assert off["interpreter_facts"]["version"].startswith("3.15.")
    assert off["interpreter_facts"]["jit"] == {"available": True, "enabled": False}
    assert on["interpreter_facts"]["jit"] == {"available": True, "enabled": True}
    for column in (off, on):
        facts = column["pyperformance"]
        assert list(facts["excluded"]) == ["genshi"]
        assert "ast.Expression" in facts["excluded"]["genshi"]
        assert set(facts["run_seconds"]) == set(pyperformance.CI_BENCHMARKS)
    (table,) = [t for t in report["suites"] if t["suite"] == "pyperformance"]
    measured = {row["benchmark"] for row in table["rows"]}
    assert measured == {"nbody", "float", "unpack_sequence", "crypto_pyaes"}
    for row in table["rows"]:
        assert row["baseline_mean"] > 0 and row["columns"]["3.15 JIT on"]["ratio"] > 0

    (ours,) = report["jit_vs_published"]["ours"]
    assert (ours["off"], ours["on"]) == ("3.15 JIT off", "3.15 JIT on")
    assert set(ours["benchmarks"]) == measured and ours["speedup_geometric_mean"] > 0
    assert report["jit_vs_published"]["published"]["speedup_geometric_mean"] == 1.05

    markdown = outputs.markdown.read_text()
    assert "| 3.15 JIT off | genshi | running it failed (exit 1): TypeError:" in markdown
    assert "| 3.15 JIT on | genshi |" in markdown
    assert "## The JIT beside faster-cpython's published figure" in markdown
    assert f"| {JIT_PUBLISHED_TEXT} |" in markdown and "full default set" in markdown
    assert "4 pyperformance benchmarks: nbody, float, unpack_sequence, crypto_pyaes" in markdown
    log = (tmp_path / "bench" / "3.15_JIT_off.log").read_text()
    assert "Looking in links" in log and "Looking in indexes" not in log


@pytest.mark.docker
@pytest.mark.slow
def test_pyperformance_on_the_published_313_default_and_freethreaded_archives(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CI subset on the shipped 3.13.5 default and free-threaded archives, each unpacked in
    a bare trixie as a team unpacks it; the free-threaded interpreter builds its own cp313t
    wheels (its archive unpacked in the builder image) and every benchmark it cannot run is
    listed with a reason."""
    monkeypatch.setenv("CPMATRIX_DIST_DIR", str(published))
    monkeypatch.setenv("CPMATRIX_CACHE", str(tmp_path / "cache"))
    planned = request(
        Options(
            python="3.13",
            variants="default,freethreaded",
            suites="pyperformance",
            benchmarks="ci",
            fast=True,
        )
    )
    outputs = run(replace(planned, out_dir=tmp_path / "bench"))
    report = json.loads(outputs.json.read_text())
    default, freethreaded = report["columns"]
    assert default["runs_in"].endswith("unpacked in bare Debian trixie, no network")
    assert freethreaded["interpreter_facts"]["abiflags"] == "t"
    assert default["pyperformance"]["excluded"] == {}
    for reason in freethreaded["pyperformance"]["excluded"].values():
        assert "failed" in reason
    (table,) = [t for t in report["suites"] if t["suite"] == "pyperformance"]
    measured = {row["benchmark"] for row in table["rows"]}
    assert {"nbody", "float", "crypto_pyaes", "genshi_text", "genshi_xml"} <= measured
    assert "| Geometric mean |" in outputs.markdown.read_text()


def test_the_report_lists_exclusions_and_the_jit_beside_the_published_figure(
    tmp_path: Path,
) -> None:
    from dataclasses import replace

    from cpmatrix.bench import finish
    from cpmatrix.bench.pyperformance_suite import ColumnFacts, Excluded

    suites = {
        "off": _suite({"nbody": [1.0, 1.01, 0.99, 1.0], "float": [2.0, 2.02, 1.98, 2.0]}),
        "on": _suite({"nbody": [0.8, 0.81, 0.79, 0.8], "float": [2.0, 2.1, 1.9, 2.05]}),
    }
    results = []
    for name, flag in (("off", "0"), ("on", "1")):
        suites[name].dump(str(tmp_path / f"{name}.json"))
        facts = ColumnFacts(benchmarks=("nbody", "float", "genshi"), venv_seconds=2.0)
        facts.excluded.append(Excluded("genshi", "running it failed (exit 1): TypeError: x"))
        result = _result(name, {"PYTHON_JIT": flag}, tmp_path / f"{name}.json")
        results.append(replace(result, pyperformance=facts))
    request = Request(title="t", columns=tuple(r.column for r in results),
                      suites=(Suite.PYPERFORMANCE,), settings=FAST, out_dir=tmp_path)  # fmt: skip
    outputs = finish(request, tuple(results), "off", 1.0)
    markdown = outputs.markdown.read_text()
    assert "| on | genshi | running it failed (exit 1): TypeError: x |" in markdown
    ours = "| ours: on vs off | 1.11x faster | 1.25x faster | 1.01x slower (not significant) |"
    assert f"{ours} 2 pyperformance benchmarks: nbody, float |" in markdown
    published = "| published: JIT vs base (same build, JIT off), x86_64, January 2026 |"
    assert f"{published} 1.05x faster | 1.25x faster | 1.19x faster |" in markdown
    report = json.loads(outputs.json.read_text())
    excluded = report["columns"][1]["pyperformance"]["excluded"]
    assert excluded == {"genshi": "running it failed (exit 1): TypeError: x"}
    assert report["jit_vs_published"]["ours"][0]["not_significant"] == ["float"]
