"""Feature checks: an observation judged against an expectation, generic over features/proofs.py.

For every feature the expectation has there must be evidence it is in effect; for every
feature it lacks, evidence that it is absent. Pure functions: no interpreter runs here, so the
same observation can be judged against every cell's expectation.
"""

from __future__ import annotations

from typing import Any

from cpmatrix import features as fx
from cpmatrix.features import Feature, Version, proofs
from cpmatrix.verify.behaviour import TOO_SLOW
from cpmatrix.verify.buildchecks import (
    buildbat_checks,
    config_check,
    on_windows,
    profile_checks,
    tailcall,
)
from cpmatrix.verify.jitchecks import jit_checks
from cpmatrix.verify.observe import Observation, toggle_key
from cpmatrix.verify.report import Check, Expectation
from cpmatrix.verify.verdicts import (
    ABSENT,
    failed_section,
    is_absent,
    make,
    show,
    skip,
    too_slow,
)


def evaluate(observation: Observation, expect: Expectation) -> tuple[Check, ...]:
    facts = observation.facts
    if "error" in facts:
        tail = str(facts.get("output_tail", ""))
        return (make("probe", "identity", "runs", facts["error"], False, tail),)
    version = observation.version or expect.python
    if version is None:
        return (make("version", "identity", "readable", ABSENT, False, "give --python"),)
    return (
        *identity(facts, version, expect),
        *support(version, expect),
        *freethreaded(observation, version, expect),
        *jit_checks(observation, version, expect),
        *tailcall(facts, version, expect),
        *remote_debug(observation, version, expect),
        *buildbat_checks(facts, expect),
        *profile_checks(facts, expect),
    )


def identity(facts: dict[str, Any], version: Version, expect: Expectation) -> list[Check]:
    checks = [
        make(
            "implementation",
            "identity",
            "cpython",
            facts.get("implementation"),
            facts.get("implementation") == "cpython",
        )
    ]
    oldest = min(spec.since for spec in fx.SPECS.values())
    checks.append(
        make(
            "version supported",
            "identity",
            f"{oldest}+",
            version,
            version.at_least(oldest.major, oldest.minor),
            "cpmatrix's feature proofs start with the oldest CPython that has any of its switches",
        )
    )
    wanted = expect.python
    if wanted is None:
        checks.append(make("version", "identity", "any (read from it)", version, True))
    else:
        same = version == wanted if wanted.micro is not None else version.series == wanted
        checks.append(make("version", "identity", str(wanted), version, same))
    debug = expect.profile == "debug"
    flags = facts.get("abiflags", ABSENT)
    py_debug = facts.get("config_vars", {}).get("Py_DEBUG")
    observed = f"Py_DEBUG={show(py_debug)}, abiflags={show(flags)!r}"
    if is_absent(py_debug) and on_windows(facts):  # Py_DEBUG reaches Windows sysconfig late
        suffix = str(facts.get("config_vars", {}).get("EXT_SUFFIX", ""))
        py_debug = 1 if suffix.startswith(fx.WINDOWS_DEBUG_EXT_PREFIX) else 0
        observed += f", EXT_SUFFIX={suffix}"
    ok = (py_debug == 1) == debug
    if isinstance(flags, str):
        ok = ok and (fx.DEBUG_ABIFLAG in flags) == debug
    checks.append(make("debug build", "identity", "yes" if debug else "no", observed, ok))
    return checks


def support(version: Version, expect: Expectation) -> list[Check]:
    """A claimed feature that this CPython version cannot have fails outright."""
    checks = []
    for feature in fx.canonical_order(expect.features):
        since = fx.SPECS[feature].since
        if not version.at_least(since.major, since.minor):
            checks.append(
                make(
                    f"{feature}: exists in this version",
                    str(feature),
                    f"{since}+",
                    version,
                    False,
                    f"CPython {version} has no {feature}",
                )
            )
    return checks


def runtime_checks(
    feature: Feature, group: str, observation: Observation, version: Version, has: bool
) -> list[Check]:
    proof = proofs.RUNTIME_PROOFS[feature]
    name = f"{group}: {proof.call}"
    observed = observation.plain.get(proof.call, ABSENT)
    if not version.at_least(proof.since.major, proof.since.minor):
        return [skip(name, group, f"{proof.call} exists from {proof.since}")]
    wanted = proof.with_feature if has else proof.without_feature
    checks = [make(name, group, str(wanted), observed, observed == wanted)]
    key = toggle_key(proof.toggle)
    toggled = observation.toggled.get(key, {}).get(proof.call, ABSENT)
    checks.append(
        make(
            f"{group}: {key} -> {proof.call}",
            group,
            str(proof.toggled),
            toggled,
            toggled == proof.toggled,
        )
    )
    return checks


def freethreaded(observation: Observation, version: Version, expect: Expectation) -> list[Check]:
    group, has = "freethreaded", Feature.FREETHREADED in expect.features
    facts = observation.facts
    checks = [c for c in [config_check(Feature.FREETHREADED, group, facts, version, has)] if c]
    checks.append(abiflags_check(facts.get("abiflags", ABSENT), has))
    checks.extend(runtime_checks(Feature.FREETHREADED, group, observation, version, has))
    after = facts.get("gil_enabled_after_imports", ABSENT)
    checks.append(
        make(
            f"{group}: GIL after importing every stdlib extension",
            group,
            "off" if has else "on",
            "on" if after is True else "off" if after is False else after,
            after is (not has),
            "an extension without Py_mod_gil turns the GIL back on in a free-threaded build",
        )
    )
    checks.append(threads_check(observation.behaviour.get("threads"), has))
    return checks


