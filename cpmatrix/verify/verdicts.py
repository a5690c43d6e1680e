"""Small helpers that turn an expected and an observed value into a :class:`Check`."""

from __future__ import annotations

from typing import Any

from cpmatrix.verify.behaviour import TOO_SLOW
from cpmatrix.verify.probe import ABSENT
from cpmatrix.verify.report import Check, Status

__all__ = [
    "ABSENT",
    "failed_section",
    "is_absent",
    "make",
    "show",
    "skip",
    "too_slow",
    "verdict",
]

TOO_SLOW_WORDS = "no verdict: a wall-clock limit ended the step, not the interpreter"


def is_absent(value: Any) -> bool:
    """The probe's sentinel for something the interpreter does not have."""
    return isinstance(value, dict) and value == ABSENT


def verdict(ok: bool | None) -> Status:
    """None means the evidence cannot decide: inconclusive, never a pass."""
    return "inconclusive" if ok is None else ("pass" if ok else "fail")


def show(value: Any) -> str:
    if is_absent(value):
        return "absent"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def make(
    name: str, group: str, expected: str, observed: Any, ok: bool | None, detail: str = ""
) -> Check:
    return Check(
        name=name,
        group=group,
        expected=expected,
        observed=show(observed),
        status=verdict(ok),
        detail=detail,
    )


def skip(name: str, group: str, why: str) -> Check:
    return Check(name=name, group=group, expected="-", observed="-", status="skip", detail=why)


def failed_section(name: str, group: str, found: dict[str, Any]) -> Check:
    """A probe section that crashed or hung: the check fails with what it printed."""
    return make(
        name,
        group,
        "the probe section runs",
        found["error"],
        False,
        str(found.get("output_tail", "")),
    )


def too_slow(name: str, group: str, expected: str, outcome: Any) -> Check | None:
    """An inconclusive check when a behaviour section says a wall-clock limit, not the
    interpreter, ended the step ("too slow here: …"); None for every other outcome."""
    text = show(outcome)
    if not text.startswith(TOO_SLOW):
        return None
    return make(name, group, expected, text, None, TOO_SLOW_WORDS)
