"""Everything cpmatrix knows about CPython's build switches, in one place.

Which switch exists from which version, how configure and ``PCbuild\\build.bat`` spell it,
which toolchain it needs, what it cannot be combined with, and what proves it at run time.
Adding a CPython 3.16 switch is an edit here and nowhere else. This module knows nothing of
Docker, YAML or builds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import total_ordering
from typing import Literal, assert_never


class Feature(StrEnum):
    """The one vocabulary for features: matrix, cell ids, ``--variant``, ``--expect``, manifests.

    Declaration order is the canonical order of a variant name (``freethreaded+tailcall``).
    """

    FREETHREADED = "freethreaded"
    JIT = "jit"
    JIT_OFF = "jit-off"
    JIT_INTERPRETER = "jit-interpreter"
    TAILCALL = "tailcall"
    NOREMOTEDEBUG = "noremotedebug"


JIT_MODES: frozenset[Feature] = frozenset({Feature.JIT, Feature.JIT_OFF, Feature.JIT_INTERPRETER})

OS = Literal["linux", "macos", "windows"]
Profile = Literal["release", "optimized", "debug"]
PROFILES: tuple[Profile, ...] = ("release", "optimized", "debug")
DEFAULT_PROFILE: Profile = "release"


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    """A CPython release (``3.13.5``) or a minor series (``3.13``, micro is None)."""

    major: int
    minor: int
    micro: int | None = None

    _PATTERN = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")

    @classmethod
    def parse(cls, text: str) -> Version:
        match = cls._PATTERN.match(text.strip())
        if match is None:
            raise ValueError(f"not a CPython version: {text!r} (expected e.g. 3.13 or 3.13.5)")
        micro = match.group(3)
        return cls(int(match.group(1)), int(match.group(2)), int(micro) if micro else None)

    @property
    def series(self) -> Version:
        return Version(self.major, self.minor)

    @property
    def minor_text(self) -> str:
        return f"{self.major}.{self.minor}"

    def at_least(self, major: int, minor: int) -> bool:
        return (self.major, self.minor) >= (major, minor)

    def _key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, -1 if self.micro is None else self.micro)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __str__(self) -> str:
        base = f"{self.major}.{self.minor}"
        return base if self.micro is None else f"{base}.{self.micro}"


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

PROFILE_CONFIGURE: dict[Profile, tuple[str, ...]] = {
    "release": (),
    "optimized": ("--enable-optimizations", "--with-lto"),
    "debug": ("--with-pydebug",),
}

# The JIT's stencils are built by exactly one LLVM major per CPython minor (Tools/jit/_llvm.py).
JIT_LLVM_MAJOR: dict[tuple[int, int], int] = {
    (3, 13): 18,
    (3, 14): 19,
    (3, 15): 21,
    (3, 16): 21,
}

TAILCALL_MIN_CLANG = 19


def canonical_order(features: Iterable[Feature]) -> tuple[Feature, ...]:
    chosen = set(features)
    return tuple(feature for feature in Feature if feature in chosen)


def variant_name(features: Iterable[Feature]) -> str:
    ordered = canonical_order(features)
    return "+".join(ordered) if ordered else "default"


def jit_mode(features: Iterable[Feature]) -> Feature | None:
    modes = [feature for feature in features if feature in JIT_MODES]
    return modes[0] if modes else None


def llvm_major_for(version: Version) -> int:
    try:
        return JIT_LLVM_MAJOR[(version.major, version.minor)]
    except KeyError:
        known = ", ".join(f"{a}.{b}" for a, b in sorted(JIT_LLVM_MAJOR))
        raise ValueError(
            f"cpmatrix does not know which LLVM builds the JIT of CPython {version.minor_text} "
            f"(known: {known}); add it to JIT_LLVM_MAJOR in cpmatrix/features.py"
        ) from None


def needs_llvm(features: Iterable[Feature]) -> bool:
    """The interpreter-only JIT mode emits no machine code, so it needs no stencils."""
    mode = jit_mode(features)
    return mode is not None and mode is not Feature.JIT_INTERPRETER


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


def buildbat_arguments(
    version: Version, features: frozenset[Feature], profile: Profile, arch: WindowsArch
) -> tuple[str, ...]:
    """``PCbuild\\build.bat`` arguments for a cell."""
    args: list[str] = ["-p", arch, "-c", "Debug" if profile == "debug" else "Release"]
    if profile == "optimized":
        args.append("--pgo")
    for feature in canonical_order(features):
        args.extend(SPECS[feature].buildbat)
    if Feature.TAILCALL in features and not version.at_least(3, 15):
        args.append("/p:PlatformToolset=ClangCL")
    return tuple(args)


@dataclass(frozen=True, slots=True)
class Tool:
    """An executable a build needs, with what to install when it is missing."""

    command: str
    purpose: str
    install_hint: str


@dataclass(frozen=True, slots=True)
class Toolchain:
    """What a POSIX build needs: the C compiler to use, LLVM tools, and their environment."""

    cc: str | None
    llvm_major: int | None
    tools: tuple[Tool, ...]
    env: tuple[tuple[str, str], ...]
    brew_formula: str | None = None
    """On macOS LLVM comes from Homebrew (``brew --prefix llvm@N``); Apple clang is rejected."""


def _install_hint(os: OS, major: int) -> str:
    if os == "macos":
        return f"brew install llvm@{major}"
    return f"apt-get install clang-{major} llvm-{major} (or apt.llvm.org's llvm.sh {major})"


def posix_toolchain(version: Version, features: frozenset[Feature], os: OS) -> Toolchain:
    """The toolchain a configure/make build needs, found the way CPython's CI finds it."""
    if os == "windows":
        raise ValueError("Windows builds use PCbuild, not a POSIX toolchain")
    tools: list[Tool] = []
    env: list[tuple[str, str]] = []
    cc: str | None = None
    llvm_major: int | None = None
    if needs_llvm(features):
        llvm_major = llvm_major_for(version)
        hint = _install_hint(os, llvm_major)
        if os == "linux":
            for name in ("clang", "llvm-readobj", "llvm-objdump"):
                tools.append(
                    Tool(f"{name}-{llvm_major}", f"JIT stencils (LLVM {llvm_major})", hint)
                )
        tools.append(Tool("python3", "Tools/jit/build.py runs under a host python3 (3.11+)", ""))
        if version.at_least(3, 15):
            env.append(("LLVM_VERSION", str(llvm_major)))
    if Feature.TAILCALL in features:
        clang_major = max(TAILCALL_MIN_CLANG, llvm_major or 0)
        cc = f"clang-{clang_major}" if os == "linux" else "clang"
        tools.append(
            Tool(
                cc,
                f"tail-call interpreter (clang >= {TAILCALL_MIN_CLANG})",
                _install_hint(os, clang_major),
            )
        )
    formula = f"llvm@{llvm_major}" if os == "macos" and llvm_major is not None else None
    return Toolchain(
        cc=cc, llvm_major=llvm_major, tools=tuple(tools), env=tuple(env), brew_formula=formula
    )


