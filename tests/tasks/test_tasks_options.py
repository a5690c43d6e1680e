"""One option style: typed options parsed in the core, the cell selection shared by build,
package and verify, and usage mistakes as UsageError (exit 2 with a hint), never a bare Exit."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cpmatrix.matrix import Matrix, matrixfile, reports
from cpmatrix.matrix.layout import PROJECT_ROOT
from cpmatrix.matrix.selection import CellOptions
from cpmatrix.util.errors import UsageError


@pytest.fixture(scope="module")
def model() -> Matrix:
    return matrixfile.load()


def test_an_unknown_format_is_a_usage_error_with_the_closest_one() -> None:
    assert reports.parse_format("github-shards") == "github-shards"
    with pytest.raises(UsageError, match="unknown --format 'tabel'") as caught:
        reports.parse_format("tabel")
    assert caught.value.hint is not None and "did you mean 'table'?" in caught.value.hint


def test_one_cell_and_every_cell_from_the_same_options(model: Matrix) -> None:
    one = CellOptions(python="3.13", variant="jit", platform="linux-x86_64").one(model)
    assert one.id == "cpython-3.13.5-jit-linux-x86_64"
    assert CellOptions(platform="linux-x86_64").one(model).variant.name == "default"
    every = CellOptions(python="3.13", platform="linux-x86_64").every(model)
    assert all(c.platform.name == "linux-x86_64" for c in every)
    # One cell is the quick local build; every cell is what the matrix publishes (issue #25).
    assert one.profile == "release" and {c.profile for c in every} == {"optimized"}
    quick = CellOptions(python="3.13", platform="linux-x86_64", profile="release").every(model)
    assert one in quick
    with pytest.raises(UsageError, match="no cells match"):
        CellOptions(python="3.13", variant="tailcall", platform="linux-x86_64").every(model)


def test_usage_mistakes_exit_2_with_a_hint() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "clean"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "error: nothing to clean" in done.stderr
    assert "hint: choose: --sources" in done.stderr


def test_a_task_taking_cell_options_shows_invoke_the_four_options() -> None:
    import inspect

    from cpmatrix.matrix.selection import with_cell_options

    @with_cell_options
    def task(c: object, cells: CellOptions, all: bool = False) -> tuple[CellOptions, bool]:
        return cells, all

    names = list(inspect.signature(task).parameters)
    assert names == ["c", "python", "variant", "platform", "profile", "all"]
    assert task(None, python="3.14", profile="debug", all=True) == (
        CellOptions(python="3.14", profile="debug"),
        True,
    )
