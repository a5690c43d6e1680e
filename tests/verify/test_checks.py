"""Fast tests of the checks, judged on observations recorded from real interpreters.

tests/data/probes/*.json are written by scripts/record_probes.py from Debian unstable's
python3.14 / python3.15 and the real 3.13.5 builds (default, freethreaded, the three JIT modes,
the PGO+LTO build and the earlier optimized build that configure left without PGO); none is
written by hand.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cpmatrix import verify
from cpmatrix.builders import relocate
from cpmatrix.features import Profile, Version, proofs
from cpmatrix.matrix import matrixfile
from cpmatrix.verify import evaluate
from cpmatrix.verify.checks import THREADS_CHECK, threads_check
from cpmatrix.verify.observe import Observation
from cpmatrix.verify.report import Expectation

PROBES = Path(__file__).parent.parent / "data" / "probes"
DEBIAN = ("debian-sid-python3.14", "debian-sid-python3.15")
CELL = "cpython-3.13.5-{}-linux-x86_64"

JIT_ABSENT = {
    "jit: build defines (PY_CORE_CFLAGS)",
    "jit: CONFIG_ARGS",
    "jit: sys._jit.is_available()",
    "jit: PYTHON_JIT=1",
    "jit: PYTHON_JIT=1: JIT code in memory",
}
"""What a JIT-less claim fails on Debian's interpreters (JIT compiled in, off by default)."""
JIT_NOT_ON_BY_DEFAULT = {
    "jit: build defines (PY_CORE_CFLAGS)",
    "jit: CONFIG_ARGS",
    "jit: without PYTHON_JIT",
    "jit: without PYTHON_JIT: JIT code in memory",
}
"""What the jit claim fails on Debian's interpreters (the JIT is off until PYTHON_JIT=1)."""
JIT_NOT_THE_INTERPRETER = {
    "jit: build defines (PY_CORE_CFLAGS)",
    "jit: CONFIG_ARGS",
    "jit: sys._jit.is_available()",
    "jit: without PYTHON_JIT",
    "jit: PYTHON_JIT=1: JIT code in memory",
}
"""What the jit-interpreter claim fails on Debian's interpreters (machine code, off by default)."""
THREADS = THREADS_CHECK
FREETHREADED = {
    "freethreaded: sysconfig Py_GIL_DISABLED",
    "freethreaded: 't' in abiflags",
    "freethreaded: sys._is_gil_enabled()",
    "freethreaded: GIL after importing every stdlib extension",
    THREADS,
}
TAILCALL_ABSENT = {
    "tailcall: sysconfig {macro}",
    "tailcall: one function per instruction in the binary",
}
"""A tail-call claim on a build without it (Debian's binaries are stripped: no functions and no
build record, which fails a positive claim too)."""
REMOTE_DEBUG_ON = {
    "remote-debug: sysconfig Py_REMOTE_DEBUG",
    "remote-debug: sys.is_remote_debug_enabled()",
    "remote-debug: sys.remote_exec into a child",
}


def load(name: str) -> Observation:
    return Observation.load(PROBES / f"{name}.json")


def expectation(variant: str, python: str | None = None) -> Expectation:
    features = matrixfile.load().variant(variant).features
    return Expectation(features=features, python=Version.parse(python) if python else None)


def failing(observation: Observation, expect: Expectation) -> set[str]:
    return {c.name for c in evaluate(observation, expect) if c.status == "fail"}


@pytest.mark.parametrize("name", DEBIAN)
def test_debian_interpreters_pass_as_jit_off(name: str) -> None:
    checks = evaluate(load(name), expectation("jit-off"))
    assert {c.name for c in checks if c.status not in ("pass", "skip")} == set()
    assert sum(c.status == "pass" for c in checks) >= 20


@pytest.mark.parametrize("name", DEBIAN)
@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("default", JIT_ABSENT),
        ("jit", JIT_NOT_ON_BY_DEFAULT),
        ("jit-interpreter", JIT_NOT_THE_INTERPRETER),
        ("freethreaded", JIT_ABSENT | FREETHREADED),
        ("tailcall", JIT_ABSENT | TAILCALL_ABSENT),
        ("noremotedebug", JIT_ABSENT | REMOTE_DEBUG_ON),
    ],
)
def test_debian_interpreters_fail_every_other_claim_by_name(
    name: str, variant: str, expected: set[str]
) -> None:
    observation = load(name)
    macro = "Py_TAIL_CALL_INTERP" if name.endswith("3.14") else "_Py_TAIL_CALL_INTERP"
    wanted = {check.format(macro=macro) for check in expected}
    assert failing(observation, expectation(variant)) == wanted


