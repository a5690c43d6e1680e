"""Cross builds: a Linux cell of another architecture, compiled on this machine.

:func:`plan` says before any work whether a cell builds natively, cross or not at all
(features.arch). A cross cell builds in the cross builder image (``docker/Dockerfile.cross`` on
the builder image: the target's bullseye sysroot and Debian's cross binutils) with clang
``--target``, configure ``--build/--host`` and ``--with-build-python``: the install tree of the
native build of the same release (:func:`build_python_cell`), which the pipeline builds first and
which is mounted read-only into the build container.
"""

from __future__ import annotations

import dataclasses
import platform as host
from collections.abc import Sequence
from pathlib import Path

from cpmatrix.builders import portable, steps
from cpmatrix.builders.base import Builder, BuildRequest, BuildResult
from cpmatrix.builders.docker import (
    ContainerRunner,
    DockerBuilder,
    container_spec,
    hand_over,
    take_back,
)
from cpmatrix.engine.containers import Container, Mount
from cpmatrix.engine.image import ImageRef, cross_image
from cpmatrix.features import arch as fa
from cpmatrix.matrix import Cell, Variant, layout
from cpmatrix.util.errors import BuildFailed, UsageError

BUILD_PYTHON_MOUNT = "/build-python"


def host_machine() -> str:
    return host.machine()


def plan(cell: Cell, machine: str | None = None) -> fa.BuildPlan:
    """How this machine builds a cell: Linux cells by their architecture; others natively
    (macOS and Windows cells have builders of their own that refuse what they cannot do)."""
    if cell.platform.os != "linux":
        return fa.BuildPlan(host=None, target=None, how="native")
    return fa.build_plan(cell.platform.arch, machine or host_machine())


def refuse_unbuildable(cells: list[Cell], machine: str | None = None) -> None:
    """Before any work: every Linux cell builds natively or cross here, else UsageError."""
    refused = [(cell, plan(cell, machine)) for cell in cells]
    reasons = [f"{cell.id}: {p.reason}" for cell, p in refused if p.refused]
    if reasons:
        raise UsageError(
            "cannot build here:\n" + "\n".join(f"  - {r}" for r in reasons),
            hint="leave those platforms out (--platform), or build them on their own runner",
        )
    for cell, p in refused:
        if p.how == "cross" and cell.profile == "optimized":
            raise UsageError(
                f"{cell.id}: a cross build cannot run its PGO profile task on this machine",
                hint="cross-build the release profile, or build optimized on a native runner",
            )


def build_python_cell(cell: Cell, machine: str | None = None) -> Cell:
    """The native default release build of the cell's CPython: its configure
    ``--with-build-python`` (same version, as configure requires)."""
    native = fa.arch_named(machine or host_machine())
    assert native is not None, "plan() refuses unknown hosts first"
    platform = dataclasses.replace(cell.platform, name=f"linux-{native.name}", arch=native.name)
    return dataclasses.replace(
        cell, variant=Variant(frozenset()), platform=platform, profile="release"
    )


def cross_sysroot(target: fa.Arch, build: fa.Arch, build_python: str) -> portable.Sysroot:
    """The Sysroot a cross cell builds against (pure: what the container sees)."""
    return portable.Sysroot(
        path=fa.sysroot_dir(target),
        cross=portable.Cross(
            build=build.configure_host,
            host=target.configure_host,
            build_python=build_python,
            configure_cache=fa.CROSS_CONFIGURE_CACHE,
        ),
    )


def build_python_in(install: Path, cell: Cell) -> str:
    """The build python's path in the container (its tree mounted at BUILD_PYTHON_MOUNT)."""
    name = layout.interpreter_in_tree(cell.version, cell.features, cell.profile, cell.platform.os)
    assert install.is_dir()
    return f"{BUILD_PYTHON_MOUNT}/{name}"


class CrossDockerBuilder(DockerBuilder):
    """Builds a cell of another architecture in the cross builder image."""

    def __init__(self, target: fa.Arch) -> None:
        super().__init__()
        self.target = target

    def identity(self) -> dict[str, object]:
        return {"builder": "docker-cross", "image": self.image().id, "target": self.target.name}

    def image(self) -> ImageRef:
        if self._image is None:
            self._image = cross_image(self.target, fa.arch_named(host_machine()))
        return self._image

    def build(self, request: BuildRequest) -> BuildResult:
        native = build_python_cell(request.cell)
        install = layout.CellPaths.of(native.id, request.paths.root).install
        if not install.is_dir():
            raise BuildFailed(
                f"{request.cell.id} cross-builds with the native {native.id} as its build "
                f"python, and {install} does not exist",
                hint=f"build {native.id} first (invoke build does so for a cross cell)",
            )
        build = fa.arch_named(host_machine())
        assert build is not None
        sysroot = cross_sysroot(self.target, build, build_python_in(install, native))
        image = self.image()
        steps.start_fresh(request.paths)
        spec = container_spec(request, image.tag)
        spec = dataclasses.replace(
            spec, mounts=(*spec.mounts, Mount(install, BUILD_PYTHON_MOUNT, read_only=True))
        )
        hand_over(spec)
        try:
            with Container(spec) as box:
                where = f"the cross builder image {image.tag}"
                runner = ContainerRunner(box=box, image=image, where=where, sysroot=sysroot)
                return steps.execute(request, runner)
        finally:
            take_back(request.paths)


def rounds(cells: Sequence[Cell]) -> list[tuple[list[Cell], bool]]:
    """The order of a run as (cells, verified) rounds: everything at once without cross cells;
    else the build pythons not asked for (unverified), the native cells, then the cross cells."""
    crosses = [cell for cell in cells if plan(cell).how == "cross"]
    if not crosses:
        return [(list(cells), True)]
    natives = [cell for cell in cells if plan(cell).how != "cross"]
    asked = {cell.id for cell in natives}
    needed = {c.id: c for c in (build_python_cell(cell) for cell in crosses) if c.id not in asked}
    return [(list(needed.values()), False), (natives, True), (crosses, True)]


def cross_builders(cells: Sequence[Cell]) -> dict[str, Builder]:
    """The cross builder of each cross cell, one per target architecture."""
    by_target: dict[str, Builder] = {}
    chosen: dict[str, Builder] = {}
    for cell in cells:
        p = plan(cell)
        if p.how == "cross" and p.target is not None:
            if p.target.name not in by_target:
                by_target[p.target.name] = CrossDockerBuilder(p.target)
            chosen[cell.id] = by_target[p.target.name]
    return chosen
