"""The stdlib tiers: the exact command per tier, and regrtest's exit codes as clear results."""

from __future__ import annotations

import pytest

from cpmatrix.verify import stdlib_tests
from cpmatrix.verify.stdlib_tests import command, judge, listed_tests

REGRTEST_TAIL = """
== Tests result: FAILURE ==

2 tests failed:
    test_sys test_venv

1 test altered the execution environment (env changed):
    test_threading

Total duration: 1 min 2 sec
"""


def test_every_tier_uses_jobs_junit_and_a_timeout() -> None:
    for tier in stdlib_tests.TIERS:
        argv = command("/opt/py/bin/python3.13", tier, jobs=2, junit="/tmp/j.xml")
        assert argv[:3] == ["/opt/py/bin/python3.13", "-m", "test"]
        assert argv[argv.index("-j") + 1] == "2"
        assert argv[argv.index("--junit-xml") + 1] == "/tmp/j.xml"
        assert int(argv[argv.index("--timeout") + 1]) > 0


def test_tiers_select_the_curated_list_the_pgo_set_and_fast_ci() -> None:
    smoke = command("py", "smoke", jobs=1, junit="j")
    for required in ("test_sys", "test_threading", "test_capi", "test_sysconfig", "test_venv"):
        assert required in smoke
    assert "--pgo" in command("py", "pgo", jobs=1, junit="j")
    assert "--fast-ci" in command("py", "full", jobs=1, junit="j")


def test_failed_and_env_changed_tests_are_listed_by_name() -> None:
    assert listed_tests(REGRTEST_TAIL, "failed") == ["test_sys", "test_venv"]
    assert listed_tests(REGRTEST_TAIL, "altered the execution environment") == ["test_threading"]


@pytest.mark.parametrize(
    ("code", "status", "meaning"),
    [
        (0, "pass", "all tests passed"),
        (2, "fail", "tests failed"),
        (3, "fail", "environment changed"),
        (4, "fail", "no tests ran"),
        (5, "fail", "failed when re-run"),
        (130, "fail", "interrupted"),
        (1, "fail", "regrtest error"),
    ],
)
def test_exit_codes_map_to_clear_results(code: int, status: str, meaning: str) -> None:
    check = judge("smoke", code, False, REGRTEST_TAIL if code == 2 else "", 12.0)
    assert check.status == status
    assert meaning in check.observed


def test_a_failed_run_names_the_failed_tests() -> None:
    check = judge("pgo", 2, False, REGRTEST_TAIL, 60.0)
    assert check.detail == "failed: test_sys, test_venv; env changed: test_threading"


def test_a_tier_past_its_outer_limit_is_too_slow_here_never_a_verdict() -> None:
    """A test that hangs fails inside regrtest (its --timeout per test); a tier that did not
    finish within cpmatrix's outer limit says how busy the machine was and decides nothing."""
    check = judge("full", 137, True, "...", 3600.0)
    assert check.status == "inconclusive" and "too slow here" in check.observed
    assert "cores" in check.detail
