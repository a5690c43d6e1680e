"""Checks on build strings and binaries: sysconfig variables, the installed pyconfig.h, the
tail-call interpreter's functions in the symbol table, and on Windows the build record's
``build.bat`` switches (Windows sysconfig exposes none of the others)."""

from __future__ import annotations

import shlex
from typing import Any

from cpmatrix import features as fx
from cpmatrix.features import Feature, Version, proofs, tailcall_macro
from cpmatrix.features.proofs import UNSET, Unset
from cpmatrix.verify.report import Check, Expectation
from cpmatrix.verify.verdicts import ABSENT, failed_section, is_absent, make, show, skip


def unset(value: Any) -> bool:
    return is_absent(value) or value in (0, None, "", "0")


def config_matches(value: Any, wanted: int | Unset) -> bool:
    return unset(value) if wanted == UNSET else value == wanted


def config_text(wanted: int | Unset) -> str:
    return "0 or unset" if wanted == UNSET else str(wanted)


def on_windows(facts: dict[str, Any]) -> bool:
    """Read from the interpreter (``sysconfig.get_platform()``: win-amd64, win-arm64)."""
    return str(facts.get("platform", "")).startswith("win")


def buildbat_checks(facts: dict[str, Any], expect: Expectation) -> list[Check]:
    """On Windows the build record's ``build.bat`` switches stand in for CONFIG_ARGS and the
    sysconfig variables Windows does not have: a build string, the weakest evidence, used only
    where CPython exposes nothing else (see proofs.WINDOWS_SYSCONFIG)."""
    if not on_windows(facts):
        return []
    recorded = facts.get("recorded", {}).get("buildbat")
    checks = []
    for feature in Feature:
        switch, has = proofs.buildbat_switch(feature), feature in expect.features
        name = f"{feature}: build.bat {switch} (build record)"
        if not isinstance(recorded, list):
            checks.append(
                make(name, str(feature), "a build record", "none", False if has else None)
            )
            continue
        present = switch in recorded
        shown = "given" if present else "not given"
        checks.append(
            make(name, str(feature), "given" if has else "not given", shown, present == has)
        )
    return checks


def config_check(
    feature: Feature, group: str, facts: dict[str, Any], version: Version, has: bool
) -> Check | None:
    proof = proofs.config_proof(feature, version)
    if proof is None:
        return None
    if on_windows(facts) and proof.variable not in proofs.WINDOWS_SYSCONFIG:
        return skip(
            f"{group}: sysconfig {proof.variable}",
            group,
            "Windows sysconfig has no such variable: the build.bat switch and run time decide",
        )
    value = facts.get("config_vars", {}).get(proof.variable, ABSENT)
    wanted = proof.with_feature if has else proof.without_feature
    return make(
        f"{group}: sysconfig {proof.variable}",
        group,
        config_text(wanted),
        value,
        config_matches(value, wanted),
    )


TAILCALL_FUNCTIONS_MIN = 100
"""A tail-call interpreter has one ``_TAIL_CALL_*`` function per instruction and label (over 200
in 3.14); any other interpreter has none."""


def tailcall(facts: dict[str, Any], version: Version, expect: Expectation) -> list[Check]:
    group, has = "tailcall", Feature.TAILCALL in expect.features
    check = config_check(Feature.TAILCALL, group, facts, version, has)
    checks = [check] if check else []
    if on_windows(facts):
        why = "PC/pyconfig.h has no tail-call macro and PE symbols live in the PDB"
        return [*checks, skip(f"{group}: binary and pyconfig.h", group, why)]
    checks.append(pyconfig_agrees(facts, tailcall_macro(version), group, has))
    checks.append(tailcall_functions_check(facts, has))
    return checks


def pyconfig_agrees(facts: dict[str, Any], variable: str, group: str, has: bool) -> Check:
    """sysconfig and the installed pyconfig.h must say the same (both unset, or equal)."""
    name = f"{group}: pyconfig.h {variable} agrees with sysconfig"
    found = facts.get("pyconfig_h", ABSENT)
    header = found.get("values", {}).get(variable, ABSENT) if isinstance(found, dict) else ABSENT
    if isinstance(found, dict) and "error" in found:
        where = f"{found.get('path')}: {found['error']}"
        if has:
            return make(name, group, "readable", "no pyconfig.h", False, where)
        return skip(name, group, f"no pyconfig.h installed (a -dev package ships it); {where}")
    config = facts.get("config_vars", {}).get(variable, ABSENT)
    same = (unset(header) and unset(config)) or header == config
    return make(
        name, group, "the same", f"pyconfig.h {show(header)}, sysconfig {show(config)}", same
    )


