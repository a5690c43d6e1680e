"""cpmatrix's command line: `invoke --list`, `invoke <task> --help`.

Each task parses its options, calls the core in ``cpmatrix/``, prints, and turns a
:class:`cpmatrix.errors.CpmatrixError` into a message and its exit code.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from invoke import Context, Exit, task

from cpmatrix import console, matrixfile, reports
from cpmatrix.ci import Shard
from cpmatrix.errors import CpmatrixError

F = TypeVar("F", bound=Callable[..., Any])


def reported(function: F) -> F:
    """Errors become `error: …` plus a hint, and the error kind's exit code."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except CpmatrixError as error:
            console.error(error.render())
            raise Exit(code=error.exit_code) from None
        except KeyboardInterrupt:
            console.error("interrupted")
            raise Exit(code=130) from None

    return wrapper  # type: ignore[return-value]


FILTER_HELP = {
    "python": "CPython minor or release, comma-separated (3.13,3.14)",
    "variant": "variant names or +-joined features, comma-separated (jit,freethreaded+tailcall)",
    "platform": "platform names, comma-separated (linux-x86_64)",
    "profile": "release, optimized or debug, comma-separated",
    "matrix": "path to the matrix file (default: matrix.yaml, or $CPMATRIX_MATRIX)",
}


@task(
    help={
        **FILTER_HELP,
        "format": "table (default), json, github (strategy.matrix object) or github-shards",
        "shard": "with --format github: emit shard N of M (N/M) of a selection over 256 jobs",
    }
)
@reported
def matrix(
    c: Context,
    format: str = "table",
    python: str = "",
    variant: str = "",
    platform: str = "",
    profile: str = "",
    shard: str = "",
    matrix: str = "",
) -> None:
    """Show the resolved build cells of matrix.yaml (and those skipped, with why)."""
    model = matrixfile.load(matrix or None)
    selection = model.selection(python=python, variant=variant, platform=platform, profile=profile)
    resolution = model.expand(selection)
    match format:
        case "table":
            print(reports.matrix_table(resolution))
        case "json":
            print(reports.matrix_json(resolution))
        case "github":
            print(reports.github_json(resolution, Shard.parse(shard) if shard else None))
        case "github-shards":
            print(reports.github_shards_json(resolution))
        case _:
            raise Exit(
                f"error: unknown --format {format!r}; valid: table, json, github, github-shards",
                code=2,
            )
    sys.stdout.flush()
