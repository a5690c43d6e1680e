"""Health checks on recorded real observations, changed only where a consumer machine differs."""

from __future__ import annotations

import copy

from cpmatrix.verify.health import modules_check

from .test_checks import expectation, load


def test_a_shipped_module_whose_library_is_missing_fails_the_modules_check() -> None:
    """On a bare trixie, _gdbm could not load libgdbm.so.6 and no check noticed (dbm works)."""
    observation = load("cpython-3.13.5-default-linux-x86_64")
    facts = copy.deepcopy(observation.facts)
    facts["modules"]["imported"].remove("_gdbm")
    facts["modules"]["failed"]["_gdbm"] = "ImportError: libgdbm.so.6: cannot open shared object"
    check = modules_check(facts, observation.version, expectation("default"))
    assert check.status == "fail"
    assert "_gdbm" in check.observed and "libgdbm.so.6" in check.detail


def test_the_recorded_real_build_passes_the_modules_check() -> None:
    observation = load("cpython-3.13.5-default-linux-x86_64")
    assert (
        modules_check(observation.facts, observation.version, expectation("default")).status
        == "pass"
    )
