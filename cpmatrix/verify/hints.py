"""What is missing outside the interpreter when a check fails for that reason.

Distributions split CPython: Debian moves ``ensurepip`` into ``pythonX.Y-venv`` and the
``test`` package into ``libpythonX.Y-testsuite``. A check that fails because of that says so,
and names the package, instead of "exit 2: tests failed".
"""

from __future__ import annotations

import re

from cpmatrix.features import Version, debian

_MISSING_TEST_MODULE = re.compile(r"No module named '(test\.[A-Za-z0-9_.]+)'")
_NO_ENSUREPIP = ("ensurepip is not available", "No module named ensurepip")


def missing_test_modules(output: str) -> list[str]:
    """``test.test_json``, … : modules of the test package regrtest could not import."""
    return sorted(set(_MISSING_TEST_MODULE.findall(output)))


def missing_piece(text: str, version: Version | None) -> str | None:
    """What to install, when ``text`` (a check's observation and detail) shows it is missing."""
    flat = " ".join(text.split())
    if any(marker in flat for marker in _NO_ENSUREPIP):
        package = debian.venv_package(version.series) if version else "pythonX.Y-venv"
        return f"{package}: the distribution ships ensurepip apart (Debian: apt-get install it)"
    if missing_test_modules(text):
        package = debian.testsuite_package(version.series) if version else "libpythonX.Y-testsuite"
        return f"{package}: the distribution ships the tests apart (Debian: apt-get install it)"
    return None
