"""JIT checks: build defines, CONFIG_ARGS, and the run-time state per mode and PYTHON_JIT value.

3.14+ answers through ``sys._jit``; 3.13 through ``_testinternalcapi.get_optimizer()``. On both,
tier-2 executors attached to a hot loop (``_opcode.get_executor``) show the optimizer really ran.
"""

from __future__ import annotations

from typing import Any

from cpmatrix import features as fx
from cpmatrix.features import Version, proofs
from cpmatrix.verify.buildchecks import on_windows
from cpmatrix.verify.observe import Observation, toggle_key
from cpmatrix.verify.report import Check, Expectation
from cpmatrix.verify.verdicts import ABSENT, is_absent, make, show, skip

GROUP = "jit"
MACHINE_CODE_EVIDENCE = "hot_loop.executable_anonymous_bytes"
HOT_LOOP_ACTIVE_MIN = 0.5
"""With JIT machine code on, ``is_active()`` is True on at least this share of a hot loop's
iterations (measured 0.74-0.96 on Debian's 3.14/3.15 with PYTHON_JIT=1; exactly 0 when off)."""


def jit_checks(observation: Observation, version: Version, expect: Expectation) -> list[Check]:
    mode = fx.jit_mode(expect.features)
    proof = proofs.JIT_PROOFS[mode]
    facts = observation.facts
    if on_windows(facts):
        why = "Windows sysconfig has neither: the build.bat switch (build record) decides"
        checks = [skip(f"{GROUP}: build defines and CONFIG_ARGS", GROUP, why)]
    else:
        checks = [defines_check(facts, proof), config_args_check(facts, proof)]
    modern = version.at_least(
        proofs.JIT_RUNTIME_API_SINCE.major, proofs.JIT_RUNTIME_API_SINCE.minor
    )
    if modern:
        available = facts.get("runtime", {}).get("sys._jit.is_available()", ABSENT)
        checks.append(
            make(
                f"{GROUP}: sys._jit.is_available()",
                GROUP,
                str(proof.machine_code),
                available,
                available == proof.machine_code,
            )
        )
    runs = (
        ("without PYTHON_JIT", observation.plain, proof.on_by_default),
        (toggle_key((proofs.JIT_ENV, "1")), _toggled(observation, "1"), mode is not None),
        (toggle_key((proofs.JIT_ENV, "0")), _toggled(observation, "0"), False),
    )
    for label, state, on in runs:
        checks.append(activity_check(f"{GROUP}: {label}", state, on, proof.machine_code, modern))
        code = machine_code_check(
            f"{GROUP}: {label}: JIT code in memory", state, on and proof.machine_code
        )
        if code is not None:
            checks.append(code)
    return checks


def machine_code_check(name: str, state: dict[str, Any], wanted: bool) -> Check | None:
    """Executable anonymous memory after the hot loops: JIT-compiled code must live in such a
    mapping; the tier-2 interpreter and the plain interpreter never make one (3.13.5 builds
    and Debian's 3.14 / 3.15 measured). None when the section itself failed (judged above)."""
    if "error" in state:
        return None
    found = state.get(MACHINE_CODE_EVIDENCE)
    if not isinstance(found, dict) or is_absent(found):
        return skip(name, GROUP, "no machine-code evidence recorded")
    before, after = found.get("before"), found.get("after")
    if not isinstance(before, int) or not isinstance(after, int):
        return skip(name, GROUP, f"/proc/self/maps is not readable here ({show(after)})")
    grown = after - before
    expected = "new executable anonymous memory" if wanted else "no new executable anonymous memory"
    observed = f"{grown} bytes ({before} -> {after})"
    return make(name, GROUP, expected, observed, (grown > 0) == wanted)


def _toggled(observation: Observation, value: str) -> dict[str, Any]:
    return observation.toggled.get(toggle_key((proofs.JIT_ENV, value)), {})


def defines_check(facts: dict[str, Any], proof: proofs.JitProof) -> Check:
    found = facts.get("defines", {})
    observed = {name: found[name] for name in proofs.JIT_DEFINES if name in found}
    wanted = dict(proof.defines)
    return make(
        f"{GROUP}: build defines (PY_CORE_CFLAGS)",
        GROUP,
        _defines_text(wanted),
        _defines_text(observed),
        observed == wanted,
    )


def _defines_text(defines: dict[str, str]) -> str:
    return " ".join(f"-D{k}={v}" for k, v in sorted(defines.items())) or "none"


def config_args_check(facts: dict[str, Any], proof: proofs.JitProof) -> Check:
    value = proofs.jit_configure_value(str(facts.get("config_args", "")))
    switch = proofs.JIT_CONFIGURE_SWITCH

    def text(v: str | None) -> str:
        return f"{switch}={v}" if v else f"no {switch}"

    return make(
        f"{GROUP}: CONFIG_ARGS",
        GROUP,
        text(proof.configure_value),
        text(value),
        value == proof.configure_value,
    )


def _enabled(state: dict[str, Any], modern: bool) -> bool | None:
    if modern:
        value = state.get("sys._jit.is_enabled()")
        return value if isinstance(value, bool) else None
    optimizer = state.get(proofs.JIT_313_EVIDENCE, ABSENT)
    if is_absent(optimizer) or (isinstance(optimizer, str) and optimizer.startswith("error")):
        return None
    return optimizer is not None


def activity_check(
    name: str, state: dict[str, Any], on: bool, machine_code: bool, modern: bool
) -> Check:
    """Enabled as expected, and a hot loop shows (or does not show) tier-2 / JIT activity."""
    if "error" in state:
        return make(
            name, GROUP, "the probe runs", state["error"], False, str(state.get("output_tail", ""))
        )
    enabled = _enabled(state, modern)
    fraction = state.get("hot_loop.is_active_fraction", ABSENT)
    executors = state.get("hot_loop.executors", ABSENT)
    flag = "is_enabled()" if modern else "optimizer"
    shown = state.get(proofs.JIT_313_EVIDENCE) if not modern else enabled
    observed = f"{flag}={show(shown)}, executors={show(executors)}"
    if modern:
        observed += f", is_active={show(fraction)}"
    if not on:
        expected = f"{flag} off, no executors" + (", is_active 0" if modern else "")
        quiet = executors == 0 and (not modern or fraction == 0.0)
        return make(name, GROUP, expected, observed, enabled is not True and quiet)
    if enabled is None:
        why = "no run-time evidence of the JIT, even re-measured: a positive claim needs it"
        return make(name, GROUP, f"{flag} on", observed, False, why)
    expected = f"{flag} on, executors > 0"
    busy = isinstance(executors, int) and executors > 0
    if modern and machine_code:
        expected += f", is_active >= {HOT_LOOP_ACTIVE_MIN}"
        busy = busy and isinstance(fraction, float) and fraction >= HOT_LOOP_ACTIVE_MIN
    return make(name, GROUP, expected, observed, enabled and busy)
