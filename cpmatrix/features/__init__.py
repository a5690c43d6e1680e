"""Everything cpmatrix knows about CPython's build switches, in one place.

Which switch exists from which version, how configure and ``PCbuild\\build.bat`` spell it,
which toolchain it needs and what it cannot be combined with; ``features.proofs`` says what
proves each one at run time. Adding a CPython 3.16 switch is an edit in this package and nowhere
else. It knows nothing of Docker, YAML or builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, assert_never

from cpmatrix.features.toolchains import (
    TAILCALL_MIN_CLANG,
    Tool,
    Toolchain,
    llvm_major_for,
    posix_toolchain,
    toolchain,
    windows_toolset,
    windows_toolset_for,
)
from cpmatrix.features.vocabulary import (
    DEFAULT_PROFILE,
    JIT_MODES,
    OS,
    PROFILES,
    Feature,
    Profile,
    Version,
    canonical_order,
    jit_mode,
    needs_llvm,
    variant_name,
)


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One switch as CPython spells it."""

    feature: Feature
    summary: str
    since: Version
    configure: tuple[str, ...]
    buildbat: tuple[str, ...]


SPECS: dict[Feature, FeatureSpec] = {
    spec.feature: spec
    for spec in (
        FeatureSpec(
            feature=Feature.FREETHREADED,
            summary="free-threaded build: the GIL is disabled (PEP 703)",
            since=Version(3, 13),
            configure=("--disable-gil",),
            buildbat=("--disable-gil",),
        ),
        FeatureSpec(
            feature=Feature.JIT,
            summary="experimental JIT compiled in and on by default",
            since=Version(3, 13),
            configure=("--enable-experimental-jit=yes",),
            buildbat=("--experimental-jit",),
        ),
        FeatureSpec(
            feature=Feature.JIT_OFF,
            summary="experimental JIT compiled in, off until PYTHON_JIT=1",
            since=Version(3, 13),
            configure=("--enable-experimental-jit=yes-off",),
            buildbat=("--experimental-jit-off",),
        ),
        FeatureSpec(
            feature=Feature.JIT_INTERPRETER,
            summary="tier-2 interpreter without machine code (no LLVM needed)",
            since=Version(3, 13),
            configure=("--enable-experimental-jit=interpreter",),
            buildbat=("--experimental-jit-interpreter",),
        ),
        FeatureSpec(
            feature=Feature.TAILCALL,
            summary="tail-calling interpreter (needs clang >= 19 / ClangCL / VS 2026)",
            since=Version(3, 14),
            configure=("--with-tail-call-interp",),
            buildbat=("--tail-call-interp",),
        ),
        FeatureSpec(
            feature=Feature.NOREMOTEDEBUG,
            summary="remote debugging (PEP 768) compiled out",
            since=Version(3, 14),
            configure=("--without-remote-debug",),
            buildbat=("--without-remote-debug",),
        ),
    )
}

ALWAYS_CONFIGURE: tuple[str, ...] = ("--enable-option-checking=fatal",)
"""configure only warns about unknown options unless told otherwise; we want a failure."""

PGO_SWITCH = "--enable-optimizations"
LTO_SWITCH = "--with-lto"
PROFILE_CONFIGURE: dict[Profile, tuple[str, ...]] = {
    "release": (),
    "optimized": (PGO_SWITCH, LTO_SWITCH),
    "debug": ("--with-pydebug",),
}

BUILDBAT_PGO = "--pgo"
"""PCbuild's PGO switch: an optimized Windows build (build.bat has no LTO switch of its own)."""

PGO_TASK_READ_ONLY_SOURCE = (
    "-m test --pgo --timeout=$(TESTTIMEOUT) --ignore test_unpickle_module_race"
)
"""PROFILE_TASK for a PGO build whose source tree is mounted read-only (our builders do): the
default task plus one ignored test. pickletester's ``test_unpickle_module_race`` cleans up with
``import_helper.forget``, which unlinks ``<dir>/locker.pyc`` in every ``sys.path`` entry and
fails with EROFS on the read-only ``/src/Lib`` (6 errors in test_pickle; since 3.13 a failing
profile task fails the build: ``make: *** profile-run-stamp Error 2``, 3.13.5, 2026-12-02)."""


PGO_MAKE_TARGETS = ("profile-gen-stamp", "profile-run-stamp")
"""The first two steps of CPython's ``profile-opt`` target, run one by one so each is timed and
shown: a clean instrumented build, then PROFILE_TASK (``-m test --pgo``: the 43 tests of
``Lib/test/libregrtest/pgo.py``) and the profile merge. A plain ``make`` then does only the
PGO + LTO rebuild: its stamp files say the first two are done (Makefile.pre.in, 3.13-3.15)."""


def why_impossible(
    version: Version, features: frozenset[Feature], os: OS, profile: Profile
) -> str | None:
    """The reason a (version, features, os, profile) combination cannot be built, or None."""
    for feature in canonical_order(features):
        spec = SPECS[feature]
        if not version.at_least(spec.since.major, spec.since.minor):
            return (
                f"{feature} needs CPython {spec.since}+ ({spec.configure[0]}); "
                f"{version} does not have it"
            )
    modes = canonical_order(features & JIT_MODES)
    if len(modes) > 1:
        return f"{' and '.join(modes)} are different JIT modes; choose one"
    if Feature.FREETHREADED in features and modes:
        return (
            f"{modes[0]} with freethreaded is not supported by CPython yet: configure only warns "
            "that --enable-experimental-jit does not work correctly with --disable-gil "
            "(GH-133171, the JIT is built but never used) and build.bat refuses it"
        )
    if needs_llvm(features):
        try:
            llvm_major_for(version)
        except ValueError as error:
            return str(error)
    if (
        os == "windows"
        and Feature.TAILCALL in features
        and version.at_least(3, 15)
        and profile == "debug"
    ):
        return "tailcall on Windows with CPython 3.15+ (MSVC v145) is built in Release only"
    return None


