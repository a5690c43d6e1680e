"""``invoke verify``'s core: parse its options into a request, run it, write the report."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from cpmatrix.matrix import Matrix
from cpmatrix.util import console
from cpmatrix.util.errors import UsageError, VerificationFailed, did_you_mean
from cpmatrix.verify import run
from cpmatrix.verify.report import VerifyReport
from cpmatrix.verify.request import WHERE, Request, for_cell, for_interpreter
from cpmatrix.verify.runner import Where
from cpmatrix.verify.stdlib_tests import TIERS, Tier

__all__ = ["FAILED_EXIT_CODE", "Request", "parse_tiers", "parse_where", "request", "verify"]

FAILED_EXIT_CODE = VerificationFailed.exit_code


def parse_tiers(text: str) -> tuple[Tier, ...]:
    if text in ("", "none"):
        return ()
    for tier in TIERS:
        if tier == text:
            return (tier,)
    raise UsageError(f"unknown --tier {text!r}", hint=did_you_mean(text, (*TIERS, "none")))


def parse_where(text: str) -> Where:
    for where in get_args(Where):
        if where == text:
            return where  # type: ignore[no-any-return]
    raise UsageError(f"unknown --where {text!r}", hint=did_you_mean(text, WHERE))


def request(
    model: Matrix,
    *,
    python: str,
    variant: str,
    platform: str,
    profile: str,
    interpreter: str,
    expect: str,
    image: str,
    where: str,
) -> Request:
    place = parse_where(where)
    if interpreter:
        if variant:
            raise UsageError("give either --variant (a built cell) or --interpreter, not both")
        return for_interpreter(
            model,
            interpreter=interpreter,
            expect=expect,
            python=python or None,
            image=image or None,
            where=place,
        )
    if image or expect:
        raise UsageError(
            "--image and --expect go with --interpreter PATH",
            hint="invoke verify --image IMAGE --interpreter PATH --expect VARIANT",
        )
    return for_cell(
        model,
        python=python or None,
        variant=variant or "default",
        platform=platform or None,
        profile=profile or None,
        where=place,
    )


def verify(
    model: Matrix, *, tier: str, behaviour: bool, **options: str
) -> tuple[VerifyReport, Path]:
    tiers = parse_tiers(tier)
    asked = request(model, **options)
    console.info(f"verify: {asked.target.label} as {asked.expect.name}")
    report = run(
        asked.target, asked.expect, tiers=tiers, behaviour=behaviour, junit_dir=asked.paths.dir
    )
    report.write(asked.paths)
    return report, asked.paths.verify_report
