"""When the report warns that its numbers are shaky: a loaded machine, or pyperf's spread, judged
on real pyperf output recorded from Debian's python3.14 and 3.15 (tests/data/bench/)."""

from __future__ import annotations

from pathlib import Path

import pyperf

from cpmatrix.bench import compare, stability

DATA = Path(__file__).parents[1] / "data" / "bench"


def test_a_quiet_machine_gives_no_load_warning() -> None:
    assert stability.load_warning(2, [0.1, 0.2, 0.3], [1.3, 1.0, 0.5]) is None
    assert stability.load_warning(2, None, None) is None


def test_load_before_the_run_or_beside_it_at_the_end_is_reported() -> None:
    before = stability.load_warning(2, [1.9, 1.0, 0.4], [1.2, 1.0, 1.0])
    assert before is not None and "1.90 before the run" in before and "2 cores" in before
    beside = stability.load_warning(2, [0.0, 0.0, 0.0], [2.7, 2.0, 1.0])
    assert beside is not None and "1.70 besides this run" in beside


def test_a_build_that_ended_just_before_the_run_is_not_load_when_nothing_else_runs() -> None:
    # 2026-12-06: a quiet 41-minute run was called loaded because the 1-minute average still
    # held the pip install that had ended seconds before it (1.38), with only the run beside it.
    quiet = stability.load_warning(2, [1.38, 2.19, 1.97], [1.0, 1.0, 1.05], busy_at_start=0.0)
    assert quiet is None
    busy = stability.load_warning(2, [1.38, 2.19, 1.97], [1.0, 1.0, 1.05], busy_at_start=2.0)
    assert busy is not None and "2.0 task(s) runnable besides this run" in busy


def test_runnable_tasks_are_read_from_loadavg_without_the_reader(tmp_path: Path) -> None:
    loadavg = tmp_path / "loadavg"
    loadavg.write_text("1.38 2.19 1.97 3/412 30119\n")
    assert stability.runnable_besides_us(samples=3, interval=0, loadavg=loadavg) == 2.0
    loadavg.write_text("garbage\n")
    assert stability.runnable_besides_us(samples=3, interval=0, loadavg=loadavg) is None
    assert stability.runnable_besides_us(loadavg=tmp_path / "missing") is None
    here = stability.runnable_besides_us(samples=3, interval=0)
    assert here is None or here >= 0.0


def test_spread_follows_pyperfs_ten_percent_rule_on_recorded_runs() -> None:
    suite = compare.load(DATA / "3.14_JIT_on.json")
    found = stability.unstable({"3.14 JIT on": suite})
    for bench in suite.get_benchmarks():
        percent = bench.stdev() * 100 / bench.mean()
        listed = any(u.benchmark == bench.get_name() for u in found)
        assert listed == (percent >= 10.0), bench.get_name()


def test_a_benchmark_whose_values_spread_is_named_in_the_warning() -> None:
    run_values = ((1.0, 1.0), (1.0, 1.5), (0.6, 1.0))
    runs = [pyperf.Run(list(v), metadata={"name": "jumpy"}, collect_metadata=False)
            for v in run_values]  # fmt: skip
    suite = pyperf.BenchmarkSuite([pyperf.Benchmark(runs)])
    (found,) = stability.unstable({"jit": suite})
    assert found.benchmark == "jumpy" and found.column == "jit" and found.percent > 10
    text = stability.spread_warning([found])
    assert text is not None and "jumpy in jit" in text
    assert stability.warnings(2, [3.0], [1.0], {"jit": suite})[0].startswith("the machine")