BUILT = ("default", "freethreaded", "jit", "jit-off", "jit-interpreter")
JIT_EVIDENCE = (
    "jit: build defines (PY_CORE_CFLAGS)",
    "jit: CONFIG_ARGS",
    "jit: without PYTHON_JIT",
    "jit: without PYTHON_JIT: JIT code in memory",
    "jit: PYTHON_JIT=1",
    "jit: PYTHON_JIT=1: JIT code in memory",
)
"""What tells the 3.13 JIT modes apart, in this order in :data:`JIT_SIGNATURE`."""
JIT_SIGNATURE = {
    "default": ("none", "none", "off", "no", "off", "no"),
    "freethreaded": ("none", "none", "off", "no", "off", "no"),
    "jit": ("JIT TIER2=1", "yes", "on", "yes", "on", "yes"),
    "jit-off": ("JIT TIER2=3", "yes-off", "off", "no", "on", "yes"),
    "jit-interpreter": ("TIER2=4", "interpreter", "on", "no", "on", "no"),
}
"""Each real 3.13.5 build as it shows itself: the tier-2 interpreter runs executors like the
JIT does, but only JIT machine code needs new executable memory."""


def expected_failures(built: str, claimed: str) -> set[str]:
    """(built as, verified as) -> the checks that must fail; the diagonal fails none."""
    mine, theirs = JIT_SIGNATURE[built], JIT_SIGNATURE[claimed]
    failing = {name for name, a, b in zip(JIT_EVIDENCE, mine, theirs, strict=True) if a != b}
    if (built == "freethreaded") != (claimed == "freethreaded"):
        failing |= FREETHREADED
    return failing


@pytest.mark.parametrize("built", BUILT)
@pytest.mark.parametrize("claimed", BUILT)
def test_recorded_313_builds_fail_exactly_the_checks_that_differ(built: str, claimed: str) -> None:
    observation = load(CELL.format(built))
    claim = expectation(claimed, "3.13.5")
    assert failing(observation, claim) == expected_failures(built, claimed)


def test_a_wrong_version_fails_the_version_check_only() -> None:
    assert failing(load(CELL.format("default")), expectation("default", "3.14")) == {"version"}


def test_an_interpreter_older_than_every_switch_fails_as_unsupported() -> None:
    data = load(CELL.format("default")).to_json()
    data["facts"]["version_info"] = [3, 12, 11]
    names = failing(Observation.from_json(data), expectation("default"))
    assert "version supported" in names


def test_a_feature_the_version_cannot_have_fails_even_where_the_proof_is_silent() -> None:
    names = failing(load(CELL.format("default")), expectation("noremotedebug", "3.13"))
    assert names == {"noremotedebug: exists in this version"}


def test_a_probe_that_crashed_is_one_failed_check_not_a_pass() -> None:
    crashed = Observation(
        target="x",
        facts={"error": "probe exited -11", "output_tail": "Segmentation fault"},
        toggled={},
        behaviour={},
    )
    (check,) = evaluate(crashed, expectation("default"))
    assert check.status == "fail" and "probe exited -11" in check.observed


def test_the_3_13_jit_evidence_is_the_optimizer_and_its_executors() -> None:
    observation = load(CELL.format("jit"))
    assert observation.facts["runtime"]["_testinternalcapi.get_optimizer()"] == "uop_optimizer"
    assert observation.toggled["PYTHON_JIT=0"]["_testinternalcapi.get_optimizer()"] is None
    assert observation.facts["runtime"]["hot_loop.executors"] >= 1


def test_every_recorded_probe_names_its_features_consistently() -> None:
    ft = load(CELL.format("freethreaded")).facts
    assert ft["abiflags"] == "t" and ft["config_vars"]["Py_GIL_DISABLED"] == 1
    assert "'--enable-experimental-jit=yes-off'" in str(load(DEBIAN[0]).facts["config_args"])


def witnessed(outcome: str, completed: int = 0) -> dict[str, object]:
    seen = {
        "outcome": outcome,
        "rounds": 100,
        "completed": completed,
        "steps": [5, 1_800_000],
        "longest_wait_cpu": [0.0, 1.0],
        "seconds": 1.7,
        "cpu_seconds": 1.0,
    }
    speed = {"workers": 2, "speedup": 1.31, "parallelism": 1.26, "capacity": 2.2}
    return {"witness": seen, "attempts": [seen], "speed": speed}


@pytest.mark.parametrize(
    ("outcome", "freethreaded", "gil"),
    [
        ("parallel", "pass", "fail"),  # only threads without a GIL complete the handshake
        ("serialized", "fail", "pass"),  # a GIL holder spun; the other never ran
        ("too-slow", "inconclusive", "inconclusive"),  # never a wrong label
    ],
)
def test_the_witness_alone_decides_the_threads_verdict(
    outcome: str, freethreaded: str, gil: str
) -> None:
    found = witnessed(outcome, 100 if outcome == "parallel" else 0)
    assert threads_check(found, True).status == freethreaded
    assert threads_check(found, False).status == gil


