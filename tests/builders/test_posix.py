"""The native builder's toolchain lookup (Homebrew llvm@N on macOS) and host runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpmatrix.builders import base, posix
from cpmatrix.matrix import Matrix
from cpmatrix.matrix.matrixfile import load


@pytest.fixture(scope="module")
def model() -> Matrix:
    return load()


def test_brew_lookup_command() -> None:
    assert posix.brew_prefix_command(18) == ("brew", "--prefix", "llvm@18")


@pytest.mark.parametrize(
    ("python", "variant", "major"),
    [("3.13", "jit", 18), ("3.14", "jit", 19), ("3.14", "tailcall", 19), ("3.13", "default", None)],
)
def test_llvm_major_for_macos_cells(model: Matrix, python: str, variant: str, major: int) -> None:
    cell = model.cell(python=python, variant=variant, platform="macos-arm64")
    assert posix.llvm_major_needed(cell) == major


def test_keg_bin_goes_first_on_path_only_when_its_clang_compiles() -> None:
    """A JIT cell compiles with Apple clang: the keg's llvm-profdata on PATH would be taken for
    Apple clang's profiles and fail the PGO merge (raw profile versions must match)."""
    keg = "/opt/homebrew/opt/llvm@19"
    env = posix.macos_environment(keg, "/usr/bin:/bin", keg_compiles=True)
    assert env == {"PATH": "/opt/homebrew/opt/llvm@19/bin:/usr/bin:/bin"}
    assert posix.macos_environment(keg, "/usr/bin", keg_compiles=False) == {}
    assert posix.macos_environment(None, "/usr/bin", keg_compiles=True) == {}


@pytest.mark.parametrize(("variant", "keg_compiles"), [("jit", False), ("tailcall", True)])
def test_only_the_tail_call_cells_compile_with_the_kegs_clang(
    model: Matrix, variant: str, keg_compiles: bool
) -> None:
    cell = model.cell(python="3.14", variant=variant, platform="macos-arm64", profile="optimized")
    assert (base.toolchain(cell).cc is not None) is keg_compiles


def test_keg_tools_are_checked_by_full_path() -> None:
    tools = posix.macos_llvm_tools(19, "/opt/homebrew/opt/llvm@19")
    assert [t.command for t in tools] == [
        "/opt/homebrew/opt/llvm@19/bin/clang",
        "/opt/homebrew/opt/llvm@19/bin/llvm-readobj",
        "/opt/homebrew/opt/llvm@19/bin/llvm-objdump",
    ]
    assert {t.install_hint for t in tools} == {"brew install llvm@19"}


def test_host_runner_streams_lines_and_returns_the_exit_code(tmp_path: Path) -> None:
    runner = posix.HostRunner(source_dir="/s", work_dir=str(tmp_path), destdir="/d")
    seen: list[str] = []
    code = runner.run(
        ["sh", "-c", "echo $WHO; pwd; echo oops >&2; exit 4"],
        env={"WHO": "me"},
        on_line=seen.append,
    )
    assert code == 4
    assert seen == ["me", str(tmp_path), "oops"]
