"""Portable Linux builds: compile against an old sysroot, then make the tree self-contained.

The builder image (docker/Dockerfile) carries Debian bullseye's headers and libraries in
``/opt/sysroot``; configure gets ``--sysroot`` in ``CPPFLAGS`` and ``LDFLAGS`` and a pkg-config
that only sees the sysroot, so the interpreter and its extension modules need at most bullseye's
glibc. After ``make install`` the ``portable`` phase runs :mod:`cpmatrix.builders.finish_tree`
in the same container: it bundles the libraries the modules link, removes the sysroot from
sysconfig, and splits the debug information off into ``build/<cell-id>/dbgsym/``. These
functions only compose what runs; :mod:`cpmatrix.builders.steps` runs it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cpmatrix.builders import finish_tree, native_code, relocate
from cpmatrix.features import debian
from cpmatrix.features.portability import HOST_LIBRARIES
from cpmatrix.features.toolchains import SYSROOT_CC

SYSROOT = "/opt/sysroot"
SYSROOT_RUNTIME = "/opt/sysroot-runtime"
"""Sysroot libraries whose sonames the builder's own Debian lacks (libssl.so.1.1 …): the freshly
built python loads them during ``make``; they are on LD_LIBRARY_PATH in the build container."""
SCRIPT_NAME = "cpmatrix-finish-tree.py"
FACTS_NAME = "cpmatrix-finish-tree.json"
"""What the finish script needs to know from features/, written beside it."""
REPORT_NAME = "portable.json"
DBGSYM_DIR = "dbgsym"
BUNDLE_DIR = finish_tree.BUNDLE_DIR


@dataclass(frozen=True, slots=True, kw_only=True)
class Cross:
    """A cross build: configure's --build/--host, the native interpreter of the same release
    that runs the build's Python steps, and the target's cross binutils (features.arch)."""

    build: str
    host: str
    build_python: str
    """Its path as the build sees it (the native cell's install tree, mounted read-only)."""
    configure_cache: tuple[tuple[str, str], ...] = ()
    """configure's answers to run-time tests it cannot run for another architecture."""

    def configure_arguments(self) -> tuple[str, ...]:
        return (
            f"--build={self.build}",
            f"--host={self.host}",
            f"--with-build-python={self.build_python}",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Sysroot:
    """Where a runner's sysroot is, as the build sees it."""

    path: str = SYSROOT
    runtime_libraries: str = SYSROOT_RUNTIME
    compiler: str = SYSROOT_CC
    """Where the cell needs no particular compiler (see features.toolchains.SYSROOT_CC)."""
    cross: Cross | None = None
    """Set when the sysroot is another architecture's: clang gets ``--target``."""

    def configure_env(self, cc: str) -> tuple[tuple[str, str], ...]:
        """A bare CC, --sysroot in CPPFLAGS and LDFLAGS, pkg-config confined to the sysroot.

        Not ``CC="clang-19 --sysroot=/opt/sysroot"``: configure names the compiler by what
        follows the last ``/`` in CC (``CC_BASENAME``) and gives clang's PGO flags only when
        that word says clang. It read ``sysroot``, set no PGO flags, and an ``optimized`` build
        ran its profile task and then compiled without the profile (3.13.5, 2026-12-02).
        """
        pkgconfig = ":".join(f"{self.path}/{d}" for d in debian.PKGCONFIG_DIRS)
        if self.cross is not None:
            # no "/" in it: CC_BASENAME stays the clang word (see above)
            cc = f"{cc} --target={self.cross.host}"
        return (
            *(self.cross.configure_cache if self.cross is not None else ()),
            ("CC", cc),
            ("CPPFLAGS", f"--sysroot={self.path}"),
            ("LDFLAGS", f"--sysroot={self.path}"),
            ("PKG_CONFIG_LIBDIR", pkgconfig),
            ("PKG_CONFIG_SYSROOT_DIR", self.path),
        )

    def finish_command(self, *, work_dir: str, tree: str, dbgsym: str) -> tuple[str, ...]:
        """The portable phase: bundle, sanitize, split debug info (see finish_tree)."""
        return (
            "python3",
            f"{work_dir}/{SCRIPT_NAME}",
            "--tree",
            tree,
            "--sysroot",
            self.path,
            "--dbgsym",
            dbgsym,
            "--report",
            f"{work_dir}/{REPORT_NAME}",
            "--facts",
            f"{work_dir}/{FACTS_NAME}",
            *(("--binutils-prefix", f"{self.cross.host}-") if self.cross is not None else ()),
        )


FINISH_FACTS = finish_tree.Facts(host_libraries=HOST_LIBRARIES, library_dirs=debian.LIBRARY_DIRS)
"""What the finish script needs from features/, written beside it as FACTS_NAME."""


def finish_facts() -> bytes:
    return FINISH_FACTS.to_json().encode()


def script_files() -> dict[str, bytes]:
    """The finish script, its facts and the module it imports, by their paths in the build
    directory: ``cpmatrix/builders/relocate.py`` beside empty package files, so that the
    script's ``from cpmatrix.builders import relocate`` finds it with nothing else of cpmatrix.
    The facts are part of :func:`scripts_digest`: a changed allow-list rebuilds the cell."""
    return {
        SCRIPT_NAME: Path(finish_tree.__file__).read_bytes(),
        FACTS_NAME: finish_facts(),
        "cpmatrix/__init__.py": b"",
        "cpmatrix/builders/__init__.py": b"",
        "cpmatrix/builders/relocate.py": Path(relocate.__file__).read_bytes(),
        "cpmatrix/builders/native_code.py": Path(native_code.__file__).read_bytes(),
    }


def scripts_digest() -> str:
    """The sha256 of what the portable phase runs: part of a build's fingerprint, so a change
    to it rebuilds the cell instead of reusing a tree made portable by the old one."""
    digest = hashlib.sha256()
    for name, content in sorted(script_files().items()):
        digest.update(f"{name}\0{hashlib.sha256(content).hexdigest()}\n".encode())
    return digest.hexdigest()
