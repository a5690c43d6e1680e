"""What proves each feature in a built interpreter, per version: read by ``cpmatrix.verify``.

Sysconfig variables and their values with and without the feature, run-time calls and the
environment variables that flip them, the JIT's evidence per mode, and the stdlib modules a
healthy build must import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, assert_never

from cpmatrix.features import OS, SPECS, Feature, Version, tailcall_macro

REMOTE_DEBUG_SINCE = SPECS[Feature.NOREMOTEDEBUG].since
"""PEP 768: ``sys.remote_exec``, ``sys.is_remote_debug_enabled`` and the switch that compiles
remote debugging out all exist from 3.14."""

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
            exists = version.at_least(REMOTE_DEBUG_SINCE.major, REMOTE_DEBUG_SINCE.minor)
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
        since=REMOTE_DEBUG_SINCE,
    ),
}


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
    ExpectedModule(name="_uuid", os=POSIX),
    ExpectedModule(name="dbm"),
    ExpectedModule(name="readline", os=POSIX),
    ExpectedModule(name="curses", os=POSIX),
    ExpectedModule(name="_curses_panel", os=POSIX),
    ExpectedModule(name="compression.zstd", since=Version(3, 14)),
    ExpectedModule(name="_interpreters", since=Version(3, 13)),
)
"""The stdlib extension modules every cpmatrix interpreter must import, per version and OS.

The C modules are named where a pure-Python fallback hides their absence: ``decimal`` falls
back to ``_pydecimal``, ``uuid`` works without ``_uuid``. Beyond this list, every extension
module an interpreter ships must import (``verify.health.modules_check``): a ``_gdbm`` that
cannot load its library fails it, while a distribution that leaves ``_gdbm`` out does not."""

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


WINDOWS_SYSCONFIG: frozenset[str] = frozenset(
    {"Py_GIL_DISABLED", "Py_DEBUG", "EXT_SUFFIX", "SOABI"}
)
"""What sysconfig answers on Windows: ``_sysconfig.config_vars()`` (``Modules/_sysconfig.c``)
plus the paths of ``sysconfig._init_non_posix``. No CONFIG_ARGS, no PY_CORE_CFLAGS, no
Py_TAIL_CALL_INTERP or Py_REMOTE_DEBUG; the shipped ``pyconfig.h`` (``PC/pyconfig.h.in``) names
no feature but Py_GIL_DISABLED. There the build record's ``build.bat`` switches stand in for
the build strings, and the run-time answers are what they are everywhere."""


def buildbat_switch(feature: Feature) -> str:
    """The ``PCbuild\\build.bat`` switch that turns the feature on."""
    return SPECS[feature].buildbat[0]


PGO_FLAG_VARIABLE = "PGO_PROF_GEN_FLAG"
"""configure picks the PGO flags by the compiler it recognizes in CC (clang:
``-fprofile-instr-generate``, gcc: ``-fprofile-generate``) and sets none for a compiler it does
not recognize; ``make`` then runs the profile task and rebuilds without any profile. sysconfig
keeps the value, so an empty one in an ``--enable-optimizations`` build means PGO was off."""
LTO_FLAG = "-flto"
LTO_VARIABLES = ("PY_CFLAGS_NODIST", "PY_LDFLAGS_NODIST")
"""``--with-lto`` puts ``-flto`` (``-flto=thin`` with clang) into the compile and link flags."""
OPTIMIZATION_VARIABLES = (PGO_FLAG_VARIABLE, *LTO_VARIABLES)
"""The sysconfig variables the verifier reads to judge a build profile (the probe, standard
library only, lists them again as ``BUILD_FLAG_VARS``; a test keeps the two equal)."""


def lto_in(value: object) -> bool:
    return any(word.startswith(LTO_FLAG) for word in str(value or "").split())