def tailcall_functions_check(facts: dict[str, Any], has: bool) -> Check:
    """``_TAIL_CALL_*`` functions in the interpreter's symbol table, or as recorded at build
    time when the binaries are stripped."""
    name, group = "tailcall: one function per instruction in the binary", "tailcall"
    found = facts.get("binary", {})
    count = found.get("tail_call_functions") if isinstance(found, dict) else None
    where = "symbol table"
    if count is None:
        count = facts.get("recorded", {}).get("tail_call_functions")
        where = "build record"
    expected = (
        f">= {TAILCALL_FUNCTIONS_MIN} _TAIL_CALL_* functions" if has else "no _TAIL_CALL_* function"
    )
    if isinstance(found, dict) and "error" in found:
        return failed_section(name, group, found)
    if not isinstance(count, int) and not str(facts.get("platform", "")).startswith("linux"):
        return skip(name, group, "symbols are read from ELF files only: build strings decide")
    if not isinstance(count, int):
        if has:
            why = "stripped binaries and no build record of their symbols: nothing proves it"
            return make(name, group, expected, "no symbol table", False, why)
        return skip(name, group, "stripped binaries, no build record: the build strings decide")
    ok = count >= TAILCALL_FUNCTIONS_MIN if has else count == 0
    return make(
        name, group, expected, f"{count} (from the {where})", ok, show(found.get("files", ""))
    )


def profile_checks(facts: dict[str, Any], expect: Expectation) -> list[Check]:
    """The build profile a cell claims (release, optimized, debug), from the configure switches
    and the flags its build left in sysconfig. An interpreter that claims no profile (one not
    built by cpmatrix) is not judged here; "debug build" still says whether it is one."""
    profile, group = expect.profile, "profile"
    if profile is None:
        return []
    if on_windows(facts):
        return [buildbat_pgo_check(facts, profile)]
    wanted = fx.PROFILE_CONFIGURE[profile]
    words = set(shlex.split(str(facts.get("config_args", ""))))
    known = sorted({flag for flags in fx.PROFILE_CONFIGURE.values() for flag in flags})
    given = [flag for flag in known if flag in words]
    checks = [
        make(
            f"{group}: configure switches (CONFIG_ARGS)",
            group,
            " ".join(wanted) or f"none of {', '.join(known)}",
            " ".join(given) or "none",
            set(given) == set(wanted),
        )
    ]
    flags = profile_flags(facts)
    if not isinstance(flags, dict):
        return [*checks, make(f"{group}: build flags", group, "read", ABSENT, False)]
    if fx.PGO_SWITCH in wanted:
        pgo = str(flags.get(proofs.PGO_FLAG_VARIABLE, ""))
        checks.append(
            make(
                f"{group}: PGO instrumentation flag (sysconfig {proofs.PGO_FLAG_VARIABLE})",
                group,
                "set: configure recognized the compiler",
                pgo or "empty",
                bool(pgo),
                "" if pgo else "the profile task ran, then everything was compiled without it",
            )
        )
    lto = {var: proofs.lto_in(flags.get(var)) for var in proofs.LTO_VARIABLES}
    want_lto = fx.LTO_SWITCH in wanted
    checks.append(
        make(
            f"{group}: {proofs.LTO_FLAG} in compile and link flags",
            group,
            "in both" if want_lto else "in neither",
            ", ".join(f"{var} {'has it' if has else 'not'}" for var, has in lto.items()),
            all(has == want_lto for has in lto.values()),
        )
    )
    return checks


def profile_flags(facts: dict[str, Any]) -> object:
    """The profile's flags as built: the build record's (or manifest's) where the observation
    carries them, since the portable phase empties the PGO flags and drops clang's
    ``-flto=thin`` from the shipped sysconfig for consumers' compilers; else sysconfig's."""
    recorded = facts.get("recorded", {}).get("build_flags")
    return recorded if isinstance(recorded, dict) else facts.get("build_flags", ABSENT)


def buildbat_pgo_check(facts: dict[str, Any], profile: fx.Profile) -> Check:
    name, group = f"profile: build.bat {fx.BUILDBAT_PGO} (build record)", "profile"
    wanted = profile == "optimized"
    recorded = facts.get("recorded", {}).get("buildbat")
    if not isinstance(recorded, list):
        return make(name, group, "a build record", "none", False if wanted else None)
    given = fx.BUILDBAT_PGO in recorded
    shown = "given" if given else "not given"
    return make(name, group, "given" if wanted else "not given", shown, given == wanted)
