"""One toolchain table (cpmatrix/features/toolchains.py): every consumer asks it the same."""

from __future__ import annotations

import pytest

from cpmatrix import features as fx
from cpmatrix.builders import base, posix
from cpmatrix.features import SPECS, Feature, Version, toolchains
from cpmatrix.features.toolchains import Package
from cpmatrix.matrix import Matrix, ci, matrixfile

V314, V315 = Version(3, 14, 5), Version(3, 15, 0)
F = Feature


@pytest.fixture(scope="module")
def model() -> Matrix:
    return matrixfile.load()


def test_every_series_with_a_tailcall_interpreter_has_a_clang_that_builds_it() -> None:
    since = SPECS[F.TAILCALL].since
    for (major, minor), row in toolchains.SERIES.items():
        if Version(major, minor).at_least(since.major, since.minor):
            assert row.llvm >= toolchains.TAILCALL_MIN_CLANG
            assert row.windows_tailcall is not None
        else:
            assert row.windows_tailcall is None


def test_macos_tailcall_cells_ask_ci_and_the_builder_for_the_same_llvm(model: Matrix) -> None:
    cells = [
        cell
        for cell in model.expand(model.selection(platform="macos-arm64,macos-x86_64")).cells
        if F.TAILCALL in cell.features
    ]
    assert {str(cell.version.series) for cell in cells} == {"3.14", "3.15"}
    for cell in cells:
        major = posix.llvm_major_needed(cell)
        assert major == toolchains.llvm_major_for(cell.version)
        assert ci.job(cell)["llvm"] == str(major)
        assert posix.brew_prefix_command(major)[-1] == base.toolchain(cell).brew_formula


def test_315_tailcall_alone_builds_with_llvm_21_like_its_jit() -> None:
    chain = fx.toolchain(V315, frozenset({F.TAILCALL}), "linux")
    assert chain.cc == "clang-21"
    assert chain.packages == (Package("apt", "clang-21"),)
    jit = fx.toolchain(V315, frozenset({F.JIT}), "linux")
    assert jit.packages == (Package("apt", "clang-21"), Package("apt", "llvm-21"))


def test_windows_needs_llvm_for_the_jit_only_and_a_toolset_for_tailcall() -> None:
    tailcall = fx.toolchain(V314, frozenset({F.TAILCALL}), "windows")
    assert tailcall.llvm_major is None
    assert tailcall.packages == (Package("visual-studio", "ClangCL"),)
    jit = fx.toolchain(V315, frozenset({F.JIT}), "windows")
    assert jit.packages == (Package("choco", "llvm@21"), Package("visual-studio", "v143"))
    assert toolchains.install_hint(jit.packages[:1]) == "choco install llvm --version 21.1.0"


def test_the_matrix_files_llvm_keys_are_the_tables(model: Matrix) -> None:
    for release in model.pythons.values():
        assert release.llvm == toolchains.llvm_major_for(release.series)


def test_windows_arch_and_names_come_from_features() -> None:
    assert fx.windows_arch("ARM64") == "ARM64" and fx.windows_arch("amd64") == "x64"
    assert fx.windows_arch("riscv64") is None
    assert fx.windows_name_suffix(frozenset({F.FREETHREADED}), "debug") == "t_d"