def windows_toolset(version: Version, features: frozenset[Feature]) -> str:
    """Which Visual Studio toolset a Windows cell needs."""
    if Feature.TAILCALL in features:
        return "ClangCL (clang-cl 19+)" if not version.at_least(3, 15) else "MSVC v145 (VS 2026)"
    return "MSVC (VS 2022 or newer)"


def abiflags(features: frozenset[Feature], profile: Profile) -> str:
    """ABI flags a build of these features carries: ``t`` free-threaded, ``d`` debug."""
    flags = "t" if Feature.FREETHREADED in features else ""
    return flags + ("d" if profile == "debug" else "")


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


# -- what proves each feature in a built interpreter (read by cpmatrix.verify) ----------------

Unset = Literal["unset"]
UNSET: Unset = "unset"
"""A sysconfig value that is 0 or not defined at all (pyconfig.h's ``#undef``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigProof:
    """A sysconfig variable that says whether a feature was built in."""

    variable: str
    with_feature: int | Unset
    without_feature: int | Unset


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeProof:
    """A call whose answer says whether a feature is in effect, and an env var that flips it."""

    call: str
    with_feature: bool
    without_feature: bool
    toggle: tuple[str, str]
    toggled: bool
    """What ``call`` answers with ``toggle`` set, whatever the build."""
    since: Version
    """The first CPython with ``call``; older ones have neither the call nor the feature."""


def config_proof(feature: Feature, version: Version) -> ConfigProof | None:
    match feature:
        case Feature.FREETHREADED:
            return ConfigProof(variable="Py_GIL_DISABLED", with_feature=1, without_feature=UNSET)
        case Feature.TAILCALL:
            return ConfigProof(
                variable=tailcall_macro(version), with_feature=1, without_feature=UNSET
            )
        case Feature.NOREMOTEDEBUG:
            exists = version.at_least(3, 14)
            return ConfigProof(
                variable="Py_REMOTE_DEBUG",
                with_feature=UNSET,
                without_feature=1 if exists else UNSET,
            )
        case Feature.JIT | Feature.JIT_OFF | Feature.JIT_INTERPRETER:
            return None
        case _:
            assert_never(feature)


RUNTIME_PROOFS: dict[Feature, RuntimeProof] = {
    Feature.FREETHREADED: RuntimeProof(
        call="sys._is_gil_enabled()",
        with_feature=False,
        without_feature=True,
        toggle=("PYTHON_GIL", "1"),
        toggled=True,
        since=Version(3, 13),
    ),
    Feature.NOREMOTEDEBUG: RuntimeProof(
        call="sys.is_remote_debug_enabled()",
        with_feature=False,
        without_feature=True,
        toggle=("PYTHON_DISABLE_REMOTE_DEBUG", "1"),  # any value; -X disable-remote-debug too
        toggled=False,
        since=Version(3, 14),
    ),
}

REMOTE_DEBUG_SINCE = Version(3, 14)
"""PEP 768: ``sys.remote_exec`` and ``sys.is_remote_debug_enabled`` exist from 3.14."""


@dataclass(frozen=True, slots=True, kw_only=True)
class JitProof:
    """What one JIT mode (or no JIT: mode None) looks like in a built interpreter.

    ``defines`` are the ``-D`` flags configure adds to ``PY_CORE_CFLAGS`` (not pyconfig.h);
    ``_Py_TIER2`` is a bit set: 1 JIT, 2 off by default, 4 tier-2 interpreter.
    """

    configure_value: str | None
    defines: tuple[tuple[str, str], ...]
    machine_code: bool
    """``sys._jit.is_available()``: JIT machine code compiled in."""
    on_by_default: bool
    """``sys._jit.is_enabled()`` (3.14+) / an optimizer installed (3.13) without PYTHON_JIT."""


JIT_PROOFS: dict[Feature | None, JitProof] = {
    None: JitProof(configure_value=None, defines=(), machine_code=False, on_by_default=False),
    Feature.JIT: JitProof(
        configure_value="yes",
        defines=(("_Py_JIT", "1"), ("_Py_TIER2", "1")),
        machine_code=True,
        on_by_default=True,
    ),
    Feature.JIT_OFF: JitProof(
        configure_value="yes-off",
        defines=(("_Py_JIT", "1"), ("_Py_TIER2", "3")),
        machine_code=True,
        on_by_default=False,
    ),
    Feature.JIT_INTERPRETER: JitProof(
        configure_value="interpreter",
        defines=(("_Py_TIER2", "4"),),
        machine_code=False,
        on_by_default=True,
    ),
}
JIT_CONFIGURE_SWITCH = "--enable-experimental-jit"
JIT_DEFINES = ("_Py_JIT", "_Py_TIER2")
JIT_ENV = "PYTHON_JIT"
"""``PYTHON_JIT=0`` turns a built-in JIT off, ``=1`` on; ignored under ``-E`` / ``-I``."""
JIT_RUNTIME_API_SINCE = Version(3, 14)
"""``sys._jit`` exists from 3.14; 3.13's evidence is ``_testinternalcapi.get_optimizer()``."""
JIT_313_EVIDENCE = "_testinternalcapi.get_optimizer()"


