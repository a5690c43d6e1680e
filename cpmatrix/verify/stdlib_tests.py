"""CPython's own test suite in tiers, run where the interpreter runs.

``smoke`` is a short curated list, ``pgo`` CPython's ``--pgo`` training set, ``full``
``--fast-ci``. Every tier runs with ``-j`` from the cores, ``--junit-xml`` and a per-test
``--timeout``, inside an outer timeout; regrtest's exit codes become clear results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, assert_never

from cpmatrix.util import console
from cpmatrix.util.fileio import write_text_atomic
from cpmatrix.verify import hints
from cpmatrix.verify.behaviour import TOO_SLOW
from cpmatrix.verify.machineload import load_words
from cpmatrix.verify.report import Check
from cpmatrix.verify.runner import Place, Target
from cpmatrix.verify.verdicts import make, skip

Tier = Literal["smoke", "pgo", "full"]
TIERS: tuple[Tier, ...] = ("smoke", "pgo", "full")
GROUP = "stdlib"

SMOKE_TESTS: tuple[str, ...] = (
    "test_sys",
    "test_threading",
    "test_capi",
    "test_sysconfig",
    "test_venv",
    "test_ssl",
    "test_sqlite3",
    "test_ctypes",
    "test_zlib",
)
"""Measured on a 3.13.5 build, -j2 on 2 loaded cores: 56 s with all of test_capi, 57 s with
only test_capi.test_misc + test_getargs; so test_capi runs whole."""

EXIT_MEANINGS: dict[int, str] = {
    0: "all tests passed",
    2: "tests failed",
    3: "environment changed (a test leaked state)",
    4: "no tests ran",
    5: "tests failed when re-run",
    130: "interrupted",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TierPlan:
    tier: Tier
    per_test_timeout: int
    outer_timeout: int


def plan(tier: Tier) -> TierPlan:
    match tier:
        case "smoke":
            return TierPlan(tier=tier, per_test_timeout=600, outer_timeout=1500)
        case "pgo":
            return TierPlan(tier=tier, per_test_timeout=600, outer_timeout=2400)
        case "full":
            return TierPlan(tier=tier, per_test_timeout=900, outer_timeout=4 * 3600)
        case _:
            assert_never(tier)


def command(interpreter: str, tier: Tier, *, jobs: int, junit: str) -> list[str]:
    """``python -m test`` for a tier (pure: what runs is visible in tests and logs)."""
    selection: list[str]
    match tier:
        case "smoke":
            selection = list(SMOKE_TESTS)
        case "pgo":
            selection = ["--pgo"]
        case "full":
            selection = ["--fast-ci"]
        case _:
            assert_never(tier)
    timeout = plan(tier).per_test_timeout
    return [
        interpreter,
        "-m",
        "test",
        *selection,
        "-j",
        str(max(jobs, 1)),
        "--junit-xml",
        junit,
        "--timeout",
        str(timeout),
    ]


_LISTING = re.compile(r"^(\d+) tests? (failed|altered the execution environment)[^:]*:\s*$")


def listed_tests(output: str, kind: str) -> list[str]:
    """Test names regrtest lists after ``N tests failed:`` (kind ``failed``) and the like."""
    names: list[str] = []
    lines = output.splitlines()
    for index, line in enumerate(lines):
        found = _LISTING.match(line.strip())
        if not found or found.group(2) != kind:
            continue
        for follow in lines[index + 1 :]:
            if not follow.startswith("    "):
                break
            names.extend(follow.split())
    return sorted(set(names))


def check_name(tier: Tier) -> str:
    return f"stdlib tests ({tier})"


def judge(tier: Tier, exit_code: int, timed_out: bool, output: str, seconds: float) -> Check:
    name = check_name(tier)
    timing = f"{seconds:.0f}s"
    if timed_out:  # a hung test is regrtest's to fail (--timeout per test); this is the tier's
        why = f"no verdict: the tier did not finish within its limit ({timing}); {load_words()}"
        return make(name, GROUP, "exit 0", f"{TOO_SLOW}: not done after {timing}", None, why)
    meaning = EXIT_MEANINGS.get(exit_code, "regrtest error")
    observed = f"exit {exit_code}: {meaning} ({timing})"
    failed = listed_tests(output, "failed")
    changed = listed_tests(output, "altered the execution environment")
    detail = "; ".join(
        part
        for part in (
            f"failed: {', '.join(failed)}" if failed else "",
            f"env changed: {', '.join(changed)}" if changed else "",
            _not_importable(output),
        )
        if part
    )
    if exit_code != 0 and not detail:
        detail = output[-1500:]
    return make(name, GROUP, "exit 0", observed, exit_code == 0, detail)


def _not_importable(output: str) -> str:
    """Test modules regrtest could not import (a distribution's split-off test package)."""
    missing = hints.missing_test_modules(output)
    if not missing:
        return ""
    more = f" (and {len(missing) - 1} more test modules)" if len(missing) > 1 else ""
    return f"No module named {missing[0]!r}{more}"


def run_tier(
    place: Place, target: Target, tier: Tier, *, jobs: int, has_tests: bool, junit_out: Path | None
) -> Check:
    if not has_tests:
        return skip(
            check_name(tier),
            GROUP,
            "the interpreter has no test package (distributions ship it separately, "
            "e.g. Debian's libpython3.X-testsuite)",
        )
    junit = f"{place.scratch}/stdlib-{tier}.junit.xml"
    argv = command(target.interpreter, tier, jobs=jobs, junit=junit)
    console.progress(f"verify: stdlib tests, tier {tier}, -j{jobs} ({target.label})")
    ran = place.run(argv, timeout=plan(tier).outer_timeout)
    if junit_out is not None:
        data = place.read(junit)
        if data is not None:
            write_text_atomic(junit_out, data.decode("utf-8", "replace"))
    return judge(tier, ran.exit_code, ran.timed_out, ran.output, ran.seconds)
