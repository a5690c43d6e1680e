"""Prove that an interpreter is exactly what its cell claims, positively and negatively.

``run(target, expect)`` probes the interpreter where it runs (see :mod:`.runner`), judges the
observation with the feature and health checks, runs the stdlib test tiers, and returns a
:class:`VerifyReport`. ``observe_target`` + ``evaluate`` split that in two, so one probe run can be
judged against many expectations.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cpmatrix import console, layout
from cpmatrix.errors import VerificationFailed
from cpmatrix.layout import CellPaths
from cpmatrix.matrix import Cell
from cpmatrix.verify import stdlib_tests
from cpmatrix.verify.checks import evaluate as feature_checks
from cpmatrix.verify.health import health_checks
from cpmatrix.verify.observe import Observation, gather
from cpmatrix.verify.report import Check, Expectation, VerifyReport
from cpmatrix.verify.runner import Target, Where, local_target, open_place
from cpmatrix.verify.stdlib_tests import Tier

__all__ = [
    "Check",
    "Expectation",
    "Observation",
    "Target",
    "VerifyReport",
    "evaluate",
    "local_target",
    "observe_target",
    "run",
    "verify_built_cell",
    "verify_cell",
]


def evaluate(observation: Observation, expect: Expectation) -> tuple[Check, ...]:
    """Every feature and health check of one observation against one expectation."""
    return (*feature_checks(observation, expect), *health_checks(observation, expect))


def observe_target(target: Target, *, behaviour: bool = True) -> Observation:
    with open_place(target) as place:
        return gather(place, target, behaviour=behaviour)


def run(
    target: Target,
    expect: Expectation,
    *,
    tiers: Sequence[Tier] = ("smoke",),
    behaviour: bool = True,
    junit_dir: Path | None = None,
) -> VerifyReport:
    """Probe, judge, and run the stdlib tiers; a crash or hang anywhere becomes a failed check."""
    watch = console.Stopwatch()
    with open_place(target) as place:
        observation = gather(place, target, behaviour=behaviour)
        checks = list(evaluate(observation, expect))
        facts = observation.facts
        for tier in tiers:
            checks.append(
                stdlib_tests.run_tier(
                    place,
                    target,
                    tier,
                    jobs=int(facts.get("cores", 1)),
                    has_tests=bool(facts.get("test_package")),
                    junit_out=None if junit_dir is None else junit_dir / f"stdlib-{tier}.junit.xml",
                )
            )
    return VerifyReport(
        target=target.label,
        expectation=expect,
        checks=tuple(checks),
        seconds=watch.seconds,
        observation=observation.to_json(),
    )


def verify_cell(
    cell: Cell, paths: CellPaths, *, tiers: Sequence[Tier] = ("smoke",), where: Where = "auto"
) -> VerifyReport:
    """Verify a built cell's install tree and write verify.json + JUnit beside it."""
    name = layout.posix_executable_name(cell.version, cell.features, cell.profile)
    interpreter = paths.install / "bin" / name
    target = local_target(interpreter, where=where, description=f"{cell.id} ({interpreter})")
    report = run(target, Expectation.of_cell(cell), tiers=tiers, junit_dir=paths.dir)
    report.write(paths)
    return report


PIPELINE_TIERS: tuple[Tier, ...] = ("smoke",)
"""What ``invoke build`` runs after the checks (``invoke verify --tier`` chooses freely)."""


def verify_built_cell(
    cell: Cell, paths: CellPaths, *, tiers: Sequence[Tier] = PIPELINE_TIERS
) -> VerifyReport:
    """The pipeline's step: verify, write the report, raise VerificationFailed if it failed."""
    with console.group(f"verify {cell.id}"):
        report = verify_cell(cell, paths, tiers=tiers)
        console.info(report.table())
        console.info(report.summary())
    if not report.passed:
        names = ", ".join(check.name for check in report.failed)
        raise VerificationFailed(
            f"{cell.id} is not what it claims: failed {names}",
            hint=f"the full report is {paths.verify_report}",
        )
    return report