def jit_configure_value(config_args: str) -> str | None:
    """The ``--enable-experimental-jit`` value in CONFIG_ARGS (bare = yes), or None."""
    import shlex

    value: str | None = None
    for word in shlex.split(config_args):
        name, equals, given = word.partition("=")
        if name == JIT_CONFIGURE_SWITCH:
            value = given if equals else "yes"
        elif name == "--disable-experimental-jit":
            value = "no"
    return None if value == "no" else value


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectedModule:
    name: str
    since: Version = Version(3, 0)
    os: frozenset[OS] = frozenset({"linux", "macos", "windows"})


POSIX: frozenset[OS] = frozenset({"linux", "macos"})
EXPECTED_MODULES: tuple[ExpectedModule, ...] = (
    ExpectedModule(name="ssl"),
    ExpectedModule(name="_hashlib"),
    ExpectedModule(name="sqlite3"),
    ExpectedModule(name="ctypes"),
    ExpectedModule(name="zlib"),
    ExpectedModule(name="bz2"),
    ExpectedModule(name="lzma"),
    ExpectedModule(name="_decimal"),
    ExpectedModule(name="uuid"),
    ExpectedModule(name="dbm"),
    ExpectedModule(name="readline", os=POSIX),
    ExpectedModule(name="curses", os=POSIX),
    ExpectedModule(name="_curses_panel", os=POSIX),
    ExpectedModule(name="compression.zstd", since=Version(3, 14)),
    ExpectedModule(name="_interpreters", since=Version(3, 13)),
)
"""The stdlib extension modules every cpmatrix interpreter must import, per version and OS."""

OPENSSL_DIGESTS = ("sha256", "sha3_256", "blake2b", "md5")
"""hashlib algorithms that must work; ``sha256`` must come from OpenSSL (``_hashlib``)."""


def expected_modules(version: Version, os: OS) -> tuple[str, ...]:
    return tuple(
        module.name
        for module in EXPECTED_MODULES
        if version.at_least(module.since.major, module.since.minor) and os in module.os
    )


SUBINTERPRETER_POOL_SINCE = Version(3, 14)
"""``concurrent.futures.InterpreterPoolExecutor`` (PEP 734)."""
