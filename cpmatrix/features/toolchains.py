"""Which toolchain builds which cell: one table per CPython minor, one rule per OS.

Every toolchain question is answered here: the C compiler, the LLVM major (for the JIT's
stencils and for the tail-call interpreter's clang), the Debian packages, the Homebrew formula,
the Chocolatey package and the Visual Studio toolset. ``ci.py``, the builders and the
on-paper check of the workflows (``cpmatrix/matrix/toolcheck.py``) all ask these functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, assert_never

from cpmatrix.features.vocabulary import OS, Feature, Version, needs_llvm

TAILCALL_MIN_CLANG = 19
"""The tail-call interpreter needs ``preserve_none`` and ``musttail``: clang 19 or newer."""

SYSROOT_CC = f"clang-{TAILCALL_MIN_CLANG}"
"""The C compiler of a Linux cell that builds against an older sysroot and needs no particular
clang. Not gcc: its driver adds library directories outside ``--sysroot``
(``/usr/lib/gcc/…/../../../x86_64-linux-gnu``), links the builder's newer libc and loses the
glibc floor; clang keeps every path under the sysroot."""


def llvm_tools_env(cc: str) -> tuple[tuple[str, str], ...]:
    """LLVM_AR and LLVM_PROFDATA for a versioned clang (``clang-19``), else nothing.

    With clang, ``--with-lto`` needs ``llvm-ar`` and ``--enable-optimizations`` needs
    ``llvm-profdata``; configure looks for those unversioned names, and Debian's llvm-N packages
    install only ``/usr/bin/llvm-ar-N`` and ``/usr/bin/llvm-profdata-N`` ("configure: error:
    llvm-ar is required for a --with-lto build with clang but could not be found", 3.13.5 with
    clang-19, 2026-12-02). A value given beforehand is kept, but configure then tests it with
    ``-x``: it must be a path, a bare name fails the same way."""
    major = _clang_major(cc)
    if major is None:
        return ()
    return (
        ("LLVM_AR", f"/usr/bin/llvm-ar-{major}"),
        ("LLVM_PROFDATA", f"/usr/bin/llvm-profdata-{major}"),
    )


def pgo_packages(cc: str) -> tuple[Package, ...]:
    """What a PGO build with a versioned clang needs beyond clang-N and llvm-N: its profile
    runtime. ``-fprofile-instr-generate`` links ``libclang_rt.profile.a``, which Debian ships in
    ``libclang-rt-N-dev``, a package clang-N does not pull in ("cannot find
    /usr/lib/llvm-19/lib/clang/19/lib/x86_64-pc-linux-gnu/libclang_rt.profile.a", 3.13.5, the
    first optimized build whose configure gave clang its PGO flags, 2026-12-02)."""
    major = _clang_major(cc)
    return () if major is None else (Package("apt", f"libclang-rt-{major}-dev"),)


def _clang_major(cc: str) -> str | None:
    found = re.fullmatch(r"clang-(\d+)", cc.split()[0]) if cc else None
    return None if found is None else found.group(1)


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowsToolset:
    """A Visual Studio ``PlatformToolset`` as PCbuild needs it."""

    name: str
    summary: str
    on_command_line: bool
    """build.bat must be told (``/p:PlatformToolset=NAME``); otherwise VS's default is used."""