def abiflags_check(flags: Any, has: bool) -> Check:
    name, group = f"freethreaded: {fx.FREETHREADED_ABIFLAG!r} in abiflags", "freethreaded"
    if not isinstance(flags, str):
        why = f"sys.abiflags is {show(flags)} here (Windows before 3.14 has none)"
        return skip(name, group, why)
    return make(
        name, group, "yes" if has else "no", repr(flags), (fx.FREETHREADED_ABIFLAG in flags) == has
    )


THREADS_CHECK = "freethreaded: two threads run Python at once (witness)"


def threads_check(found: dict[str, Any] | None, has: bool) -> Check:
    """The witness (behaviour.witness): a handshake only threads running Python bytecode at
    the same time complete, with the GIL's switch interval beyond its deadline. Its verdict
    reads no clock; the speed of threads against serial is shown beside it, as information."""
    name, group = THREADS_CHECK, "freethreaded"
    if found is None:
        return skip(name, group, "behaviour checks were not run")
    if "error" in found:
        return failed_section(name, group, found)
    seen = found.get("witness")
    if not isinstance(seen, dict):
        return skip(name, group, "no witness recorded (an observation by an older probe)")
    if "error" in seen:
        return failed_section(name, group, seen)
    expected = "the handshake completes" if has else "one thread spins, the other never runs"
    detail = f"{_witness_words(seen)}; {_speed_words(found.get('speed'))}"
    match seen.get("outcome"):
        case "parallel":
            return make(name, group, expected, "the handshake completed", has, detail)
        case "serialized":
            observed = "one thread spun, the other never ran"
            return make(name, group, expected, observed, not has, detail)
        case "too-slow":
            tries = len(found.get("attempts", [seen]))
            why = f"too slow here to decide ({tries} attempts): {detail}"
            return make(name, group, expected, TOO_SLOW, None, why)
        case other:
            return make(name, group, expected, f"the witness broke: {other}", False, detail)


def _witness_words(seen: dict[str, Any]) -> str:
    waits = "/".join(f"{float(v):.3f}" for v in seen.get("longest_wait_cpu", []))
    return (
        f"{seen.get('completed')}/{seen.get('rounds')} rounds in {float(seen['seconds']):.3f} s "
        f"wall, {float(seen['cpu_seconds']):.3f} CPU s; longest wait for the other thread "
        f"{waits} CPU s; steps {seen.get('steps')}"
    )


def _speed_words(speed: Any) -> str:
    """Information only: load changes every figure here."""
    if not isinstance(speed, dict) or "speedup" not in speed:
        return "speed not measured"
    return (
        f"information, not the verdict: {speed['workers']} threads "
        f"{float(speed['speedup']):.2f}x faster than serial at "
        f"{float(speed['parallelism']):.2f} CPU s/s (processes {float(speed['capacity']):.2f}x)"
    )


def remote_debug(observation: Observation, version: Version, expect: Expectation) -> list[Check]:
    group, off = "remote-debug", Feature.NOREMOTEDEBUG in expect.features
    checks = [
        c
        for c in [config_check(Feature.NOREMOTEDEBUG, group, observation.facts, version, off)]
        if c
    ]
    checks.extend(runtime_checks(Feature.NOREMOTEDEBUG, group, observation, version, off))
    found = observation.behaviour.get("remote")
    for key, label, must_run in (
        ("enabled_child", "sys.remote_exec into a child", not off),
        ("disabled_child", "sys.remote_exec into a PYTHON_DISABLE_REMOTE_DEBUG=1 child", False),
    ):
        name = f"{group}: {label}"
        if not version.at_least(proofs.REMOTE_DEBUG_SINCE.major, proofs.REMOTE_DEBUG_SINCE.minor):
            checks.append(
                skip(name, group, f"sys.remote_exec exists from {proofs.REMOTE_DEBUG_SINCE}")
            )
        elif found is None:
            checks.append(skip(name, group, "behaviour checks were not run"))
        elif "error" in found:
            checks.append(failed_section(name, group, found))
        else:
            checks.append(remote_exec_check(name, group, found.get(key, ABSENT), must_run))
    return checks


REFUSAL = "RuntimeError"
"""How CPython refuses ``sys.remote_exec`` (``RuntimeError: Remote debugging is not enabled …``);
any other outcome (a timeout, a crash, another exception) is a failed check, never a refusal."""


def remote_exec_check(name: str, group: str, outcome: Any, must_run: bool) -> Check:
    text = show(outcome)
    expected = "the script runs" if must_run else "refused"
    if text.startswith("PermissionError"):
        return make(
            name,
            group,
            expected,
            text,
            None,
            "inconclusive: no ptrace rights (run the container with --cap-add "
            "SYS_PTRACE); every build answers PermissionError then",
        )
    if (slow := too_slow(name, group, expected, outcome)) is not None:
        return slow
    ran = text == "ran"
    refused = text.startswith(REFUSAL) and "not enabled" in text
    detail = "" if ran or refused else "a crash, hang or other error is not a refusal"
    return make(name, group, expected, text, ran if must_run else refused, detail)
