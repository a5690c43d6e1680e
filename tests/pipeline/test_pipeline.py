"""The pipeline's pure parts: the shared -j budget, outcomes, the exit code, the summary."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from artifactkit import build_record

from cpmatrix import artifacts, pipeline
from cpmatrix.matrix import Cell, Matrix
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.matrix.matrixfile import load
from cpmatrix.pipeline import CellOutcome, Status
from cpmatrix.util.errors import UsageError


@pytest.fixture(scope="module")
def model() -> Matrix:
    return load()


@pytest.mark.parametrize(
    ("budget", "cells", "workers", "jobs"),
    [(2, 3, 1, 2), (1, 5, 1, 1), (8, 3, 3, 2), (8, 1, 1, 8), (16, 4, 4, 4), (7, 10, 3, 2)],
)
def test_job_plan_never_oversubscribes(budget: int, cells: int, workers: int, jobs: int) -> None:
    plan = pipeline.plan_jobs(budget, cells)
    assert (plan.workers, plan.jobs_per_cell) == (workers, jobs)
    assert plan.workers * plan.jobs_per_cell <= max(budget, 1)


def test_builder_choice(model: Matrix) -> None:
    linux = model.cell(python="3.13", variant="jit", platform="linux-x86_64")
    mac = model.cell(python="3.13", variant="jit", platform="macos-arm64")
    assert pipeline.builder_kind(linux, pipeline.Options()) == "docker"
    assert pipeline.builder_kind(linux, pipeline.Options(builder="native")) == "native"
    assert pipeline.builder_kind(mac, pipeline.Options()) == "native"
    with pytest.raises(UsageError, match="--builder=docker cannot build macos-arm64"):
        pipeline.builder_kind(mac, pipeline.Options(builder="docker"))
    assert pipeline.parse_builder("") is None
    with pytest.raises(UsageError) as caught:
        pipeline.parse_builder("dokcer")
    assert caught.value.hint is not None
    assert "did you mean 'docker'" in caught.value.hint


def outcome(model: Matrix, variant: str, status: Status, code: int = 0) -> CellOutcome:
    cell = model.cell(python="3.13", variant=variant, platform="linux-x86_64")
    paths = CellPaths.of(cell.id, Path("/b"))
    log = paths.log if code else None
    return CellOutcome(
        cell=cell, status=status, seconds=61.0, log=log, reason="r" if code else "", exit_code=code,
        paths=paths,
    )  # fmt: skip


def test_exit_code_is_reduced_from_outcomes(model: Matrix) -> None:
    ok = outcome(model, "default", Status.BUILT)
    failed = outcome(model, "jit", Status.FAILED, 5)
    stopped = outcome(model, "freethreaded", Status.INTERRUPTED, 130)
    assert pipeline.exit_code([ok]) == 0
    assert pipeline.exit_code([ok, failed]) == 5
    assert pipeline.exit_code([failed, stopped]) == 130


def test_summary_rows(model: Matrix) -> None:
    proven = replace(
        outcome(model, "default", Status.BUILT),
        proofs=(
            artifacts.ProofTime(place="builder", seconds=52.4),
            artifacts.ProofTime(place="bullseye", seconds=61.0),
        ),
    )
    rows = pipeline.summary_rows([proven, outcome(model, "jit", Status.FAILED, 5)])
    assert rows == [
        ["cpython-3.13.5-default-linux-x86_64", "built", "1m01s", "builder 52.4s, bullseye 1m01s",
         "/b/cpython-3.13.5-default-linux-x86_64/install"],
        ["cpython-3.13.5-jit-linux-x86_64", "failed: r", "1m01s", "-",
         "/b/cpython-3.13.5-jit-linux-x86_64/build.log"],
    ]  # fmt: skip


def test_up_to_date_needs_a_complete_valid_build_from_the_same_inputs(
    tmp_path: Path, model: Matrix
) -> None:
    cell = model.cell(python="3.13", variant="jit", platform="linux-x86_64")
    paths = CellPaths.of(cell.id, tmp_path)
    wanted = {"source": "k1", "configure": ["--x"], "builder": "docker", "image": "sha256:1"}
    assert not pipeline.up_to_date(paths, wanted)
    paths.install.mkdir(parents=True)
    record = {**build_record(cell), "fingerprint": wanted}
    paths.record.write_text(json.dumps(record))
    assert pipeline.up_to_date(paths, wanted)
    assert not pipeline.up_to_date(paths, {**wanted, "image": "sha256:2"})
    for broken in ({**record, "result": "failed: make"}, {**record, "phases": "fast"}, {}):
        paths.record.write_text(json.dumps(broken))
        assert not pipeline.up_to_date(paths, wanted)
    paths.record.write_bytes(b'{"result": "ok\xff"}')
    assert not pipeline.up_to_date(paths, wanted)
    paths.record.write_text(json.dumps(record))
    paths.incomplete_marker.write_text("")
    assert not pipeline.up_to_date(paths, wanted)


@pytest.mark.docker
def test_a_source_that_cannot_be_had_fails_its_cells_not_the_run(
    docker_engine: None, model: Matrix, tmp_path: Path
) -> None:
    cell = model.cell(python="3.13", variant="default", platform="linux-x86_64")
    options = pipeline.Options(
        source=str(tmp_path / "missing" / "Python-3.13.5.tar.xz"), verify=False, build_root=tmp_path
    )
    (result,) = pipeline.run([cell], options)
    assert (result.status, result.exit_code) == (Status.FAILED, 4)
    assert "could not obtain CPython 3.13.5" in result.reason
    assert pipeline.exit_code([result]) == 4
    assert not (tmp_path / cell.id).exists()


def test_a_change_to_the_portable_phase_makes_a_new_fingerprint(
    jit: Cell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The portable phase rewrites the installed tree: a tree made portable by an older
    finish script must not count as up to date (it did before #24)."""
    from types import SimpleNamespace

    from cpmatrix.builders import portable

    builder = SimpleNamespace(identity=lambda: {"image": "sha256:1"})
    tree = SimpleNamespace(key="tree-key")
    before = pipeline.fingerprint(jit, builder, tree)  # type: ignore[arg-type]
    files = portable.script_files()
    changed = {**files, portable.SCRIPT_NAME: files[portable.SCRIPT_NAME] + b"\n# changed\n"}
    monkeypatch.setattr(portable, "script_files", lambda: changed)
    after = pipeline.fingerprint(jit, builder, tree)  # type: ignore[arg-type]
    assert before["portable"] != after["portable"]
    assert {k: v for k, v in before.items() if k != "portable"} == {
        k: v for k, v in after.items() if k != "portable"
    }