def configure_arguments(
    version: Version, features: frozenset[Feature], profile: Profile
) -> tuple[str, ...]:
    """configure's switches for a cell, in a stable order (cache keys depend on it)."""
    del version  # every known switch is spelled the same in every version that has it
    args: list[str] = list(ALWAYS_CONFIGURE)
    for feature in canonical_order(features):
        args.extend(SPECS[feature].configure)
    if Feature.FREETHREADED in features:
        args.append("--with-mimalloc")  # fail loudly if free-threading's allocator is missing
    args.extend(PROFILE_CONFIGURE[profile])
    return tuple(args)


WindowsArch = Literal["x64", "ARM64"]
WINDOWS_ARCHES: dict[str, WindowsArch] = {"x64": "x64", "amd64": "x64", "arm64": "ARM64"}
"""A platform's arch (matrix.yaml, ``platform.machine()``) as PCbuild's ``-p`` spells it."""


def windows_arch(arch: str) -> WindowsArch | None:
    return WINDOWS_ARCHES.get(arch.lower())


def buildbat_arguments(
    version: Version, features: frozenset[Feature], profile: Profile, arch: WindowsArch
) -> tuple[str, ...]:
    """``PCbuild\\build.bat`` arguments for a cell."""
    args: list[str] = ["-p", arch, "-c", "Debug" if profile == "debug" else "Release"]
    if profile == "optimized":
        args.append(BUILDBAT_PGO)
    for feature in canonical_order(features):
        args.extend(SPECS[feature].buildbat)
    toolset = windows_toolset_for(version, features)
    if toolset.on_command_line:
        args.append(f"/p:PlatformToolset={toolset.name}")
    return tuple(args)


FREETHREADED_ABIFLAG = "t"
DEBUG_ABIFLAG = "d"
WINDOWS_DEBUG_EXT_PREFIX = f"_{DEBUG_ABIFLAG}."
"""How a Windows debug build's EXT_SUFFIX starts (``_d.cp314-win_amd64.pyd``)."""


def abiflags(features: frozenset[Feature], profile: Profile) -> str:
    """ABI flags a build of these features carries: ``t`` free-threaded, ``d`` debug."""
    flags = FREETHREADED_ABIFLAG if Feature.FREETHREADED in features else ""
    return flags + (DEBUG_ABIFLAG if profile == "debug" else "")


def windows_name_suffix(features: frozenset[Feature], profile: Profile) -> str:
    """What PCbuild appends to ``python3.14`` / ``python314``: ``t`` free-threaded, ``_d``
    debug (``python3.14t_d.exe``, ``python314t_d.dll``)."""
    flags = FREETHREADED_ABIFLAG if Feature.FREETHREADED in features else ""
    return flags + (f"_{DEBUG_ABIFLAG}" if profile == "debug" else "")


def posix_executable_name(version: Version, features: frozenset[Feature], profile: Profile) -> str:
    """``python3.13``, ``python3.13t``, ``python3.14td``: what ``make install`` installs."""
    return f"python{version.minor_text}{abiflags(features, profile)}"


def windows_executable_name(
    version: Version, features: frozenset[Feature], profile: Profile
) -> str:
    """``python.exe``, or ``python3.14t.exe`` for free-threaded (``_d`` for debug)."""
    suffix = windows_name_suffix(features, profile)
    if Feature.FREETHREADED in features:
        return f"python{version.minor_text}{suffix}.exe"
    return f"python{suffix}.exe"


def windows_dll_name(version: Version, features: frozenset[Feature], profile: Profile) -> str:
    """``python314.dll``, ``python314t_d.dll``: the interpreter's DLL beside the executable."""
    return f"python{version.major}{version.minor}{windows_name_suffix(features, profile)}.dll"


def tailcall_macro(version: Version) -> str:
    """The sysconfig variable that says the tail-call interpreter is in."""
    return "_Py_TAIL_CALL_INTERP" if version.at_least(3, 15) else "Py_TAIL_CALL_INTERP"


def describe(feature: Feature) -> str:
    match feature:
        case (
            Feature.FREETHREADED
            | Feature.JIT
            | Feature.JIT_OFF
            | Feature.JIT_INTERPRETER
            | Feature.TAILCALL
            | Feature.NOREMOTEDEBUG
        ):
            return SPECS[feature].summary
        case _:
            assert_never(feature)


__all__ = [  # the re-exported names (everything defined above is public too)
    "DEFAULT_PROFILE",
    "JIT_MODES",
    "OS",
    "PROFILES",
    "TAILCALL_MIN_CLANG",
    "Feature",
    "Profile",
    "Tool",
    "Toolchain",
    "Version",
    "canonical_order",
    "jit_mode",
    "llvm_major_for",
    "needs_llvm",
    "posix_toolchain",
    "toolchain",
    "variant_name",
    "windows_toolset",
    "windows_toolset_for",
]
