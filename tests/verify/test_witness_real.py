"""The free-threading witness on real interpreters, on a saturated machine and in a container
given a fraction of one CPU: the real 3.13.5t completes the handshake every time, the real
3.13.5 GIL build (and 3.13.5t with ``PYTHON_GIL=1``) never does. No verdict here reads a
clock; the busy processes only make sure that the verdict does not depend on one."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import SATURATED_WHILE_PROVEN
from loadkit import saturated

from cpmatrix.artifacts.consumers import REPORT_DIR
from cpmatrix.engine.image import builder_image
from cpmatrix.matrix import layout
from cpmatrix.verify import behaviour
from cpmatrix.verify.checks import THREADS_CHECK, threads_check

RUNS = 3
"""Runs of the free-threaded build here (each takes milliseconds to seconds); a GIL build's
runs each spend 4 CPU seconds spinning, so they run GIL_RUNS times. scripts/measure_witness.py
makes the 20-run counts."""
GIL_RUNS = 2


def interpreter(built: Any) -> Path:
    cell = built.cell
    return built.paths.install / layout.interpreter_in_tree(
        cell.version, cell.features, cell.profile, cell.platform.os
    )


def witness(argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [*argv, "witness"], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def on_host(exe: Path, script: Path, gil: str | None = None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    if gil is not None:
        env["PYTHON_GIL"] = gil
    return witness([str(exe), "-s", str(script)], env)


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("witness") / "behaviour.py"
    path.write_text(behaviour.source(), encoding="utf-8")
    return path


@pytest.mark.docker
@pytest.mark.slow
def test_on_a_saturated_machine_only_the_free_threaded_build_completes_the_handshake(
    freethreaded_cell: Any, built_cells: dict[str, Any], script: Path
) -> None:
    free, gil = interpreter(freethreaded_cell), interpreter(built_cells["default"])
    with saturated():
        found = {
            "3.13.5t": [on_host(free, script) for _ in range(RUNS)],
            "3.13.5": [on_host(gil, script) for _ in range(GIL_RUNS)],
            "3.13.5t PYTHON_GIL=1": [on_host(free, script, gil="1") for _ in range(GIL_RUNS)],
        }
    outcomes = {name: [run["outcome"] for run in runs] for name, runs in found.items()}
    assert outcomes == {
        "3.13.5t": ["parallel"] * RUNS,
        "3.13.5": ["serialized"] * GIL_RUNS,
        "3.13.5t PYTHON_GIL=1": ["serialized"] * GIL_RUNS,
    }, found
    for run in found["3.13.5t"]:
        assert threads_check({"witness": run}, True).status == "pass"
        assert threads_check({"witness": run}, False).status == "fail"
    for run in found["3.13.5"]:
        assert threads_check({"witness": run}, True).status == "fail"


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("limit", [["--cpus=0.3"], ["--cpuset-cpus=0"]])
def test_in_a_container_given_part_of_one_cpu_the_verdicts_hold(
    freethreaded_cell: Any, built_cells: dict[str, Any], script: Path, limit: list[str]
) -> None:
    """The witness needs no second core: on one CPU the OS interleaves free threads, while a
    GIL build still serialises them. Run in the builder image, the machine saturated too."""
    image = builder_image().tag
    outcomes: dict[str, list[str]] = {}
    kinds = (("3.13.5t", freethreaded_cell, RUNS), ("3.13.5", built_cells["default"], 1))
    with saturated():
        for name, built, runs in kinds:
            tree = built.paths.install
            exe = Path("/opt/python") / interpreter(built).relative_to(tree)
            argv = ["docker", "run", "--rm", "--network=none", *limit]
            argv += ["-v", f"{tree}:/opt/python:ro", "-v", f"{script.parent}:/w:ro", image]
            argv += [str(exe), "-I", "/w/behaviour.py"]
            outcomes[name] = [witness(argv)["outcome"] for _ in range(runs)]
    assert outcomes == {"3.13.5t": ["parallel"] * RUNS, "3.13.5": ["serialized"]}


@pytest.mark.docker
@pytest.mark.slow
def test_a_free_threaded_cell_proven_on_a_saturated_machine_is_published(
    published: Path, verified_cells: dict[str, Any]
) -> None:
    """The ``published`` fixture proves the free-threaded cell on every bare consumer while
    more CPU-bound processes than cores run: it is published, and each consumer saw the
    handshake complete."""
    built = verified_cells[SATURATED_WHILE_PROVEN]
    manifest = json.loads((published / f"{built.cell.id}.json").read_text())
    proofs = manifest["proven_on"]
    assert proofs and all(proof["passed"] and not proof["failed"] for proof in proofs)
    assert (published / f"{built.cell.id}.tar.gz").is_file()
    consumers = list(built.cell.platform.consumers)
    assert [proof["consumer"] for proof in proofs][: len(consumers)] == consumers
    for name in consumers:  # the team-work proof that follows them writes no verify report
        report = json.loads((built.paths.dir / REPORT_DIR / f"{name}.json").read_text())
        threads = report["observation"]["behaviour"]["threads"]
        assert threads["witness"]["outcome"] == "parallel", (name, threads)
        (check,) = [c for c in report["checks"] if c["name"] == THREADS_CHECK]
        assert check["status"] == "pass"


def sched_yields(argv: list[str], tmp_path: Path) -> int:
    """How many sched_yield() calls the command made (strace's count: a number, not a time)."""
    out = tmp_path / "strace.txt"
    trace = ["strace", "-f", "-c", "-e", "trace=sched_yield", "-o", str(out), *argv]
    subprocess.run(trace, check=True, capture_output=True, timeout=300)
    rows = [line.split() for line in out.read_text().splitlines() if line.endswith("sched_yield")]
    return sum(int(row[3]) for row in rows)


@pytest.mark.docker
@pytest.mark.slow
def test_the_free_threaded_build_starts_without_spinning_on_its_own_locks(
    freethreaded_cell: Any, tmp_path: Path
) -> None:
    """patches/3.13/critical-section-recursion.patch: released 3.13.5t made 2000 sched_yield()
    calls while starting (each buffered file's close() re-locks a mutex its own critical
    section holds), and each yield hands the CPU to every runnable task: 29 s for ``-c pass``
    on a saturated machine. With the patch it makes none."""
    exe = interpreter(freethreaded_cell)
    argv = [str(exe), "-I", "-c", "import json, subprocess, zipfile, hashlib, tempfile"]
    assert sched_yields(argv, tmp_path) == 0
