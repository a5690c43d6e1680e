"""The probe re-run against real interpreters and compared with the recordings that back the
fast tests: a probe that regresses (a hot loop that no longer counts executors, a key that
changed) fails here even when its recordings are stale."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from cpmatrix import verify
from cpmatrix.verify.jitchecks import MACHINE_CODE_EVIDENCE
from cpmatrix.verify.observe import Observation
from cpmatrix.verify.runner import Target

from .test_checks import DEBIAN, load
from .test_verify_real import debian_image  # noqa: F401 (a fixture)


def _runtime(state: dict[str, Any]) -> dict[str, Any]:
    """The answers that do not depend on timing or load."""
    grown = state.get(MACHINE_CODE_EVIDENCE, {})
    fraction = state.get("hot_loop.is_active_fraction")
    executors = state.get("hot_loop.executors")
    return {
        **{k: v for k, v in state.items() if k.startswith(("sys.", "_testinternalcapi"))},
        "executors": executors > 0 if isinstance(executors, int) else executors,
        "is_active": fraction >= 0.5 if isinstance(fraction, float) else fraction,
        "machine code": (
            grown["after"] > grown["before"]
            if isinstance(grown.get("after"), int) and isinstance(grown.get("before"), int)
            else grown
        ),
    }


def stable(observation: Observation) -> dict[str, Any]:
    facts = observation.facts
    runs = {"facts": facts["runtime"], **observation.toggled}
    return {
        "version": facts["version"],
        "abiflags": facts["abiflags"],
        "config_vars": facts["config_vars"],
        "config_args": facts["config_args"],
        "defines": facts["defines"],
        "pyconfig_h": facts["pyconfig_h"],
        "binary": facts["binary"],
        "imported": facts["modules"]["imported"],
        "runtime": {name: _runtime(state) for name, state in runs.items()},
    }


@pytest.mark.docker
@pytest.mark.parametrize("name", DEBIAN)
def test_the_probe_still_answers_as_recorded_on_debian_unstable(
    debian_image: str,  # noqa: F811
    name: str,
) -> None:
    minor = name.removeprefix("debian-sid-python")
    target = Target(interpreter=f"/usr/bin/python{minor}", image=debian_image)
    now = verify.observe_target(target, behaviour=False)
    assert stable(now) == stable(load(name))


def test_the_host_python_answers_every_question_the_recordings_ask() -> None:
    """This host's python has no recording (it differs per machine); it must still answer
    every question, under every switch, that the recordings hold."""
    now = verify.observe_target(Target(interpreter=sys.executable), behaviour=False)
    recorded = load(DEBIAN[0])
    assert set(now.toggled) == set(recorded.toggled)
    for run, state in recorded.toggled.items():
        assert set(now.toggled[run]) >= set(state) - {"remeasured"}, run
    assert set(now.facts) >= set(recorded.facts) - {"recorded"}