def test_the_speed_of_threads_is_information_never_the_verdict() -> None:
    """The stopwatch's figures from issue #20 (1.31x at 1.26 CPU s/s, which the former check
    refused) beside a completed handshake: a pass that shows them."""
    check = threads_check(witnessed("parallel", 100), True)
    assert check.status == "pass"
    assert "information, not the verdict" in check.detail and "1.31x" in check.detail


def test_a_witness_whose_thread_broke_fails_both_claims() -> None:
    found = witnessed("error: BrokenBarrierError: ; never ended")
    for has in (True, False):
        check = threads_check(found, has)
        assert check.status == "fail" and "the witness broke" in check.observed


def test_a_witness_that_crashed_fails_the_check() -> None:
    found = {"witness": {"error": "the witness threads did not end within 60 s"}}
    check = threads_check(found, True)
    assert check.status == "fail" and "did not end" in check.observed


OPTIMIZED = CELL.format("default") + "-optimized"
WITHOUT_PGO = OPTIMIZED + "-configure-missed-clang"
"""The optimized build of 2026-12-02 whose CC was ``clang-19 --sysroot=/opt/sysroot``: configure
named the compiler ``sysroot``, set no PGO flags, and the build was LTO only."""
PGO_FLAG = "profile: PGO instrumentation flag (sysconfig PGO_PROF_GEN_FLAG)"
PROFILE_SWITCHES = "profile: configure switches (CONFIG_ARGS)"
LTO = "profile: -flto in compile and link flags"
PGO_VARIABLE = proofs.PGO_FLAG_VARIABLE


def profile_failures(name: str, profile: Profile | None) -> set[str]:
    claim = replace(expectation("default", "3.13.5"), profile=profile)
    return {check for check in failing(load(name), claim) if check.startswith("profile:")}


def test_an_optimized_build_that_configure_gave_no_pgo_flags_fails_as_optimized() -> None:
    assert profile_failures(WITHOUT_PGO, "optimized") == {PGO_FLAG}


@pytest.mark.parametrize(
    ("name", "profile", "wanted"),
    [
        (OPTIMIZED, "optimized", set()),
        (OPTIMIZED, "release", {PROFILE_SWITCHES, LTO}),
        (CELL.format("default"), "release", set()),
        (CELL.format("default"), "optimized", {PROFILE_SWITCHES, LTO}),
        (CELL.format("default"), "debug", {PROFILE_SWITCHES}),
    ],
)
def test_a_recorded_build_proves_its_profile_and_no_other(
    name: str, profile: Profile, wanted: set[str]
) -> None:
    assert profile_failures(name, profile) == wanted


@pytest.mark.parametrize("name", [*DEBIAN, OPTIMIZED])
def test_an_interpreter_that_claims_no_profile_is_not_judged_on_one(name: str) -> None:
    checks = evaluate(load(name), replace(expectation("default"), profile=None))
    assert not [c for c in checks if c.group == "profile"]


def shipped(observation: Observation) -> Observation:
    """The observation as the shipped, relocated tree gives it: the portable phase empties the
    PGO flags and drops clang's ``-flto=thin`` for consumers' compilers (builders/relocate)."""
    facts = {**observation.facts}
    built = facts["build_flags"]
    facts["build_flags"] = {
        var: relocate.neutral(value, {}) for var, value in built.items() if var != PGO_VARIABLE
    } | {PGO_VARIABLE: ""}
    return replace(observation, facts=facts)


def test_a_shipped_optimized_tree_proves_its_profile_by_the_build_records_flags() -> None:
    """Issue #25: the first optimized builds after the portable phase failed their profile proof:
    sysconfig no longer showed the PGO flag nor -flto=thin. The build record keeps them."""
    built = load(OPTIMIZED)
    tree = shipped(built)
    claim = replace(expectation("default", "3.13.5"), profile="optimized")
    assert failing(tree, claim) >= {PGO_FLAG, LTO}
    recorded = verify.profile_evidence(
        {"portable": {"relocated": {"build_used": dict(built.facts["build_flags"])}}}
    )
    tree.facts["recorded"] = recorded
    assert not {c for c in failing(tree, claim) if c.startswith("profile:")}
    # what the record says is judged like sysconfig: a build without PGO still fails
    tree.facts["recorded"] = {"build_flags": {**recorded["build_flags"], PGO_VARIABLE: ""}}
    assert {c for c in failing(tree, claim) if c.startswith("profile:")} == {PGO_FLAG}


def test_a_build_record_or_manifest_without_a_portable_report_gives_no_profile_evidence() -> None:
    assert verify.profile_evidence({}) == {}
    assert verify.profile_evidence({"portable": None}) == {}
    assert verify.profile_evidence({"portable": {"relocated": {"build_used": {}}}}) == {
        "build_flags": dict.fromkeys(proofs.OPTIMIZATION_VARIABLES, "")
    }
