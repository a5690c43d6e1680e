"""PCbuild\\build.bat command lines and the output → install tree mapping (run on Windows only)."""

from __future__ import annotations

from pathlib import PureWindowsPath

import pytest

from cpmatrix.builders import windows
from cpmatrix.matrix import Matrix
from cpmatrix.matrix.matrixfile import load


@pytest.fixture(scope="module")
def model() -> Matrix:
    return load()


def command(model: Matrix, python: str, variant: str, platform: str, profile: str) -> list[str]:
    cell = model.cell(python=python, variant=variant, platform=platform, profile=profile)
    return list(windows.buildbat_command(cell))


BAT = ["cmd", "/c", "PCbuild\\build.bat", "-e"]


@pytest.mark.parametrize(
    ("python", "variant", "platform", "profile", "expected"),
    [
        ("3.13", "default", "windows-x64", "release", ["-p", "x64", "-c", "Release"]),
        ("3.13", "default", "windows-arm64", "debug", ["-p", "ARM64", "-c", "Debug"]),
        ("3.14", "default", "windows-x64", "optimized", ["-p", "x64", "-c", "Release", "--pgo"]),
        (
            "3.13",
            "freethreaded",
            "windows-arm64",
            "release",
            ["-p", "ARM64", "-c", "Release", "--disable-gil"],
        ),
        (
            "3.13",
            "jit",
            "windows-x64",
            "release",
            ["-p", "x64", "-c", "Release", "--experimental-jit"],
        ),
        (
            "3.14",
            "tailcall",
            "windows-x64",
            "release",
            ["-p", "x64", "-c", "Release", "--tail-call-interp", "/p:PlatformToolset=ClangCL"],
        ),
        (
            "3.15",
            "tailcall",
            "windows-arm64",
            "optimized",
            ["-p", "ARM64", "-c", "Release", "--pgo", "--tail-call-interp"],
        ),
        (
            "3.14",
            "noremotedebug",
            "windows-x64",
            "debug",
            ["-p", "x64", "-c", "Debug", "--without-remote-debug"],
        ),
    ],
)
def test_buildbat_command_lines(
    model: Matrix, python: str, variant: str, platform: str, profile: str, expected: list[str]
) -> None:
    assert command(model, python, variant, platform, profile) == BAT + expected


def test_output_directories(model: Matrix) -> None:
    x64 = model.cell(python="3.13", variant="default", platform="windows-x64")
    arm = model.cell(python="3.13", variant="default", platform="windows-arm64")
    assert windows.output_dir(x64) == PureWindowsPath("PCbuild/amd64")
    assert windows.output_dir(arm) == PureWindowsPath("PCbuild/arm64")


def test_freethreaded_names(model: Matrix) -> None:
    ft = model.cell(python="3.14", variant="freethreaded", platform="windows-x64")
    ft_debug = model.cell(
        python="3.14", variant="freethreaded", platform="windows-x64", profile="debug"
    )
    plain = model.cell(python="3.14", variant="default", platform="windows-x64")
    assert windows.expected_executable(ft) == "python3.14t.exe"
    assert windows.expected_dll(ft) == "python314t.dll"
    assert windows.expected_executable(ft_debug) == "python3.14t_d.exe"
    assert windows.expected_executable(plain) == "python.exe"
    assert windows.expected_dll(plain) == "python314.dll"


def test_layout_maps_output_onto_an_install_tree(model: Matrix) -> None:
    cell = model.cell(python="3.14", variant="freethreaded", platform="windows-x64")
    files = [
        "python3.14t.exe",
        "pythonw3.14t.exe",
        "python314t.dll",
        "python3t.dll",
        "vcruntime140.dll",
        "_ssl.pyd",
        "libcrypto-3.dll",
        "sqlite3.dll",
        "python314t.lib",
        "python314t.pdb",
    ]
    plan = {str(p.source): (str(p.target), p.tree) for p in windows.layout_plan(cell, files)}
    out = "PCbuild\\amd64\\"
    assert plan == {
        out + "python3.14t.exe": ("python3.14t.exe", False),
        out + "pythonw3.14t.exe": ("pythonw3.14t.exe", False),
        out + "python314t.dll": ("python314t.dll", False),
        out + "python3t.dll": ("python3t.dll", False),
        out + "vcruntime140.dll": ("vcruntime140.dll", False),
        out + "_ssl.pyd": ("DLLs\\_ssl.pyd", False),
        out + "libcrypto-3.dll": ("DLLs\\libcrypto-3.dll", False),
        out + "sqlite3.dll": ("DLLs\\sqlite3.dll", False),
        out + "python314t.lib": ("libs\\python314t.lib", False),
        "Lib": ("Lib", True),
        "Include": ("include", True),
        "PC\\pyconfig.h": ("include\\pyconfig.h", False),
    }


def test_generated_pyconfig_is_taken_from_the_output_dir(model: Matrix) -> None:
    cell = model.cell(python="3.14", variant="default", platform="windows-arm64")
    plan = windows.layout_plan(cell, ["python.exe", "pyconfig.h"])
    pyconfig = [p for p in plan if str(p.target) == "include\\pyconfig.h"]
    assert [str(p.source) for p in pyconfig] == ["PCbuild\\arm64\\pyconfig.h"]
