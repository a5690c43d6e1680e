"""The GitHub workflows: actionlint-clean, and wired to what `invoke matrix` really emits."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cpmatrix.matrix.layout import PROJECT_ROOT

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
MATRIX_REFERENCE = re.compile(r"\bmatrix\.([A-Za-z_][A-Za-z0-9_-]*)")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def invoke_matrix(*args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "matrix", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def emitted_keys() -> set[str]:
    """The keys of one matrix entry, from the real task's output."""
    matrix = invoke_matrix("--format", "github")
    keys = {key for entry in matrix["include"] for key in entry}
    assert {"cell", "runner", "python", "variant", "platform", "profile"} <= keys
    return keys


def matrix_references(node: Any) -> set[str]:
    """Every ``matrix.X`` inside a ``${{ … }}`` expression anywhere in a YAML node."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "if" and isinstance(value, str) and "${{" not in value:
                value = f"${{{{ {value} }}}}"  # an if: is an expression even without ${{ }}
            found |= matrix_references(key) | matrix_references(value)
    elif isinstance(node, list):
        for item in node:
            found |= matrix_references(item)
    elif isinstance(node, str):
        for expression in EXPRESSION.findall(node):
            code = STRING_LITERAL.sub("''", expression)  # hashFiles('matrix.yaml') is no key
            found |= set(MATRIX_REFERENCE.findall(code))
    return found


def declared_keys(matrix: dict[str, Any]) -> set[str]:
    keys = {key for key in matrix if key not in ("include", "exclude")}
    for entry in matrix.get("include", []):
        keys |= set(entry)
    return keys


def jobs() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}:{name}", job)
        for path in workflow_files()
        for name, job in load(path).get("jobs", {}).items()
    ]


def test_there_are_build_and_test_workflows() -> None:
    names = {path.name for path in workflow_files()}
    assert {"build.yml", "build-cells.yml", "tests.yml"} <= names


def test_actionlint_finds_nothing() -> None:
    actionlint = shutil.which("actionlint")
    assert actionlint is not None, "actionlint is missing: pip install -e '.[dev]' installs it"
    files = [str(path.relative_to(PROJECT_ROOT)) for path in workflow_files()]
    done = subprocess.run(
        [actionlint, "-no-color", *files],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_matrix_key_a_job_uses_exists(emitted_keys: set[str]) -> None:
    generated_jobs = 0
    for where, job in jobs():
        used = matrix_references(job)
        matrix = job.get("strategy", {}).get("matrix")
        if isinstance(matrix, str):
            assert "fromJSON" in matrix, f"{where}: a string matrix must come from invoke matrix"
            generated_jobs += 1
            allowed = emitted_keys
        elif isinstance(matrix, dict):
            allowed = declared_keys(matrix)
        else:
            allowed = set()
        unknown = used - allowed
        assert not unknown, f"{where} uses matrix keys {sorted(unknown)} that are not emitted"
    assert generated_jobs >= 1, "no job takes its matrix from invoke matrix"


def test_cell_jobs_run_on_the_cells_runner_and_never_fail_fast() -> None:
    cell_job = load(WORKFLOWS / "build-cells.yml")["jobs"]["cell"]
    assert cell_job["runs-on"] == "${{ matrix.runner }}"
    assert cell_job["strategy"]["fail-fast"] is False
    fan_out = load(WORKFLOWS / "build.yml")["jobs"]["build"]
    assert fan_out["strategy"]["fail-fast"] is False
    assert fan_out["uses"] == "./.github/workflows/build-cells.yml"


def test_the_plan_emits_shards_that_the_cell_jobs_index(emitted_keys: set[str]) -> None:
    plan = load(WORKFLOWS / "build.yml")["jobs"]["plan"]
    script = "\n".join(step.get("run", "") for step in plan["steps"])
    assert "invoke matrix --format github-shards" in script
    shards = invoke_matrix("--format", "github-shards")
    assert shards["count"] == len(shards["shards"]) >= 1
    cell_matrix = load(WORKFLOWS / "build-cells.yml")["jobs"]["cell"]["strategy"]["matrix"]
    assert ".shards[inputs.shard]" in cell_matrix
    for shard in shards["shards"]:
        assert {key for entry in shard["include"] for key in entry} == emitted_keys


def test_the_pull_request_subset_resolves_to_a_few_cells() -> None:
    selection = load(WORKFLOWS / "build.yml")["env"]["PR_SELECTION"]
    matrix = invoke_matrix("--format", "github", *shlex.split(selection))
    builders = {entry["builder"] for entry in matrix["include"]}
    assert 0 < len(matrix["include"]) <= 10
    assert builders == {"docker", "native", "windows"}
    arm = [entry for entry in matrix["include"] if entry["platform"] == "linux-aarch64"]
    assert arm and {entry["runner"] for entry in arm} == {"ubuntu-24.04-arm"}


def test_the_reference_finder_reads_expressions_not_strings() -> None:
    job = {
        "runs-on": "${{ matrix.runner }}",
        "with": {"key": "x-${{ hashFiles('matrix.yaml') }}-${{ matrix.series }}"},
        "run": "echo matrix.not_an_expression",
        "if": "matrix.llvm != '' && inputs.x",
        "steps": [{"if": "${{ matrix.cell }}"}],
    }
    assert matrix_references(job) == {"runner", "series", "llvm", "cell"}
