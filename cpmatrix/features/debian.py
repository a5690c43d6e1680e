"""What Debian calls CPython's pieces, and which interpreters its unstable suite ships.

Debian splits one CPython into several binary packages: ``ensurepip`` lives in
``pythonX.Y-venv`` and the ``test`` package in ``libpythonX.Y-testsuite``, so a stock install
fails checks for reasons outside the interpreter (measured 2026-12-02, see
/work/shared/cpython-variants.md).
"""

from __future__ import annotations

from cpmatrix.features import Version

UNSTABLE_SUITE = "sid"
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
