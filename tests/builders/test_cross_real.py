"""The real cross build: CPython 3.13.5 default for linux-aarch64, compiled on this x86_64
machine in the cross builder image, then proven under qemu-user in a bare arm64 bookworm.

One build per session (``$CPMATRIX_TEST_BUILD_ROOT`` reuses it, and the native build python
beside it); skipped where qemu-aarch64 is not registered with binfmt_misc outside CI.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pytest
from conftest import in_ci

from cpmatrix.artifacts import validate
from cpmatrix.artifacts.manifest import interpreter_path
from cpmatrix.features import arch as fa
from cpmatrix.matrix import Cell
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util import elfinfo
from cpmatrix.util.errors import EnvironmentProblem
from cpmatrix.verify.report import Expectation

pytestmark = [pytest.mark.docker, pytest.mark.slow]

CONSUMER = "bookworm"


@pytest.fixture(scope="session")
def emulated_aarch64() -> str:
    from cpmatrix.verify import emulation

    if platform.machine() != "x86_64":
        pytest.skip("the cross build and its emulated proof are for x86_64 machines")
    try:
        return emulation.require("aarch64").words
    except EnvironmentProblem as problem:
        if in_ci():
            pytest.fail(problem.render())
        pytest.skip(problem.message)


@pytest.fixture(scope="session")
def cross_built(
    docker_engine: None, emulated_aarch64: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Cell, CellPaths]:
    from cpmatrix import pipeline
    from cpmatrix.matrix import matrixfile

    cell = matrixfile.load().cell(python="3.13", variant="default", platform="linux-aarch64")
    kept = os.environ.get("CPMATRIX_TEST_BUILD_ROOT")
    root = Path(kept) if kept else tmp_path_factory.mktemp("cross-root")
    outcomes = pipeline.run([cell], pipeline.Options(build_root=root, verify=False))
    done = (pipeline.Status.BUILT, pipeline.Status.UP_TO_DATE)
    assert [o.cell.id for o in outcomes] == [
        "cpython-3.13.5-default-linux-x86_64",  # the build python, first
        cell.id,
    ]
    assert all(o.status in done for o in outcomes), [o.reason for o in outcomes]
    return cell, CellPaths.of(cell.id, root)


def test_every_elf_file_of_the_cross_build_is_aarch64(cross_built: tuple[Cell, CellPaths]) -> None:
    _, paths = cross_built
    machines = {
        path.relative_to(paths.install).as_posix(): info.e_machine
        for path in paths.install.rglob("*")
        if path.is_file() and not path.is_symlink() and (info := elfinfo.read(path)) is not None
    }
    assert len(machines) > 50  # the interpreter, every extension module, bundled libraries
    assert set(machines.values()) == {fa.AARCH64.elf_machine}
    assert any("libssl.so" in name for name in machines)  # bundled from the arm64 sysroot
    assert validate.check_tree(paths.install, glibc_floor="2.31", arch="aarch64") == []


@pytest.fixture(scope="session")
def archive(cross_built: tuple[Cell, CellPaths]) -> Path:
    """The staged archive, after the gate (allow-list, glibc floor 2.31, every ELF file
    aarch64)."""
    from cpmatrix.artifacts.stage import stage

    cell, paths = cross_built
    validate.gate(cell, paths)
    return stage(cell, paths).archive.path


def test_it_is_proven_in_a_bare_arm64_bookworm_under_emulation(
    cross_built: tuple[Cell, CellPaths], archive: Path, emulated_aarch64: str
) -> None:
    from cpmatrix.artifacts import consumers

    cell, _ = cross_built
    where = consumers.consumer_images((CONSUMER,), arch=cell.platform.arch)
    assert where[0].how == emulated_aarch64 and where[0].image.endswith(f"{CONSUMER}-arm64")
    (result,) = consumers.prove(
        archive,
        top=cell.id,
        interpreter=interpreter_path(cell),
        expect=Expectation.of_cell(cell),
        consumers=where,
    )
    assert result.report.passed, [check.name for check in result.report.failed]
    assert result.record()["how"].startswith("emulated (qemu-user ")


def test_the_aarch64_default_build_labelled_freethreaded_fails_as_on_x86_64(
    cross_built: tuple[Cell, CellPaths], archive: Path
) -> None:
    from cpmatrix.artifacts import consumers
    from cpmatrix.matrix import matrixfile

    cell, _ = cross_built
    wrong = matrixfile.load().cell(python="3.13", variant="freethreaded", platform="linux-aarch64")
    (result,) = consumers.prove(
        archive,
        top=cell.id,
        interpreter=interpreter_path(cell),
        expect=Expectation.of_cell(wrong),
        consumers=consumers.consumer_images((CONSUMER,), arch=cell.platform.arch),
    )
    failed = {check.name for check in result.report.failed}
    assert not result.report.passed
    assert "freethreaded: sysconfig Py_GIL_DISABLED" in failed
    assert "freethreaded: 't' in abiflags" in failed
