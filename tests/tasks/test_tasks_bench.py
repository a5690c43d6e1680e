"""`invoke bench` as a user runs it: real processes, real output, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cpmatrix.matrix.layout import PROJECT_ROOT


def invoke(*args: str, build_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if build_dir is not None:
        env["CPMATRIX_BUILD_DIR"] = str(build_dir)
        env["CPMATRIX_DIST_DIR"] = str(build_dir / "dist")
    return subprocess.run(
        [sys.executable, "-m", "invoke", "bench", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )


def test_help_explains_columns_switches_and_presets() -> None:
    result = invoke("--help")
    assert result.returncode == 0
    for text in ("--variants", "--consumer", "--from-build", "--interpreter", "--image",
                 "--column", "--env", "--preset", "debian-jit", "PYTHON_GIL=1,0", "--fast",
                 "--baseline", "--suites"):  # fmt: skip
        assert text in result.stdout


def test_nothing_to_compare_and_unbuilt_cells_are_usage_errors(tmp_path: Path) -> None:
    nothing = invoke()
    assert nothing.returncode == 2
    assert "nothing to benchmark" in nothing.stderr
    unpublished = invoke("--python=3.13", "--variants=jit", build_dir=tmp_path)
    assert unpublished.returncode == 2
    assert "cpython-3.13.5-jit-linux-x86_64 has no published artifact" in unpublished.stderr
    assert "invoke build" in unpublished.stderr
    unbuilt = invoke("--python=3.13", "--variants=jit", "--from-build", build_dir=tmp_path)
    assert unbuilt.returncode == 2
    assert "cpython-3.13.5-jit-linux-x86_64 is not built" in unbuilt.stderr


def test_this_machines_python_startup_suite_end_to_end(tmp_path: Path) -> None:
    """A real run on the host's own interpreter: the report lands in build/bench/<name>/."""
    result = invoke(
        "--fast", "--interpreter", sys.executable, "--suites", "startup", "--name", "host",
        "--env", "PYTHONHASHSEED=0,1", build_dir=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = tmp_path / "bench" / "host"
    assert "startup-c-pass" in result.stdout and str(out / "report.md") in result.stdout
    report = json.loads((out / "report.json").read_text())
    assert [c["env"] for c in report["columns"]] == [
        {"PYTHONHASHSEED": "0"},
        {"PYTHONHASHSEED": "1"},
    ]
    assert (out / "chart.svg").is_file()
