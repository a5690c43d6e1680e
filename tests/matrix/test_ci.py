"""The GitHub Actions matrix: include lists, the 256-job limit and shards."""

from __future__ import annotations

import pytest

from cpmatrix.matrix import Cell, Matrix, Selection, ci, matrixfile
from cpmatrix.util.errors import UsageError


@pytest.fixture(scope="module")
def model() -> Matrix:
    return matrixfile.load()


@pytest.fixture(scope="module")
def every_profile(model: Matrix) -> tuple[Cell, ...]:
    return model.expand(model.selection(profile="release,optimized,debug")).cells


def test_job_has_what_the_workflow_needs(model: Matrix) -> None:
    cell = model.cell(python="3.13", variant="jit", platform="macos-arm64")
    assert ci.job(cell) == {
        "cell": "cpython-3.13.5-jit-macos-arm64",
        "python": "3.13.5",
        "series": "3.13",
        "variant": "jit",
        "platform": "macos-arm64",
        "profile": "release",
        "runner": "macos-15",
        "builder": "native",
        "llvm": "18",
    }
    default = model.cell(python="3.14", variant="default", platform="macos-arm64")
    assert ci.job(default)["llvm"] == ""
    tailcall = model.cell(python="3.14", variant="tailcall", platform="macos-arm64")
    assert ci.job(tailcall)["llvm"] == "19"


def test_default_matrix_fits_in_one_github_matrix(model: Matrix) -> None:
    cells = model.expand(Selection()).cells
    matrix = ci.github_matrix(cells)
    assert len(matrix["include"]) == len(cells) <= ci.GITHUB_MAX_JOBS


def test_full_product_passes_256_and_is_never_emitted_whole(
    every_profile: tuple[Cell, ...],
) -> None:
    assert len(every_profile) > ci.GITHUB_MAX_JOBS
    with pytest.raises(UsageError, match="exceed GitHub's 256-job limit") as caught:
        ci.github_matrix(every_profile)
    assert "--shard 1/2" in caught.value.render()


def test_shards_cover_every_cell_once(every_profile: tuple[Cell, ...]) -> None:
    parts = [ci.github_matrix(every_profile, ci.Shard(i, 2))["include"] for i in (1, 2)]
    assert all(len(part) <= ci.GITHUB_MAX_JOBS for part in parts)
    ids = [job["cell"] for part in parts for job in part]
    assert sorted(ids) == sorted(c.id for c in every_profile)


def test_too_few_shards_is_refused(model: Matrix, every_profile: tuple[Cell, ...]) -> None:
    with pytest.raises(UsageError, match="need at least 2 shards"):
        ci.github_matrix(every_profile, ci.Shard(1, 1))


def test_all_shards_at_once(every_profile: tuple[Cell, ...]) -> None:
    shards = ci.github_shards(every_profile)
    assert shards["count"] == 2
    assert sum(len(s["include"]) for s in shards["shards"]) == len(every_profile)


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b"])
def test_bad_shard_spec(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        ci.Shard.parse(text)
