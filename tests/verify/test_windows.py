"""Windows cells, verified on Linux as far as Linux can: the interpreter's place in a PCbuild
install, and the checks on what a Windows interpreter exposes (from CPython's sources:
``Modules/_sysconfig.c``, ``PC/pyconfig.h.in``, and the run-time APIs, which are the same C
code on every platform)."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from cpmatrix import verify
from cpmatrix.builders import windows
from cpmatrix.features import Profile, Version
from cpmatrix.matrix import Cell, layout, matrixfile
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.verify import evaluate, probe
from cpmatrix.verify.jitchecks import MACHINE_CODE_EVIDENCE
from cpmatrix.verify.observe import Observation
from cpmatrix.verify.report import Expectation

from .test_checks import DEBIAN, load

PCBUILD_OUTPUT = (
    "python.exe",
    "pythonw.exe",
    "python3.dll",
    "python314.dll",
    "vcruntime140.dll",
    "vcruntime140_1.dll",
    "_ssl.pyd",
    "_sqlite3.pyd",
    "libcrypto-3.dll",
    "sqlite3.dll",
    "python314.lib",
    "python3.lib",
    "pyconfig.h",
)
"""What ``PCbuild\\amd64`` holds after ``build.bat -p x64`` (names as PCbuild spells them)."""


def windows_cell(variant: str, python: str = "3.14", profile: Profile = "release") -> Cell:
    return matrixfile.load().cell(
        python=python, variant=variant, platform="windows-x64", profile=profile
    )


def test_the_interpreter_in_a_windows_install_is_at_its_root() -> None:
    cell = windows_cell("freethreaded")
    found = layout.interpreter_in_tree(cell.version, cell.features, cell.profile, "windows")
    assert found == PurePosixPath("python3.14t.exe")
    plain = windows_cell("jit-off")
    assert layout.interpreter_in_tree(
        plain.version, plain.features, plain.profile, "windows"
    ) == PurePosixPath("python.exe")
    assert layout.interpreter_in_tree(
        Version(3, 13, 5), frozenset(), "release", "linux"
    ) == PurePosixPath("bin/python3.13")


def pcbuild_install(cell: Cell, root: Path) -> CellPaths:
    """An install tree laid out by the Windows builder's own plan from PCbuild's output."""
    paths = CellPaths.of(cell.id, root)
    for placement in windows.layout_plan(cell, PCBUILD_OUTPUT):
        target = paths.install / Path(*placement.target.parts)
        if placement.tree:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"MZ\x90\x00")  # a PE header: not runnable on Linux
    record = {"buildbat": list(windows.buildbat_command(cell))}
    paths.record.write_text(__import__("json").dumps(record))
    return paths


def test_verifying_a_pcbuild_install_finds_python_exe_and_reports_instead_of_a_traceback(
    tmp_path: Path,
) -> None:
    cell = windows_cell("jit-off")
    paths = pcbuild_install(cell, tmp_path)
    report = verify.verify_cell(cell, paths, tiers=())
    assert str(paths.install / "python.exe") in report.target
    assert paths.verify_report.is_file()
    (probe_check,) = report.failed
    assert probe_check.name == "probe" and "python.exe" in probe_check.detail


def as_windows(name: str, cell: Cell) -> Observation:
    """A real interpreter's run-time answers with what Windows sysconfig, pyconfig.h and the
    binaries expose instead of the Linux build strings; the build record from the builder."""
    data: dict[str, Any] = copy.deepcopy(load(name).to_json())
    facts = data["facts"]
    facts["platform"] = "win-amd64"
    facts["abiflags"] = data["facts"]["abiflags"]  # sys.abiflags exists on Windows from 3.14
    kept = ("Py_GIL_DISABLED", "Py_DEBUG")
    facts["config_vars"] = {k: facts["config_vars"].get(k, probe.ABSENT) for k in kept}
    facts["config_vars"]["EXT_SUFFIX"] = ".cp314-win_amd64.pyd"
    facts["config_args"] = ""
    facts["defines"] = {}
    facts["pyconfig_h"] = {"path": "include/pyconfig.h", "values": {}}
    facts["binary"] = {"files": {"python.exe": "unreadable"}, "tail_call_functions": None}
    facts["recorded"] = {"buildbat": list(windows.buildbat_command(cell))}
    for state in [facts["runtime"], *data["toggled"].values()]:
        state[MACHINE_CODE_EVIDENCE] = {"before": probe.ABSENT, "after": probe.ABSENT}
    return Observation.from_json(data)


def claim(variant: str) -> Expectation:
    return Expectation(
        features=matrixfile.load().variant(variant).features, python=Version(3, 14), os="windows"
    )


@pytest.mark.parametrize(
    ("claimed", "failing"),
    [
        ("jit-off", set()),
        (
            "default",
            {
                "jit-off: build.bat --experimental-jit-off (build record)",
                "jit: sys._jit.is_available()",
                "jit: PYTHON_JIT=1",
            },
        ),
        (
            "jit-off+tailcall",
            {"tailcall: build.bat --tail-call-interp (build record)"},
        ),
        (
            "jit",
            {
                "jit: build.bat --experimental-jit (build record)",
                "jit-off: build.bat --experimental-jit-off (build record)",
                "jit: without PYTHON_JIT",
            },
        ),
    ],
)
def test_a_windows_jit_off_build_passes_as_itself_and_fails_other_claims_by_name(
    claimed: str, failing: set[str]
) -> None:
    observation = as_windows(DEBIAN[0], windows_cell("jit-off"))
    checks = evaluate(observation, claim(claimed))
    found = {c.name for c in checks if c.status == "fail"}
    assert found == failing
    skipped = {c.name for c in checks if c.status == "skip"}
    assert "remote-debug: sysconfig Py_REMOTE_DEBUG" in skipped
    assert "jit: build defines and CONFIG_ARGS" in skipped


def test_without_a_build_record_a_windows_claim_has_no_build_string_to_stand_on() -> None:
    observation = as_windows(DEBIAN[0], windows_cell("jit-off"))
    observation.facts["recorded"] = {}
    names = {c.name for c in evaluate(observation, claim("jit-off")) if c.status == "fail"}
    assert "jit-off: build.bat --experimental-jit-off (build record)" in names


@pytest.mark.parametrize("profile", ["release", "optimized"])
def test_a_windows_build_proves_its_profile_by_the_recorded_pgo_switch(profile: Profile) -> None:
    cell = windows_cell("jit-off", profile=profile)
    observation = as_windows(DEBIAN[0], cell)
    name = "profile: build.bat --pgo (build record)"
    for claimed in ("release", "optimized"):
        expect = replace(claim("jit-off"), profile=claimed)
        (check,) = [c for c in evaluate(observation, expect) if c.name == name]
        assert check.status == ("pass" if claimed == profile else "fail")
