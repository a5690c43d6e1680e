"""Health checks: the expected stdlib modules, ssl, hashlib, venv + pip, subinterpreters,
relocation. The expected module set lives in features/proofs.py (one place per version and OS)."""

from __future__ import annotations

from typing import Any

from cpmatrix.features import Version, proofs
from cpmatrix.verify.observe import Observation
from cpmatrix.verify.report import Check, Expectation
from cpmatrix.verify.verdicts import failed_section, make, skip, too_slow

GROUP = "health"


def health_checks(observation: Observation, expect: Expectation) -> list[Check]:
    facts = observation.facts
    version = observation.version
    if "error" in facts or version is None:
        return []
    behaviour = observation.behaviour
    return [
        modules_check(facts, version, expect),
        ssl_check(facts.get("ssl")),
        hashlib_check(facts.get("hashlib")),
        venv_check(behaviour.get("venv")),
        subinterpreters_check(behaviour.get("interpreters"), version),
        relocation_check(behaviour.get("relocate")),
    ]


def modules_check(facts: dict[str, Any], version: Version, expect: Expectation) -> Check:
    wanted = proofs.expected_modules(version, expect.os)
    failed: dict[str, str] = facts.get("modules", {}).get("failed", {})
    imported = set(facts.get("modules", {}).get("imported", []))
    missing = [name for name in wanted if name not in imported]
    asked = {module.name for module in proofs.EXPECTED_MODULES}
    broken = sorted(set(failed) - asked)
    """Shipped extension modules that do not load (a library missing on this machine); the
    probe also tries expected modules of other versions, which an older interpreter lacks."""
    problems = [*missing, *broken]
    observed = "all import" if not problems else "failing: " + ", ".join(problems)
    detail = "; ".join(f"{name}: {failed.get(name, 'not tried')}" for name in problems)
    return make(
        "stdlib extension modules import",
        GROUP,
        f"{len(wanted)} expected and every shipped one",
        observed,
        not problems,
        detail or ", ".join(wanted),
    )


def ssl_check(found: Any) -> Check:
    name = "ssl default context"
    if not isinstance(found, dict):
        return make(name, GROUP, "CERT_REQUIRED + check_hostname", found, False)
    ok = str(found.get("verify_mode")) in ("2", "VerifyMode.CERT_REQUIRED") and bool(
        found.get("check_hostname")
    )
    observed = f"{found.get('openssl')}, {found.get('ca_certs')} CA certificates"
    return make(name, GROUP, "CERT_REQUIRED + check_hostname", observed, ok)


def hashlib_check(found: Any) -> Check:
    name = "hashlib OpenSSL algorithms"
    expected = "sha256 from _hashlib; " + ", ".join(proofs.OPENSSL_DIGESTS)
    if not isinstance(found, dict):
        return make(name, GROUP, expected, found, False)
    digests: dict[str, str] = found.get("digests", {})
    broken = [n for n in proofs.OPENSSL_DIGESTS if str(digests.get(n, "error")).startswith("error")]
    openssl = str(found.get("sha256_type", "")).startswith("_hashlib.")
    observed = f"sha256 type {found.get('sha256_type')}" + (
        f"; broken: {', '.join(broken)}" if broken else ""
    )
    return make(name, GROUP, expected, observed, openssl and not broken)


def venv_check(found: dict[str, Any] | None) -> Check:
    name = "venv + ensurepip + pip installs a local wheel"
    if found is None:
        return skip(name, GROUP, "behaviour checks were not run")
    if "error" in found:
        return failed_section(name, GROUP, found)
    steps = ("venv", "pip_install", "import")
    for step in steps:
        slow = too_slow(name, GROUP, "all steps work", found.get(step, {}).get("tail", ""))
        if slow is not None and found[step].get("ok") is None:
            return slow
    failed = [s for s in steps if not found.get(s, {}).get("ok")]
    detail = "; ".join(
        f"{s}: {found.get(s, {}).get('tail') or found.get(s, {}).get('output') or 'not reached'}"
        for s in failed
    )
    observed = "all steps work" if not failed else "failed at " + failed[0]
    return make(name, GROUP, "all steps work", observed, not failed, detail.strip())


def subinterpreters_check(found: dict[str, Any] | None, version: Version) -> Check:
    name = "InterpreterPoolExecutor runs work in a subinterpreter"
    since = proofs.SUBINTERPRETER_POOL_SINCE
    if not version.at_least(since.major, since.minor):
        return skip(name, GROUP, f"InterpreterPoolExecutor exists from {since}")
    if found is None:
        return skip(name, GROUP, "behaviour checks were not run")
    if "error" in found:
        return failed_section(name, GROUP, found)
    expected = "ran in interpreter != main (0)"
    if (slow := too_slow(name, GROUP, expected, found.get("outcome"))) is not None:
        return slow
    ok = found.get("outcome") == "ran" and found.get("worker_id") != found.get("main_id")
    observed = f"{found.get('outcome')}: interpreter {found.get('worker_id')}"
    return make(name, GROUP, expected, observed, ok)


def relocation_check(found: dict[str, Any] | None) -> Check:
    name = "relocation: the copied install tree works on its own"
    if found is None:
        return skip(name, GROUP, "behaviour checks were not run")
    if "error" in found:
        return failed_section(name, GROUP, found)
    if found.get("outcome") == "not-a-tree":
        return skip(name, GROUP, f"{found.get('prefix')} is a system prefix, not an install tree")
    if (slow := too_slow(name, GROUP, "runs from the copy", found.get("outcome"))) is not None:
        return slow
    if found.get("outcome") != "ran":
        return make(name, GROUP, "runs from the copy", "failed", False, str(found.get("tail")))
    mapped = found.get("mapped_from_old")
    own_prefix = found.get("prefix") == found.get("moved_to")
    observed = f"prefix {found.get('prefix')}; files mapped from the original: {mapped}"
    expected = "prefix = the copy, nothing loaded from the original"
    if mapped == "unknown":  # no /proc/self/maps (macOS, Windows): the prefix is the evidence
        return make(name, GROUP, expected, observed, own_prefix, "loaded files not listable here")
    return make(name, GROUP, expected, observed, own_prefix and mapped == [])
