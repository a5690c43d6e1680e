"""`invoke build --all --dry-run`: source, builder and toolchain per cell, before configure."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from httpserve import Route, serving

from cpmatrix import features as fx
from cpmatrix.matrix import Cell, Matrix, matrixfile
from cpmatrix.pipeline import Options, dryrun
from cpmatrix.sources.availability import Availability, availability
from cpmatrix.sources.store import SourceCache
from cpmatrix.util.errors import EnvironmentProblem, SourceError

CACHED = Availability(ok=True, how="cached")
NOWHERE = Availability(ok=False, how="www.python.org: HTTP 404 Not Found")
LLVM_18 = (
    fx.Tool("clang-18", "JIT stencils (LLVM 18)", "apt-get install clang-18 llvm-18"),
    fx.Tool("llvm-readobj-18", "JIT stencils (LLVM 18)", "apt-get install clang-18 llvm-18"),
)


@pytest.fixture(scope="module")
def model() -> Matrix:
    return matrixfile.load()


def linux_x86_64(model: Matrix) -> tuple[Cell, ...]:
    return model.expand(model.selection(platform="linux-x86_64")).cells


def test_the_missing_piece_names_the_tools_and_what_to_install() -> None:
    output = "found clang-18 /usr/bin/clang-18\nversion clang-18 Debian clang version 18.1.8\n"
    assert dryrun.missing_piece(LLVM_18, output) == (
        "llvm-readobj-18: missing or the wrong version; apt-get install clang-18 llvm-18"
    )
    output += "found llvm-readobj-18 /x\nversion llvm-readobj-18 LLVM version 18.1.8\n"
    assert dryrun.missing_piece(LLVM_18, output) == ""


def test_cells_without_a_source_are_reported_apart(model: Matrix) -> None:
    jit13 = model.cell(python="3.13", variant="jit", platform="linux-x86_64")
    jit15 = model.cell(python="3.15", variant="jit", platform="linux-x86_64")
    planned = [
        dryrun.PlannedCell(cell=jit13, toolchain_problem="", source=CACHED),
        dryrun.PlannedCell(cell=jit15, toolchain_problem="clang-21: missing", source=NOWHERE),
    ]
    text = dryrun.report(planned)
    table, _, apart = text.partition("source not reachable here")
    assert jit13.id in table and jit15.id not in table
    assert "CPython 3.15.0: www.python.org: HTTP 404 Not Found" in apart
    assert f"{jit15.id}  clang-21: missing" in apart
    with pytest.raises(EnvironmentProblem, match=jit15.id):
        dryrun.require_all(planned)
    with pytest.raises(SourceError, match=r"3\.15\.0"):
        dryrun.require_all([dataclasses.replace(planned[1], toolchain_problem="")])
    dryrun.require_all(planned[:1])


def test_a_source_is_cached_served_or_missing_with_why(model: Matrix, tmp_path: Path) -> None:
    cache = SourceCache(tmp_path / "cache")
    release = model.python("3.13")
    with serving({"/Python-3.13.5.tar.xz": Route(body=b"x")}) as served:
        at = dataclasses.replace(release, url=served.url("/Python-3.13.5.tar.xz"))
        assert availability(at, cache=cache) == Availability(ok=True, how="127.0.0.1 serves it")
        gone = dataclasses.replace(release, url=served.url("/nothing/Python-3.13.5.tar.xz"))
        missing = availability(gone, cache=cache)
        assert not missing.ok and "127.0.0.1: HTTP 404" in missing.how
        assert "Debian trixie: no source index on this machine yet" in missing.how
        slot = cache.slot(release.sha256)
        slot.mkdir(parents=True)
        (slot / release.tarball_name).write_bytes(b"x")
        assert availability(gone, cache=cache) == CACHED


@pytest.mark.docker
def test_every_linux_x86_64_cell_passes_the_toolchain_preflight_in_the_image(
    docker_engine: None, model: Matrix
) -> None:
    """Needs the builder image with LLVM 18, 19 and 21 (3.15's JIT): the lead's Dockerfile."""
    planned = dryrun.plan(linux_x86_64(model), Options())
    assert {p.cell.id: p.toolchain_problem for p in planned if p.toolchain_problem} == {}
    assert len(planned) == len(linux_x86_64(model))


@pytest.mark.docker
def test_the_dry_run_says_which_cells_would_build(
    docker_engine: None, cpython_source: object, model: Matrix
) -> None:
    cells = model.expand(model.selection(python="3.13", platform="linux-x86_64")).cells
    planned = dryrun.plan(cells, Options())
    assert [p.cell.id for p in planned if not p.would_build] == []
    assert {p.source.how for p in planned} == {"cached"}