MSVC = WindowsToolset(name="v143", summary="MSVC (VS 2022 or newer)", on_command_line=False)
CLANGCL = WindowsToolset(name="ClangCL", summary="ClangCL (clang-cl 19+)", on_command_line=True)
MSVC_V145 = WindowsToolset(name="v145", summary="MSVC v145 (VS 2026)", on_command_line=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesToolchain:
    """What builds one CPython minor."""

    llvm: int
    """Exactly this LLVM major builds the JIT's stencils (Tools/jit/_llvm.py). On Linux and
    macOS its clang also compiles the tail-call interpreter, so a cell needs one LLVM at most."""
    windows_tailcall: WindowsToolset | None
    """PCbuild's toolset for ``--tail-call-interp``; None where the minor has none."""


SERIES: dict[tuple[int, int], SeriesToolchain] = {
    (3, 13): SeriesToolchain(llvm=18, windows_tailcall=None),
    (3, 14): SeriesToolchain(llvm=19, windows_tailcall=CLANGCL),
    (3, 15): SeriesToolchain(llvm=21, windows_tailcall=MSVC_V145),
    (3, 16): SeriesToolchain(llvm=21, windows_tailcall=MSVC_V145),
}

PackageManager = Literal["apt", "brew", "choco", "visual-studio"]


@dataclass(frozen=True, slots=True, order=True)
class Package:
    """Something a runner or image must install. ``choco`` names carry the major they need
    (``llvm@21``: any 21.x); ``visual-studio`` names are PlatformToolsets."""

    manager: PackageManager
    name: str

    def __str__(self) -> str:
        return f"{self.manager} {self.name}"


@dataclass(frozen=True, slots=True)
class Tool:
    """An executable a build needs, with what to install when it is missing."""

    command: str
    purpose: str
    install_hint: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Toolchain:
    """What one cell needs on its OS: compiler, LLVM, tools to check, packages to install."""

    os: OS
    cc: str | None
    """The C compiler configure must use; None: configure's own choice."""
    llvm_major: int | None
    tools: tuple[Tool, ...]
    env: tuple[tuple[str, str], ...]
    packages: tuple[Package, ...]
    windows_toolset: WindowsToolset | None = None

    @property
    def brew_formula(self) -> str | None:
        """On macOS LLVM comes from Homebrew (``brew --prefix llvm@N``); Apple clang is rejected."""
        return next((p.name for p in self.packages if p.manager == "brew"), None)


def series_toolchain(version: Version) -> SeriesToolchain:
    try:
        return SERIES[(version.major, version.minor)]
    except KeyError:
        known = ", ".join(f"{a}.{b}" for a, b in sorted(SERIES))
        raise ValueError(
            f"cpmatrix does not know which LLVM builds the JIT of CPython {version.minor_text} "
            f"(known: {known}); add it to SERIES in cpmatrix/features/toolchains.py"
        ) from None


def llvm_major_for(version: Version) -> int:
    """The LLVM major of a CPython minor's JIT stencils."""
    return series_toolchain(version).llvm


def llvm_major(version: Version, features: frozenset[Feature], os: OS) -> int | None:
    """The one LLVM a cell needs, or None: the minor's LLVM for the JIT's stencils, and on
    Linux and macOS for the tail-call interpreter's clang (Windows compiles that with Visual
    Studio's toolset)."""
    if needs_llvm(features) or (Feature.TAILCALL in features and os != "windows"):
        return llvm_major_for(version)
    return None


def homebrew_formula(major: int) -> str:
    """Homebrew's keg-only LLVM of one major (``brew --prefix llvm@19``)."""
    return f"llvm@{major}"


def packages_for(os: OS, major: int, *, stencils: bool) -> tuple[Package, ...]:
    """What provides LLVM ``major`` on an OS (``stencils``: llvm-readobj too, not only clang)."""
    match os:
        case "linux":
            clang = Package("apt", f"clang-{major}")
            return (clang, Package("apt", f"llvm-{major}")) if stencils else (clang,)
        case "macos":
            return (Package("brew", homebrew_formula(major)),)
        case "windows":
            return (Package("choco", f"llvm@{major}"),)
        case _:
            assert_never(os)


def install_hint(packages: tuple[Package, ...]) -> str:
    """The command that installs ``packages`` (all of one manager)."""
    names = " ".join(p.name for p in packages)
    manager = packages[0].manager if packages else "apt"
    match manager:
        case "apt":
            return f"apt-get install {names}"
        case "brew":
            return f"brew install {names}"
        case "choco":
            return " && ".join(_choco_command(p.name) for p in packages)
        case "visual-studio":
            return f"Visual Studio with the {names} PlatformToolset"
        case _:
            assert_never(manager)


def _choco_command(name: str) -> str:
    """``llvm@21`` → ``choco install llvm --version 21.1.0`` (Tools/jit's README does so)."""
    package, _, major = name.partition("@")
    return f"choco install {package} --version {major}.1.0"


def _windows(version: Version, features: frozenset[Feature]) -> Toolchain:
    major = llvm_major(version, features, "windows")
    packages = packages_for("windows", major, stencils=True) if major is not None else ()
    toolset = windows_toolset_for(version, features)
    return Toolchain(
        os="windows",
        cc=None,
        llvm_major=major,
        tools=(),
        env=(),
        packages=(*packages, Package("visual-studio", toolset.name)),
        windows_toolset=toolset,
    )


def toolchain(version: Version, features: frozenset[Feature], os: OS) -> Toolchain:
    """Everything a cell needs on its OS, found the way CPython's CI finds it."""
    if os == "windows":
        return _windows(version, features)
    major = llvm_major(version, features, os)
    if major is None:
        return Toolchain(os=os, cc=None, llvm_major=None, tools=(), env=(), packages=())
    stencils = needs_llvm(features)
    packages = packages_for(os, major, stencils=stencils)
    hint = install_hint(packages)
    tools: list[Tool] = []
    env: list[tuple[str, str]] = []
    if stencils:
        if os == "linux":
            purpose = f"JIT stencils (LLVM {major})"
            names = ("clang", "llvm-readobj", "llvm-objdump")
            tools.extend(Tool(f"{name}-{major}", purpose, hint) for name in names)
        tools.append(Tool("python3", "Tools/jit/build.py runs under a host python3 (3.11+)", ""))
        if version.at_least(3, 15):
            env.append(("LLVM_VERSION", str(major)))
    cc: str | None = None
    if Feature.TAILCALL in features:
        # macOS: the keg's bin comes first on PATH (builders/posix.py), so "clang" is its clang
        cc = f"clang-{major}" if os == "linux" else "clang"
        tools.append(Tool(cc, f"tail-call interpreter (clang >= {TAILCALL_MIN_CLANG})", hint))
    return Toolchain(
        os=os, cc=cc, llvm_major=major, tools=tuple(tools), env=tuple(env), packages=packages
    )


def posix_toolchain(version: Version, features: frozenset[Feature], os: OS) -> Toolchain:
    """The toolchain of a configure/make build."""
    if os == "windows":
        raise ValueError("Windows builds use PCbuild, not a POSIX toolchain")
    return toolchain(version, features, os)


def windows_toolset_for(version: Version, features: frozenset[Feature]) -> WindowsToolset:
    if Feature.TAILCALL in features:
        chosen = series_toolchain(version).windows_tailcall
        if chosen is None:
            raise ValueError(f"CPython {version.minor_text} has no tail-call interpreter")
        return chosen
    return MSVC


def windows_toolset(version: Version, features: frozenset[Feature]) -> str:
    """Which Visual Studio toolset a Windows cell needs, as a person reads it."""
    return windows_toolset_for(version, features).summary
