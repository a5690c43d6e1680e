"""Shared, expensive things: the Docker engine check and the five real 3.13.5 builds."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from cpmatrix.errors import EnvironmentProblem
from cpmatrix.layout import CellPaths
from cpmatrix.matrix import Cell
from cpmatrix.pipeline import CellOutcome


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"true", "1", "yes"}


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """A Docker engine that answers. Outside CI a missing engine skips; in CI it fails."""
    from cpmatrix.containers import engine

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
    from cpmatrix import matrixfile
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
    from cpmatrix import matrixfile, pipeline

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
