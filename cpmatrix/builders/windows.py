"""The Windows builder: ``PCbuild\\build.bat`` with the cell's switches, and the mapping of its
output directory onto an install tree (``python.exe``, ``Lib/``, ``DLLs/``, ``include/``,
``libs/``), as the official installer lays it out.

Only a Windows runner can execute this; the command lines and the layout are pure functions,
unit-tested on Linux.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from cpmatrix import features as fx
from cpmatrix.builders import base, record, steps
from cpmatrix.builders.base import BuildRequest, BuildResult
from cpmatrix.matrix import BuilderKind, Cell, layout
from cpmatrix.util import console
from cpmatrix.util.errors import BuildFailed, EnvironmentProblem

OUTPUT_DIRS: dict[fx.WindowsArch, str] = {"x64": "amd64", "ARM64": "arm64"}
ROOT_DLL_PREFIXES = ("python3", "vcruntime")


def windows_arch(cell: Cell) -> fx.WindowsArch:
    arch = fx.windows_arch(cell.platform.arch)
    if arch is None:
        raise EnvironmentProblem(
            f"no PCbuild platform for {cell.platform.name} (arch {cell.platform.arch})",
            hint=f"known: {', '.join(sorted(fx.WINDOWS_ARCHES))}",
        )
    return arch


def buildbat_command(cell: Cell) -> tuple[str, ...]:
    """``PCbuild\\build.bat -e -p x64 -c Release …``; ``-e`` fetches the external libraries."""
    arguments = fx.buildbat_arguments(cell.version, cell.features, cell.profile, windows_arch(cell))
    return ("cmd", "/c", str(PureWindowsPath("PCbuild", "build.bat")), "-e", *arguments)


def output_dir(cell: Cell) -> PureWindowsPath:
    return PureWindowsPath("PCbuild", OUTPUT_DIRS[windows_arch(cell)])


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    """Copy ``source`` (relative to the source tree) to ``target`` (relative to the install)."""

    source: PureWindowsPath
    target: PureWindowsPath
    tree: bool = False


def _belongs_at_root(lower: str) -> bool:
    if lower.startswith("python") and lower.endswith(".exe"):
        return True
    return lower.endswith(".dll") and lower.startswith(ROOT_DLL_PREFIXES)


def layout_plan(cell: Cell, output_files: Iterable[str]) -> tuple[Placement, ...]:
    """Where each file of PCbuild's output directory goes in the install tree.

    Executables and the python DLLs go to the root, extension modules and other DLLs to
    ``DLLs/``, import libraries to ``libs/``; ``Lib/`` and ``include/`` come from the tree.
    """
    out = output_dir(cell)
    files = sorted(output_files)
    placements: list[Placement] = []
    for name in files:
        lower = name.lower()
        if _belongs_at_root(lower):
            where = PureWindowsPath(name)
        elif lower.endswith((".pyd", ".dll")):
            where = PureWindowsPath("DLLs", name)
        elif lower.endswith(".lib"):
            where = PureWindowsPath("libs", name)
        else:
            continue
        placements.append(Placement(source=out / name, target=where))
    pyconfig = out / "pyconfig.h" if "pyconfig.h" in files else PureWindowsPath("PC", "pyconfig.h")
    placements += [
        Placement(source=PureWindowsPath("Lib"), target=PureWindowsPath("Lib"), tree=True),
        Placement(source=PureWindowsPath("Include"), target=PureWindowsPath("include"), tree=True),
        Placement(source=pyconfig, target=PureWindowsPath("include", "pyconfig.h")),
    ]
    return tuple(placements)


def expected_executable(cell: Cell) -> str:
    return layout.windows_executable_name(cell.version, cell.features, cell.profile)


def expected_dll(cell: Cell) -> str:
    return layout.windows_dll_name(cell.version, cell.features, cell.profile)


class WindowsBuilder:
    """Runs on a Windows runner with Visual Studio (see ``features.toolchains.windows_toolset``)."""

    kind: BuilderKind = "windows"

    def check_environment(self) -> None:
        if shutil.which("cmd") is None:
            raise EnvironmentProblem(
                "the Windows builder runs only on Windows (PCbuild\\build.bat)",
                hint="build Windows cells on a Windows runner; see `invoke matrix --format github`",
            )

    def identity(self) -> dict[str, object]:
        return {"builder": "windows", "host": platform.platform()}

    def build(self, request: BuildRequest) -> BuildResult:
        cell, paths = request.cell, request.paths
        steps.start_fresh(paths)
        tree = paths.work / "src"
        shutil.copytree(request.source.path, tree)  # build.bat builds inside its tree
        command = buildbat_command(cell)
        console.progress(f"{cell.id}: compile (build.bat)")
        with paths.log.open("w", encoding="utf-8") as log:
            log.write(base.shell_line(command) + "\n")
            log.flush()
            done = subprocess.run(command, cwd=tree, stdout=log, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise base.phase_failed(cell, "compile", done.returncode, paths.log)
        staging = steps.staging_dir(paths) / "install"
        files = [p.name for p in (tree / output_dir(cell)).iterdir() if p.is_file()]
        for placement in layout_plan(cell, files):
            _place(tree, staging, placement)
        if not (staging / expected_executable(cell)).is_file():
            raise BuildFailed(f"build.bat did not produce {expected_executable(cell)}")
        written = record.BuildRecord(
            cell=cell.record(),
            result=record.OK,
            source=request.source.record(),
            where=self.identity(),
            command=record.Command(tool="buildbat", argv=tuple(command)),
            fingerprint=dict(request.fingerprint),
            notes={"toolset": fx.windows_toolset(cell.version, cell.features)},
        )
        written.write(paths.record)
        staging.replace(paths.install)
        paths.incomplete_marker.unlink()
        return BuildResult(install=paths.install, record=written.dump())


def _place(tree: Path, staging: Path, placement: Placement) -> None:
    source, target = tree / placement.source, staging / placement.target
    target.parent.mkdir(parents=True, exist_ok=True)
    if placement.tree:
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)
