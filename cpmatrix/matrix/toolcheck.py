"""``invoke matrix --check-toolchains``: every cell's toolchain against what its runner gets.

On paper, for every platform: what a cell needs comes from ``features.toolchains.toolchain``
(the one table); what it gets is read from the builder image's Dockerfile (Docker cells) and
from the install steps of the workflow that builds cells, evaluated for that cell's matrix
job. A matrix that cannot build fails here in seconds instead of on a runner an hour later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpmatrix import features as fx
from cpmatrix.features import toolchains
from cpmatrix.features.toolchains import MSVC, Package
from cpmatrix.matrix import Cell, ci, layout
from cpmatrix.matrix.provisions import RUNNER_OS, dockerfile_packages, job_installs, load_workflow
from cpmatrix.util import console
from cpmatrix.util.errors import ConfigError, EnvironmentProblem

RUNNER_IMAGE_PROVIDES: dict[str, frozenset[Package]] = {
    "Windows": frozenset(Package("visual-studio", name) for name in (MSVC.name, "ClangCL", "v145")),
}
"""Taken on trust, not read from a file: the Visual Studio of GitHub's Windows images (MSVC,
its C++ Clang tools for ClangCL, and VS 2026's v145 toolset)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Provisioning:
    """Where the check reads what is installed."""

    dockerfile: Path = layout.PROJECT_ROOT / "docker" / "Dockerfile"
    workflow: Path = layout.PROJECT_ROOT / ".github" / "workflows" / "build-cells.yml"
    job: str = "cell"

    def steps(self) -> list[dict[str, Any]]:
        jobs = load_workflow(self.workflow).get("jobs") or {}
        job = jobs.get(self.job) if isinstance(jobs, dict) else None
        if not isinstance(job, dict) or not isinstance(job.get("steps"), list):
            raise ConfigError(f"{self.workflow} has no job {self.job!r} with steps")
        return list(job["steps"])


@dataclass(frozen=True, slots=True, kw_only=True)
class CellCheck:
    cell: Cell
    needs: tuple[Package, ...]
    missing: tuple[Package, ...]
    read_from: str

    @property
    def ok(self) -> bool:
        return not self.missing


def check(cells: Sequence[Cell], where: Provisioning | None = None) -> list[CellCheck]:
    where = where or Provisioning()
    steps = where.steps()
    image = dockerfile_packages(where.dockerfile)
    results = []
    for cell in cells:
        runner_os = RUNNER_OS[cell.platform.os]
        values = {"runner.os": runner_os, **{f"matrix.{k}": v for k, v in ci.job(cell).items()}}
        got = job_installs(steps, values, where.workflow.name)
        got |= RUNNER_IMAGE_PROVIDES.get(runner_os, frozenset())
        read_from = where.workflow.name
        if cell.platform.builder == "docker":
            got |= image
            read_from += f" + {where.dockerfile.parent.name}/{where.dockerfile.name}"
        chain = fx.toolchain(cell.version, cell.features, cell.platform.os)
        needs = chain.packages
        if cell.platform.builder == "docker" and cell.profile == "optimized":
            needs = (*needs, *toolchains.pgo_packages(chain.cc or toolchains.SYSROOT_CC))
        missing = tuple(p for p in needs if p not in got)
        results.append(CellCheck(cell=cell, needs=needs, missing=missing, read_from=read_from))
    return results


HEADERS = ("cell", "needs", "result")


def table(results: Sequence[CellCheck]) -> str:
    rows = [
        [
            r.cell.id,
            ", ".join(str(p) for p in r.needs) or "-",
            "ok" if r.ok else "MISSING " + ", ".join(str(p) for p in r.missing),
        ]
        for r in results
    ]
    return console.table(HEADERS, rows)


def require_all(results: Sequence[CellCheck]) -> None:
    """Raise naming every cell whose runner lacks something, and what."""
    bad = [r for r in results if not r.ok]
    if not bad:
        return
    lines = "\n".join(
        f"  {r.cell.id}: {', '.join(str(p) for p in r.missing)} (not in {r.read_from})" for r in bad
    )
    raise EnvironmentProblem(
        f"{len(bad)} of {len(results)} cells need what their runner does not install:\n{lines}",
        hint="install it in the workflow's steps or docker/Dockerfile, or exclude the cells "
        "in matrix.yaml; what each cell needs comes from cpmatrix/features/toolchains.py",
    )
