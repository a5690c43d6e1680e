"""`invoke matrix --check-toolchains`: each cell's needs against what its runner installs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cpmatrix.features.toolchains import Package
from cpmatrix.matrix import Cell, matrixfile, toolcheck
from cpmatrix.matrix.layout import PROJECT_ROOT
from cpmatrix.matrix.provisions import dockerfile_packages, installed_by
from cpmatrix.matrix.toolcheck import Provisioning
from cpmatrix.util.errors import ConfigError, EnvironmentProblem

COMMITTED = Provisioning()
BACKPORTS_RUN = (
    "\nRUN apt-get update && apt-get install -y --no-install-recommends -t trixie-backports "
    "clang-21 llvm-21 && rm -rf /var/lib/apt/lists/*\n"
)


@pytest.fixture(scope="module")
def cells() -> tuple[Cell, ...]:
    model = matrixfile.load()
    return model.expand(model.selection()).cells


def edited(tmp_path: Path, original: Path, old: str, new: str) -> Path:
    text = original.read_text(encoding="utf-8")
    assert old in text, f"{original} no longer contains {old!r}"
    copy = tmp_path / original.name
    copy.write_text(text.replace(old, new), encoding="utf-8")
    return copy


def with_llvm_21(tmp_path: Path) -> Path:
    """The committed Dockerfile plus LLVM 21 from trixie-backports, as the lead adds it."""
    text = COMMITTED.dockerfile.read_text(encoding="utf-8")
    copy = tmp_path / "Dockerfile"
    copy.write_text(text + BACKPORTS_RUN, encoding="utf-8")
    return copy


def missing_by_cell(results: list[toolcheck.CellCheck]) -> dict[str, set[str]]:
    return {r.cell.id: {str(p) for p in r.missing} for r in results if r.missing}


def test_the_committed_matrix_gets_every_toolchain_it_needs(cells: tuple[Cell, ...]) -> None:
    """Fails until docker/Dockerfile installs clang-21 and llvm-21 (CPython 3.15's LLVM)."""
    toolcheck.require_all(toolcheck.check(cells, COMMITTED))


def test_the_workflows_and_an_image_with_llvm_21_build_every_cell(
    cells: tuple[Cell, ...], tmp_path: Path
) -> None:
    where = Provisioning(dockerfile=with_llvm_21(tmp_path), workflow=COMMITTED.workflow)
    results = toolcheck.check(cells, where)
    assert missing_by_cell(results) == {}
    assert len(results) == len(cells)


def test_a_package_removed_from_the_image_fails_naming_the_cells(
    cells: tuple[Cell, ...], tmp_path: Path
) -> None:
    image = edited(tmp_path, with_llvm_21(tmp_path), "clang-19 llvm-19", "")
    results = toolcheck.check(cells, Provisioning(dockerfile=image, workflow=COMMITTED.workflow))
    missing = missing_by_cell(results)
    assert missing["cpython-3.14.5-jit-linux-x86_64-optimized"] == {"apt clang-19", "apt llvm-19"}
    assert missing["cpython-3.14.5-tailcall-linux-aarch64-optimized"] == {"apt clang-19"}
    assert all(".14." in cell for cell in missing)
    named = r"cpython-3\.14\.5-jit-linux-x86_64-optimized: apt clang-19"
    with pytest.raises(EnvironmentProblem, match=named):
        toolcheck.require_all(results)


def test_a_package_removed_from_the_workflow_fails_naming_the_cells(
    cells: tuple[Cell, ...], tmp_path: Path
) -> None:
    workflow = edited(
        tmp_path, COMMITTED.workflow, 'brew install "llvm@$LLVM_MAJOR"', "brew install ninja"
    )
    where = Provisioning(dockerfile=with_llvm_21(tmp_path), workflow=workflow)
    missing = missing_by_cell(toolcheck.check(cells, where))
    assert missing["cpython-3.14.5-tailcall-macos-arm64-optimized"] == {"brew llvm@19"}
    assert missing["cpython-3.15.0-jit-macos-x86_64-optimized"] == {"brew llvm@21"}
    assert all("-macos-" in cell for cell in missing)


def test_the_chocolatey_step_gives_windows_jit_cells_their_llvm(
    cells: tuple[Cell, ...], tmp_path: Path
) -> None:
    workflow = edited(tmp_path, COMMITTED.workflow, "runner.os == 'Windows'", "runner.os == 'x'")
    where = Provisioning(dockerfile=with_llvm_21(tmp_path), workflow=workflow)
    missing = missing_by_cell(toolcheck.check(cells, where))
    assert missing["cpython-3.13.5-jit-windows-arm64-optimized"] == {"choco llvm@18"}
    assert (
        "cpython-3.14.5-tailcall-windows-x64-optimized" not in missing
    )  # ClangCL: Visual Studio's


def test_a_condition_it_cannot_read_is_an_error(cells: tuple[Cell, ...], tmp_path: Path) -> None:
    workflow = edited(
        tmp_path, COMMITTED.workflow, "runner.os == 'macOS' && matrix.llvm != ''", "failure()"
    )
    with pytest.raises(ConfigError, match="cannot evaluate `if: failure"):
        toolcheck.check(cells, Provisioning(workflow=workflow))


def test_install_commands_are_read_like_the_shell_would() -> None:
    script = (
        "sudo apt-get install -y -t trixie-backports clang-21/trixie-backports llvm-21 \\\n"
        "  ccache && brew install llvm@19 ninja\n"
        "choco install llvm --allow-downgrade --version 18.1.0; echo apt-get install nothing\n"
    )
    assert installed_by(script) == {
        Package("apt", "clang-21"),
        Package("apt", "llvm-21"),
        Package("apt", "ccache"),
        Package("brew", "llvm@19"),
        Package("brew", "ninja"),
        Package("choco", "llvm@18"),
    }


def test_the_committed_dockerfile_is_read() -> None:
    packages = dockerfile_packages(COMMITTED.dockerfile)
    assert {Package("apt", "clang-18"), Package("apt", "llvm-19")} <= packages
    assert Package("apt", "build-essential") in packages


def test_the_task_prints_the_table_and_names_what_is_missing() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "matrix", "--check-toolchains", "--python", "3.14"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "cpython-3.14.5-jit-macos-arm64" in done.stdout
    assert "brew llvm@19" in done.stdout
    assert "every one of" in done.stderr


def test_an_optimized_docker_cell_needs_the_profile_runtime_of_its_clang(
    cells: tuple[Cell, ...], tmp_path: Path
) -> None:
    image = edited(tmp_path, COMMITTED.dockerfile, "libclang-rt-19-dev libclang-rt-21-dev", "")
    results = toolcheck.check(cells, Provisioning(dockerfile=image, workflow=COMMITTED.workflow))
    missing = missing_by_cell(results)
    assert missing["cpython-3.13.5-default-linux-x86_64-optimized"] == {"apt libclang-rt-19-dev"}
    assert missing["cpython-3.15.0-tailcall-linux-aarch64-optimized"] == {"apt libclang-rt-21-dev"}
    linux = {c.id for c in cells if c.platform.builder == "docker"}
    assert set(missing) == linux  # every published Linux cell is PGO-built
