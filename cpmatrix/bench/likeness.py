"""Whether a column's comparison with the baseline is like for like (issue #25).

A ratio between two columns means "what the features cost" only when nothing else differs: the
same CPython release, built with the same profile (PGO, LTO) by the same compiler. The report
says, per column, its profile and compiler and what besides its features differs from the
baseline, so "1.78x slower" is never read as the free-threaded build's cost when it is also
the cost of a missing PGO.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cpmatrix import features as fx

DEBUG_SWITCH = fx.PROFILE_CONFIGURE["debug"][0]


@dataclass(frozen=True, slots=True, kw_only=True)
class Build:
    """What decides a column's speed besides its features."""

    version: str
    profile: str
    compiler: str


def profile_of(config_args: str, recorded: str | None = None) -> str:
    """cpmatrix's profile name: the build record's, else read from CONFIG_ARGS (Debian's and
    other interpreters): PGO and LTO both ``optimized``, one of them named, none ``release``."""
    if recorded:
        return recorded
    args = set(re.findall(r"--[\w-]+", config_args))
    if DEBUG_SWITCH in args:
        return "debug"
    pgo, lto = fx.PGO_SWITCH in args, fx.LTO_SWITCH in args
    if pgo and lto:
        return "optimized"
    if pgo or lto:
        return "PGO only" if pgo else "LTO only"
    return "release"


def compiler_of(python_compiler: str) -> str:
    """``[Clang 19.1.7 ]`` or ``GCC 14.2.0`` (``platform.python_compiler()``) as ``Clang 19.1``:
    the major and minor decide code generation, the patch level is noise here."""
    text = python_compiler.strip().strip("[]").strip()
    found = re.match(r"(GCC|Clang|MSC)\D*(\d+)(?:\.(\d+))?", text)
    if not found:
        return text or "unknown"
    name, major, minor = found.groups()
    return f"{name} {major}.{minor}" if minor else f"{name} {major}"


def build_of(about: Mapping[str, Any], build: Mapping[str, Any]) -> Build:
    return Build(
        version=str(about.get("version", "?")),
        profile=profile_of(str(about.get("config_args", "")), build.get("profile")),
        compiler=compiler_of(str(about.get("compiler", ""))),
    )


def differences(baseline: Build, column: Build) -> tuple[str, ...]:
    """What differs besides the features; empty: like for like."""
    return tuple(
        f"{what} {getattr(column, what)} vs {getattr(baseline, what)}"
        for what in ("version", "profile", "compiler")
        if getattr(column, what) != getattr(baseline, what)
    )


def verdict(baseline: Build, column: Build) -> str:
    found = differences(baseline, column)
    return "yes" if not found else "no: " + ", ".join(found)


def rows(builds: Sequence[tuple[str, Build]], baseline: str) -> list[list[str]]:
    """Per column: profile, compiler, and whether its ratio against the baseline is like for
    like (the baseline itself says so)."""
    base = dict(builds).get(baseline)
    table = []
    for name, build in builds:
        if name == baseline or base is None:
            like = "(baseline)" if name == baseline else "?"
        else:
            like = verdict(base, build)
        table.append([name, build.version, build.profile, build.compiler, like])
    return table


HEADERS = ["column", "Python", "profile", "compiler", "like for like with the baseline"]
