"""`invoke matrix` and `invoke --list` as a user runs them: real processes, real output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cpmatrix.matrix.layout import PROJECT_ROOT


def invoke(*args: str, matrix: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--matrix", str(matrix)] if matrix else []
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args, *extra],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_list_shows_every_task_with_help() -> None:
    result = invoke("--list")
    assert result.returncode == 0
    assert "matrix" in result.stdout
    for line in result.stdout.splitlines()[2:]:
        if line.strip() and not line.startswith("     "):
            assert len(line.split(None, 1)) == 2, f"task without one-line help: {line!r}"


def test_matrix_help_documents_options() -> None:
    result = invoke("matrix", "--help")
    for option in ("--format", "--python", "--variant", "--platform", "--profile", "--shard"):
        assert option in result.stdout


def test_matrix_table() -> None:
    result = invoke("matrix", "--python", "3.13", "--platform", "linux-x86_64")
    assert result.returncode == 0, result.stderr
    assert "cpython-3.13.5-jit-linux-x86_64" in result.stdout
    assert "skipped because CPython cannot build them" in result.stdout
    assert "tailcall needs CPython 3.14+" in result.stdout


def test_matrix_github_loads_with_include_list() -> None:
    result = invoke("matrix", "--format", "github")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data["include"], list) and data["include"]
    assert {"runner", "python", "variant", "platform", "profile", "cell"} <= set(data["include"][0])


def test_matrix_json() -> None:
    data = json.loads(invoke("matrix", "--format", "json").stdout)
    assert data["cells"] and data["skipped"]
    assert {"id", "features", "platform"} <= set(data["cells"][0])


def test_oversized_github_matrix_fails_and_shards_work() -> None:
    whole = invoke("matrix", "--format", "github", "--profile", "release,optimized,debug")
    assert whole.returncode == 2
    assert "exceed GitHub's 256-job limit" in whole.stderr
    first = invoke(
        "matrix", "--format", "github", "--profile", "release,optimized,debug", "--shard", "1/2"
    )
    assert first.returncode == 0, first.stderr
    assert 0 < len(json.loads(first.stdout)["include"]) <= 256


def test_unknown_variant_lists_valid_values() -> None:
    result = invoke("matrix", "--variant", "jti")
    assert result.returncode == 2
    assert "error: unknown variant or feature 'jti'" in result.stderr
    assert "did you mean 'jit'" in result.stderr


def test_broken_matrix_is_refused_before_anything_runs(tmp_path: Path) -> None:
    broken = tmp_path / "matrix.yaml"
    broken.write_text("schema: 1\npythons: {}\n", encoding="utf-8")
    result = invoke("matrix", matrix=broken)
    assert result.returncode == 2
    assert "matrix.yaml:1:1: the matrix file needs 'variants'" in result.stderr
