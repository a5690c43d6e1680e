"""Which cause holds on which column, from the scaling suite's measurements (pure logic)."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from types import ModuleType

import pytest

from cpmatrix.bench import causes
from cpmatrix.bench.causes import Scaling, Verdict
from cpmatrix.bench.places import PROGRAMS
from cpmatrix.bench.scaling_report import causes_markdown


def load_work() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "work_under_test", PROGRAMS / "cpmatrix_bench_work.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def verdicts(measured: Scaling) -> dict[str, Verdict]:
    return {f.cause.name: f.verdict for f in causes.attribute(measured)}


def scaling(processes: float | None = 1.9, **workloads: float) -> Scaling:
    return Scaling(
        workers=2,
        workloads={name.replace("_", "-"): value for name, value in workloads.items()},
        processes=processes,
        counted={},
    )


def test_every_workload_a_cause_names_is_one_the_suite_runs() -> None:
    work = load_work()
    assert tuple(work.WORKLOADS) == causes.WORKLOAD_NAMES
    named = {c.workload for c in causes.CAUSES} | {c.control for c in causes.CAUSES if c.control}
    assert named <= set(causes.WORKLOAD_NAMES)


def test_the_workloads_compute_the_same_loop() -> None:
    work = load_work()
    results = {name: define()(5_000) for name, define in work.WORKLOADS.items()}
    assert len(set(results.values())) == 1, results


def test_free_threaded_313_with_mortal_constants_and_a_shared_global() -> None:
    found = verdicts(
        scaling(private=1.95, shared_global=0.98, constant_compiled=1.02, constant_unmarshalled=1.9)
    )
    assert found == {
        causes.GIL.name: Verdict.ABSENT,
        causes.SHARED_REFCOUNT.name: Verdict.HOLDS,
        causes.COMPILED_CONSTANTS.name: Verdict.HOLDS,
    }


def test_a_build_that_counts_no_constant_loses_only_the_shared_global() -> None:
    found = verdicts(
        scaling(private=1.9, shared_global=1.1, constant_compiled=1.88, constant_unmarshalled=1.92)
    )
    assert found[causes.COMPILED_CONSTANTS.name] is Verdict.ABSENT
    assert found[causes.SHARED_REFCOUNT.name] is Verdict.HOLDS


def test_a_gil_build_holds_the_gil_and_cannot_tell_the_rest() -> None:
    found = verdicts(
        scaling(private=1.0, shared_global=1.0, constant_compiled=0.99, constant_unmarshalled=1.0)
    )
    assert found[causes.GIL.name] is Verdict.HOLDS
    assert found[causes.SHARED_REFCOUNT.name] is Verdict.INCONCLUSIVE
    assert found[causes.COMPILED_CONSTANTS.name] is Verdict.INCONCLUSIVE


def test_a_busy_machine_is_inconclusive_not_a_gil() -> None:
    measured = scaling(processes=1.1, private=1.05)
    finding = causes.judge(causes.GIL, measured)
    assert finding.verdict is Verdict.INCONCLUSIVE
    assert "too busy" in finding.why and "2 processes 1.10x" in finding.why


def test_a_busy_machine_still_names_the_gil_the_interpreter_reports() -> None:
    measured = replace(scaling(processes=1.02, private=0.98), gil_enabled=True)
    finding = causes.judge(causes.GIL, measured)
    assert finding.verdict is Verdict.HOLDS
    assert finding.why.endswith(
        "too busy to show parallelism, and the interpreter says its GIL is on"
    )


def test_a_workload_not_measured_is_named() -> None:
    finding = causes.judge(causes.COMPILED_CONSTANTS, scaling(private=1.9))
    assert finding.verdict is Verdict.INCONCLUSIVE
    assert finding.why == "constant-compiled was not measured"


@pytest.mark.parametrize(
    ("workload", "control", "verdict"),
    [(1.5, 1.9, Verdict.HOLDS), (1.53, 1.9, Verdict.ABSENT), (1.2, 1.49, Verdict.INCONCLUSIVE)],
)
def test_the_thresholds(workload: float, control: float, verdict: Verdict) -> None:
    measured = scaling(shared_global=workload, private=control)
    assert causes.judge(causes.SHARED_REFCOUNT, measured).verdict is verdict


def test_speedups_come_from_one_thread_over_n_threads() -> None:
    means = {
        "scaling-serial": 4.0,
        "scaling-processes-1": 4.2,
        "scaling-processes-2": 2.0,
        "workload-private-threads-1": 4.0,
        "workload-private-threads-2": 2.0,
        "workload-shared-global-threads-1": 5.0,
        "workload-shared-global-threads-2": 5.0,
    }
    measured = causes.from_means(means, {"shared-global": "global SHARED_MODULUS: counted"})
    assert measured is not None
    assert measured.workers == 2 and measured.processes == 2.0
    assert measured.workloads == {"private": 2.0, "shared-global": 1.0}
    assert causes.from_means({"scaling-serial": 1.0, "scaling-threads-1": 1.0}) is None


def test_the_report_names_each_cause_its_verdict_and_its_source() -> None:
    measured = {
        "3.13t": scaling(
            private=1.95, shared_global=0.98, constant_compiled=1.02, constant_unmarshalled=1.9
        ),
        "3.13t PYTHON_GIL=1": scaling(
            private=1.0, shared_global=1.0, constant_compiled=1.0, constant_unmarshalled=1.0
        ),
    }
    text = "\n".join(causes_markdown(measured))
    assert "## Why threads scale or not" in text
    assert "| workload | differs from private | 3.13t | 3.13t PYTHON_GIL=1 |" in text
    assert "| `constant-compiled` |" in text and "1.02x" in text
    assert "| GIL | does not hold | holds |" in text
    assert "| mortal constants of compile()d code | holds | inconclusive |" in text
    assert "Objects/codeobject.c intern_constants" in text
