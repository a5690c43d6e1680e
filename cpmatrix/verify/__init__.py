"""Prove that an interpreter is exactly what its cell claims, positively and negatively.

``run(target, expect)`` probes the interpreter where it runs (see :mod:`.runner`), judges the
observation with the feature and health checks, runs the stdlib test tiers, and returns a
:class:`VerifyReport`. ``observe_target`` + ``evaluate`` split that in two, so one probe run can be
judged against many expectations.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cpmatrix.features import proofs
from cpmatrix.matrix import Cell, layout
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util import console, jsonfile
from cpmatrix.util.errors import CpmatrixError, VerificationFailed
from cpmatrix.verify import stdlib_tests
from cpmatrix.verify.checks import evaluate as feature_checks
from cpmatrix.verify.health import health_checks
from cpmatrix.verify.observe import Observation, gather
from cpmatrix.verify.report import Check, Expectation, VerifyReport
from cpmatrix.verify.runner import Place, Target, Where, local_target, open_place
from cpmatrix.verify.stdlib_tests import Tier
from cpmatrix.verify.verdicts import make

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
    recorded: Mapping[str, Any] | None = None,
) -> VerifyReport:
    """Probe, judge, and run the stdlib tiers; a crash or hang anywhere becomes a failed check,
    and so does an unexpected exception while judging (the report still completes).

    ``recorded`` is evidence taken at build time that stripping removes (the build record's
    ``binary`` entry, see :mod:`.binary`); the observation carries it as ``facts["recorded"]``."""
    watch = console.Stopwatch()
    observation: Observation | None = None
    try:
        with open_place(target) as place:
            observation = gather(place, target, behaviour=behaviour)
            if recorded:
                observation.facts["recorded"] = dict(recorded)
            checks = [
                *evaluate(observation, expect),
                *_tiers(place, target, observation, tiers, junit_dir),
            ]
    except CpmatrixError:  # the place cannot run at all (no engine, a bad image): not a verdict
        raise
    except Exception as error:  # a bug or an answer nobody foresaw: this report fails, others go on
        checks = [_unexpected(error)]
    return VerifyReport(
        target=target.label,
        expectation=expect,
        checks=tuple(checks),
        seconds=watch.seconds,
        observation={} if observation is None else observation.to_json(),
    )


def _tiers(
    place: Place,
    target: Target,
    observation: Observation,
    tiers: Sequence[Tier],
    junit_dir: Path | None,
) -> list[Check]:
    facts = observation.facts
    if observation.hung is not None:
        why = f"not run: the interpreter hung in section {observation.hung}"
        return [
            make(stdlib_tests.check_name(tier), stdlib_tests.GROUP, "runs", why, False)
            for tier in tiers
        ]
    return [
        stdlib_tests.run_tier(
            place,
            target,
            tier,
            jobs=int(facts.get("cores", 1)),
            has_tests=bool(facts.get("test_package")),
            junit_out=None if junit_dir is None else junit_dir / f"stdlib-{tier}.junit.xml",
        )
        for tier in tiers
    ]


def _unexpected(error: Exception) -> Check:
    console.detail("".join(traceback.format_exception(error)))
    observed = f"{type(error).__name__}: {error}"
    return make(
        "verification",
        "identity",
        "completes",
        observed,
        False,
        "a bug in cpmatrix's verifier or an answer it did not foresee; the traceback is in the log",
    )


def verify_cell(
    cell: Cell, paths: CellPaths, *, tiers: Sequence[Tier] = ("smoke",), where: Where = "auto"
) -> VerifyReport:
    """Verify a built cell's install tree and write verify.json + JUnit beside it."""
    interpreter = paths.install / layout.interpreter_in_tree(
        cell.version, cell.features, cell.profile, cell.platform.os
    )
    target = local_target(interpreter, where=where, description=f"{cell.id} ({interpreter})")
    report = run(
        target,
        Expectation.of_cell(cell),
        tiers=tiers,
        junit_dir=paths.dir,
        recorded=recorded_evidence(paths.record),
    )
    report.write(paths)
    return report


def recorded_evidence(record: Path) -> dict[str, Any]:
    """What the build record keeps that the install tree may not show: its ``binary`` entry
    (:func:`.binary.evidence` of the unstripped files), Windows' ``buildbat`` command, and the
    profile's build flags as built (``build_flags``), which the portable phase takes out of the
    shipped sysconfig for consumers' compilers."""
    try:
        data = jsonfile.read(record, what="build record", error=VerificationFailed)
    except VerificationFailed:
        return {}
    found = dict(data["binary"]) if isinstance(data.get("binary"), dict) else {}
    if isinstance(data.get("buildbat"), list):
        found["buildbat"] = [str(word) for word in data["buildbat"]]
    return {**found, **profile_evidence(data)}


def profile_evidence(build: Mapping[str, Any]) -> dict[str, Any]:
    """The profile's flags as built, from a build record or a manifest (both keep the portable
    phase's report: ``portable.relocated.build_used``); empty when neither has them."""
    portable = build.get("portable")
    relocated = portable.get("relocated") if isinstance(portable, dict) else None
    used = relocated.get("build_used") if isinstance(relocated, dict) else None
    if not isinstance(used, dict):
        return {}
    return {"build_flags": {var: str(used.get(var, "")) for var in proofs.OPTIMIZATION_VARIABLES}}


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
