"""Debian's releases as cpmatrix uses them, what Debian calls CPython's pieces, and which
interpreters its unstable suite ships.

Debian splits one CPython into several binary packages: ``ensurepip`` lives in
``pythonX.Y-venv`` and the ``test`` package in ``libpythonX.Y-testsuite``, so a stock install
fails checks for reasons outside the interpreter (measured 2026-12-02; the package contents are
listed at https://packages.debian.org/sid/python3.14-venv and
https://packages.debian.org/sid/libpython3.14-testsuite, see docs/verification.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from cpmatrix.features import Version

UNSTABLE_SUITE = "sid"
STABLE_RELEASES = ("buster", "bullseye", "bookworm", "trixie", "forky", "duke")
"""Debian's release code names, oldest first (https://wiki.debian.org/DebianReleases)."""
SUITE_NAMES = frozenset(
    {*STABLE_RELEASES, UNSTABLE_SUITE}
    | {"oldstable", "stable", "testing", "unstable", "experimental"}
)
"""Every name an apt source may give a Debian suite (``-updates`` / ``-security`` stripped)."""
EXPIRED_RELEASE_SUITES = frozenset({UNSTABLE_SUITE, "unstable", "experimental"})
"""Suites whose Release file mirrors serve past its Valid-Until date."""

BUILDER_SUITE = "trixie"
"""The builder's own Debian: its compilers, LLVM majors and python3."""
SYSROOT_SUITE = "bullseye"
"""The Debian whose headers and libraries every Linux build links against (its glibc is the
artifacts' floor: ``SUITE_GLIBC[SYSROOT_SUITE]``) and whose packages an artifact bundles."""
SUITE_GLIBC = {"bullseye": "2.31", "bookworm": "2.36", "trixie": "2.41"}
"""glibc of each Debian release, as its libc6 package ships it."""

MULTIARCH_TRIPLETS = ("x86_64-linux-gnu", "aarch64-linux-gnu")
"""Debian's multiarch library directories of the machines cpmatrix builds Linux cells for
(https://wiki.debian.org/Multiarch/Tuples)."""
LIBRARY_DIRS: tuple[str, ...] = (
    *(f"{usr}lib/{triplet}" for triplet in MULTIARCH_TRIPLETS for usr in ("", "usr/")),
    "lib",
    "usr/lib",
)
"""Where a Debian root keeps shared libraries, relative to the root, in lookup order."""
PKGCONFIG_DIRS: tuple[str, ...] = (
    *(f"usr/lib/{triplet}/pkgconfig" for triplet in MULTIARCH_TRIPLETS),
    "usr/lib/pkgconfig",
    "usr/share/pkgconfig",
)
"""Where a Debian root keeps pkg-config files, relative to the root."""

SOURCE_SUITES: dict[Version, tuple[str, ...]] = {Version(3, 13): ("trixie",)}
"""The Debian suites whose ``pythonX.Y`` source package carries that series' release; any
other series is looked for in unstable (which may list it but not serve it)."""


def source_suites(series: Version) -> tuple[str, ...]:
    """Where the Debian provider looks for a series' upstream tarball, in order."""
    return SOURCE_SUITES.get(series.series, (UNSTABLE_SUITE,))


UNSTABLE_SERIES: tuple[Version, ...] = (Version(3, 14), Version(3, 15))
"""Debian unstable's real 3.14 and 3.15 (JIT compiled in but off, remote debugging on)."""


def interpreter_package(series: Version) -> str:
    return f"python{series.minor_text}"


def venv_package(series: Version) -> str:
    """Holds ``ensurepip`` (``python -m venv`` fails without it)."""
    return f"python{series.minor_text}-venv"


def testsuite_package(series: Version) -> str:
    """Holds the ``test`` package every stdlib test tier runs."""
    return f"libpython{series.minor_text}-testsuite"


def dev_package(series: Version) -> str:
    """Holds the installed ``pyconfig.h`` (the tail-call check compares it with sysconfig)."""
    return f"python{series.minor_text}-dev"


def orig_tarball(release: Version) -> str:
    """Upstream's tarball in Debian's source package (``python3.13_3.13.5.orig.tar.xz``)."""
    return f"{interpreter_package(release.series)}_{release}.orig.tar.xz"


def interpreter_path(series: Version) -> str:
    return f"/usr/bin/python{series.minor_text}"


UNSTABLE_INTERPRETERS: tuple[str, ...] = tuple(interpreter_package(s) for s in UNSTABLE_SERIES)
UNSTABLE_PACKAGES: tuple[str, ...] = (
    *UNSTABLE_INTERPRETERS,
    *(venv_package(s) for s in UNSTABLE_SERIES),
    *(dev_package(s) for s in UNSTABLE_SERIES),
)
"""What a container needs to verify Debian unstable's interpreters (venv check and the
installed pyconfig.h included)."""


# -- what an artifact bundles from a Debian release: licences and support ---------------------

BUNDLED_LICENSES: dict[str, str] = {
    "libb2-1": "CC0-1.0",
    "libbz2-1.0": "bzip2-1.0.6",
    "libssl1.1": "OpenSSL",
    "libffi7": "MIT",
    "libgdbm6": "GPL-3.0-or-later",
    "libgdbm-compat4": "GPL-3.0-or-later",
    "libgomp1": "GPL-3.0-or-later WITH GCC-exception-3.1",
    "liblzma5": "0BSD",
    "libmpdec3": "BSD-2-Clause",
    "libncursesw6": "X11",
    "libtinfo6": "X11",
    "libreadline8": "GPL-3.0-or-later",
    "libsqlite3-0": "blessing",
    "libuuid1": "BSD-3-Clause",
    "zlib1g": "Zlib",
}
"""SPDX expressions of the Debian packages a portable artifact bundles (from each package's
``debian/copyright``; liblzma 5.2 is public domain, 0BSD is its SPDX stand-in)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SupportEnd:
    """When support for something we bundle ended, and whose support."""

    ended: str
    by: str


RELEASE_SUPPORT: dict[str, SupportEnd] = {
    "bullseye": SupportEnd(ended="2026-08-31", by="Debian 11 LTS"),
}
"""The last day a Debian release's packages got security updates (LTS included)."""
UPSTREAM_SUPPORT: dict[str, SupportEnd] = {
    "libssl1.1": SupportEnd(ended="2023-09-11", by="OpenSSL 1.1.1 upstream"),
}
"""Bundled packages whose upstream stopped supporting the packaged series."""


def support_ended(package: str, release: str, today: str) -> tuple[SupportEnd, ...]:
    """Each support that ended on or before ``today`` (ISO date) for a bundled package."""
    ends = [UPSTREAM_SUPPORT.get(package), RELEASE_SUPPORT.get(release)]
    return tuple(end for end in ends if end is not None and end.ended <= today)


WORKBENCH_PACKAGES = ("build-essential", "pkg-config")
"""A team's build machine beyond the base system: what the team-work proof installs, and what
the image an emulated interpreter is verified in after its build has (one image serves both)."""
EMULATED_VERIFY_SUITE = "bookworm"
"""The Debian release of the image an emulated (qemu-user) interpreter is verified in after its
build; its consumers are then proven in every release of its platform, as on x86_64."""
