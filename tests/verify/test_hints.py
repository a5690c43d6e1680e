"""Output a person reads: the verify table fits 100 columns, and a check that fails for want
of a distribution's package names it (Debian's pythonX.Y-venv, libpythonX.Y-testsuite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpmatrix.features import Version
from cpmatrix.matrix import matrixfile
from cpmatrix.verify import evaluate, stdlib_tests
from cpmatrix.verify.health import venv_check
from cpmatrix.verify.hints import missing_piece
from cpmatrix.verify.observe import Observation
from cpmatrix.verify.report import Expectation, VerifyReport

PROBES = Path(__file__).parent.parent / "data" / "probes"
V314 = Version(3, 14, 10)

# What Debian unstable's python3.14 printed here (2026-12-02) without python3.14-venv ...
NO_ENSUREPIP = """The virtual environment was not created successfully because ensurepip is not
available.  On Debian/Ubuntu systems, you need to install the python3-venv
package using the following command.

    apt install python3.14-venv
"""
# ... and `python3.14 -m test test_json` without libpython3.14-testsuite.
NO_TESTS = """0:00:00 load avg: 8.29 [1/1] test_json
test test_json crashed -- Traceback (most recent call last):
  File "/usr/lib/python3.14/test/libregrtest/single.py", line 155, in _load_run_test
    test_mod = importlib.import_module(module_name)
ModuleNotFoundError: No module named 'test.test_json'

0:00:00 load avg: 8.29 [1/1/1] test_json failed (uncaught exception)

== Tests result: FAILURE ==

1 test failed:
    test_json

Total duration: 0.4 sec
"""


def report_of(probe: str, variant: str) -> VerifyReport:
    observation = Observation.load(PROBES / f"{probe}.json")
    expect = Expectation(features=matrixfile.load().variant(variant).features)
    checks = evaluate(observation, expect)
    return VerifyReport(
        target=probe, expectation=expect, checks=checks, observation=observation.to_json()
    )


@pytest.mark.parametrize("probe", sorted(p.stem for p in PROBES.glob("*.json")))
@pytest.mark.parametrize("variant", ["default", "jit", "freethreaded+tailcall"])
def test_the_table_and_its_failure_lines_fit_100_columns(probe: str, variant: str) -> None:
    text = report_of(probe, variant).table()
    assert max(len(line) for line in text.splitlines()) <= 100


def test_a_failed_checks_whole_expectation_and_observation_follow_the_table() -> None:
    report = report_of("debian-sid-python3.14", "jit")
    text = report.table()
    failed = {c.name: c for c in report.failed}
    defines = failed["jit: build defines (PY_CORE_CFLAGS)"]
    assert f"  expected  {defines.expected}" in text
    assert f"  observed  {defines.observed}" in text
    assert f"FAIL {defines.name}" in text


def test_a_venv_without_ensurepip_names_the_debian_package() -> None:
    check = venv_check({"venv": {"ok": False, "exit": 1, "tail": NO_ENSUREPIP}})
    assert check.status == "fail"
    report = VerifyReport(
        target="/usr/bin/python3.14",
        expectation=Expectation(features=frozenset(), python=V314),
        checks=(check,),
    )
    assert "  missing   python3.14-venv: the distribution ships ensurepip apart" in report.table()


def test_tests_that_are_not_installed_name_the_testsuite_package() -> None:
    check = stdlib_tests.judge("smoke", 2, False, NO_TESTS, 0.4)
    assert check.status == "fail"
    assert "No module named 'test.test_json'" in check.detail
    hint = missing_piece(f"{check.observed}\n{check.detail}", Version(3, 15, 2))
    assert hint is not None and hint.startswith("libpython3.15-testsuite: ")


def test_an_ordinary_failure_gets_no_package_hint() -> None:
    failing = stdlib_tests.judge("smoke", 2, False, NO_TESTS.replace("No module", "Mo"), 0.4)
    assert missing_piece(failing.detail, V314) is None
    assert missing_piece("venv: exit 1: disk full", None) is None


@pytest.mark.docker
@pytest.mark.slow
def test_stock_debian_python_names_its_missing_packages(
    docker_engine: None, tmp_path: Path
) -> None:
    """Debian unstable's python3.14 alone (no -venv, no -testsuite), through `invoke verify`."""
    import os
    import subprocess
    import sys

    from cpmatrix.engine.image import debian_image_with
    from cpmatrix.matrix.layout import PROJECT_ROOT

    image = debian_image_with("sid", ("python3.14",)).tag
    argv = [sys.executable, "-m", "invoke", "verify", "--image", image, "--expect", "jit-off"]
    argv += ["--interpreter", "/usr/bin/python3.14", "--tier", "smoke"]
    env = {**os.environ, "CPMATRIX_BUILD_DIR": str(tmp_path)}
    done = subprocess.run(
        argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 6, done.stdout + done.stderr
    table = done.stdout.partition("\nPASSED")[0].partition("\nFAILED")[0]
    assert max(len(line) for line in table.splitlines()) <= 100
    assert "  missing   python3.14-venv: " in done.stdout
    assert "  missing   libpython3.14-testsuite: " in done.stdout
