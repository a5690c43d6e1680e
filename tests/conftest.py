"""Shared, expensive things: the Docker engine check and the five real 3.13.5 builds."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from cpmatrix.matrix import Cell, matrixfile
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.pipeline import CellOutcome
from cpmatrix.util.errors import EnvironmentProblem


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"true", "1", "yes"}


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """A Docker engine that answers. Outside CI a missing engine skips; in CI it fails."""
    from cpmatrix.engine.containers import engine

    try:
        engine()
    except EnvironmentProblem as problem:
        if in_ci():
            pytest.fail(f"CI=true but no Docker engine answers: {problem.render()}")
        pytest.skip(f"no Docker engine answers (outside CI): {problem.message}")


@pytest.fixture(scope="session")
def cpython_source() -> object:
    """The real, verified CPython 3.13.5 tree in the user's cache (layout.cache_dir()).

    The first session on a machine gets it through the real providers (Debian here, ~5 s);
    later sessions hit the cache. Tests that need an isolated cache copy from this one.
    """
    from cpmatrix.matrix import matrixfile
    from cpmatrix.sources import prepare

    return prepare(matrixfile.load().python("3.13"))


BUILT_VARIANTS = ("default", "freethreaded", "jit", "jit-off", "jit-interpreter")


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltCell:
    """A real build of a 3.13.5 cell: its cell, its directories, and how the build ended."""

    cell: Cell
    paths: CellPaths
    outcome: CellOutcome


@pytest.fixture(scope="session")
def built_cells(
    docker_engine: None, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, BuiltCell]:
    """default, freethreaded, jit, jit-off and jit-interpreter of CPython 3.13.5 (linux-x86_64,
    release), built for real in the builder image through the pipeline into a session build
    root, or into ``$CPMATRIX_TEST_BUILD_ROOT`` when set (cells already built there are reused,
    as ``invoke build`` reuses them). ccache in the user's cache dir makes later sessions much
    quicker than the first."""
    from cpmatrix import pipeline
    from cpmatrix.matrix import matrixfile

    model = matrixfile.load()
    cells = [
        model.cell(python="3.13", variant=name, platform="linux-x86_64") for name in BUILT_VARIANTS
    ]
    kept = os.environ.get("CPMATRIX_TEST_BUILD_ROOT")
    root = Path(kept) if kept else tmp_path_factory.mktemp("build-root")
    options = pipeline.Options(build_root=root, verify=False)
    outcomes = pipeline.run(cells, options)
    done = (pipeline.Status.BUILT, pipeline.Status.UP_TO_DATE)
    failed = [o for o in outcomes if o.status not in done]
    if failed:
        pytest.fail("real builds failed: " + "; ".join(f"{o.cell.id}: {o.reason}" for o in failed))
    return {
        cell.variant.name: BuiltCell(cell=cell, paths=CellPaths.of(cell.id, root), outcome=outcome)
        for cell, outcome in zip(cells, outcomes, strict=True)
    }


@pytest.fixture
def jit() -> Cell:
    """The 3.13 JIT cell for linux-x86_64 from the project's matrix.yaml."""
    return matrixfile.load().cell(python="3.13", variant="jit", platform="linux-x86_64")


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache (locks, sources) of the test's own."""
    monkeypatch.setenv("CPMATRIX_CACHE", str(tmp_path / "cache"))


PUBLISHED_VARIANTS = ("default", "freethreaded", "jit")
SATURATED_WHILE_PROVEN = "freethreaded"


@pytest.fixture(scope="session")
def verified_cells(built_cells: dict[str, BuiltCell]) -> dict[str, BuiltCell]:
    """The real builds with a passing verification report (checks only, no stdlib tier: the
    verification's own tests run the tiers) beside each; one verification per session."""
    from cpmatrix import verify

    for built in built_cells.values():
        report = verify.verify_cell(built.cell, built.paths, tiers=())
        assert report.passed, report.summary()
    return built_cells


@pytest.fixture(scope="session")
def published(
    verified_cells: dict[str, BuiltCell], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """default, freethreaded and jit published the way ``invoke build`` publishes: staged,
    through the portability gate, proven in every bare consumer image of matrix.yaml, then
    into a temporary dist/. The free-threaded cell is proven while more CPU-bound processes
    than cores run (``SATURATED_WHILE_PROVEN``): its proofs must not depend on a quiet machine."""
    from loadkit import saturated

    from cpmatrix import artifacts

    dist = tmp_path_factory.mktemp("dist")
    for name in PUBLISHED_VARIANTS:
        built = verified_cells[name]
        if name == SATURATED_WHILE_PROVEN:
            with saturated():
                artifacts.release(built.cell, built.paths, dist=dist)
        else:
            artifacts.release(built.cell, built.paths, dist=dist)
    return dist


@pytest.fixture(scope="session")
def freethreaded_cell(request: pytest.FixtureRequest) -> BuiltCell:
    """A real 3.13.5 free-threaded build: the session's own (``built_cells``), or the one already
    built under ``$CPMATRIX_TEST_FREETHREADED_ROOT`` (a build root), used read-only, so that a
    machine that has one need not build all five cells for the tests that only run it."""
    root = os.environ.get("CPMATRIX_TEST_FREETHREADED_ROOT")
    if not root:
        built: dict[str, BuiltCell] = request.getfixturevalue("built_cells")
        return built["freethreaded"]
    request.getfixturevalue("docker_engine")
    cell = matrixfile.load().cell(python="3.13", variant="freethreaded", platform="linux-x86_64")
    paths = CellPaths.of(cell.id, Path(root))
    if not paths.install.is_dir() or paths.incomplete_marker.exists():
        pytest.fail(f"CPMATRIX_TEST_FREETHREADED_ROOT={root} holds no complete {cell.id}")
    from cpmatrix import pipeline

    outcome = CellOutcome(
        cell=cell,
        status=pipeline.Status.UP_TO_DATE,
        seconds=0.0,
        log=None,
        reason=f"built under {root} before the session; used read-only",
        paths=paths,
    )
    return BuiltCell(cell=cell, paths=paths, outcome=outcome)


@pytest.fixture
def unpatched_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No patches/ series: for tests that prepare small fake CPython tarballs, which lack the
    files the shipped 3.13 patches change (Modules/getpath.py, Lib/ssl.py)."""
    from cpmatrix.sources import patches

    monkeypatch.setattr(patches, "PATCHES_ROOT", tmp_path / "no-patches")
