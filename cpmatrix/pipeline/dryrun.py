"""``invoke build --dry-run``: everything up to configure, for every selected cell, in seconds.

Per cell: its builder can run here, its source is cached or reachable, and the toolchain
preflight passes where the build would run (one container of the builder image checks the
tools of every cell at once). Cells whose source cannot be had here are reported apart, with
their toolchain checked all the same.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cpmatrix import builders
from cpmatrix import features as fx
from cpmatrix.builders import base, portable
from cpmatrix.matrix import BuilderKind, Cell
from cpmatrix.pipeline import Options, builder_kind
from cpmatrix.sources.availability import Availability, availability
from cpmatrix.util import console
from cpmatrix.util.errors import EnvironmentProblem, SourceError


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedCell:
    cell: Cell
    toolchain_problem: str
    """Empty when the builder runs here and every tool the cell needs is found."""
    source: Availability
    how: str = ""
    """How it would build when not natively: ``cross-built (clang --target=…)``."""

    @property
    def would_build(self) -> bool:
        return not self.toolchain_problem and self.source.ok


def _run_script(kind: BuilderKind, script: str) -> str:
    """Run a preflight script where ``kind`` builds; its output."""
    match kind:
        case "docker":
            from cpmatrix.builders import docker
            from cpmatrix.engine.containers import Container, ContainerSpec

            image = docker.DockerBuilder().image()
            spec = ContainerSpec(
                image=image.tag,
                network=False,
                user=docker.invoking_user(),
                environment={"PATH": docker.PATH, "HOME": docker.HOME},
                name_hint="cpmatrix-dryrun",
            )
            with Container(spec) as box:
                return box.run(["sh", "-c", script]).output
        case "native":
            done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=False)
            return done.stdout
        case "windows":
            return ""  # PCbuild\build.bat finds its own toolset
        case _:
            raise AssertionError(kind)


def _tools(cell: Cell, kind: BuilderKind) -> tuple[fx.Tool, ...]:
    """The tools the build's preflight checks: in Docker the sysroot's compiler too (as
    steps.execute adds it); on macOS the LLVM keg's, found with brew."""
    if cell.platform.os == "windows":
        return ()
    tools = base.required_tools(cell)
    if kind == "docker":
        sysroot = portable.Sysroot()
        tools += (fx.Tool(sysroot.compiler, f"compiles against the sysroot {sysroot.path}", ""),)
    major = base.toolchain(cell).llvm_major
    if cell.platform.os == "macos" and major is not None:
        from cpmatrix.builders import posix

        tools += posix.macos_llvm_tools(major, posix.brew_prefix(major))
    return tools


def missing_piece(tools: Sequence[fx.Tool], output: str) -> str:
    """``clang-21, llvm-readobj-21 missing or not LLVM 21; install: apt-get install …``."""
    problems = base.preflight_problems(tools, output)
    if not problems:
        return ""
    bad = [t for t in tools if any(p.startswith(f"{t.command} ") for p in problems)]
    hints = list(dict.fromkeys(t.install_hint for t in bad if t.install_hint))
    names = ", ".join(t.command for t in bad)
    return f"{names}: missing or the wrong version" + (f"; {'; '.join(hints)}" if hints else "")


def plan(cells: Sequence[Cell], options: Options) -> list[PlannedCell]:
    kinds = {cell.id: builder_kind(cell, options) for cell in cells}
    unusable: dict[BuilderKind, str] = {}
    for kind in dict.fromkeys(kinds.values()):
        try:
            builders.builder_for(kind).check_environment()
        except EnvironmentProblem as problem:
            unusable[kind] = problem.message.splitlines()[0]
    releases = {str(cell.python.release): cell.python for cell in cells}
    with ThreadPoolExecutor(max_workers=max(1, len(releases))) as pool:
        found = {
            key: pool.submit(availability, python, source=options.source)
            for key, python in releases.items()
        }
        sources = {key: future.result() for key, future in found.items()}
    problems: dict[str, str] = {}
    tools: dict[str, tuple[fx.Tool, ...]] = {}
    hows = _cross_plans(cells, problems)
    for cell in cells:
        try:
            tools[cell.id] = _tools(cell, kinds[cell.id])
        except EnvironmentProblem as problem:
            problems[cell.id] = problem.message.splitlines()[0]
    outputs: dict[BuilderKind, str] = {}
    for kind in dict.fromkeys(kinds.values()):
        if kind in unusable:
            continue
        wanted = {t.command: t for c in cells if kinds[c.id] == kind for t in tools.get(c.id, ())}
        console.progress(f"dry run: checking {len(wanted)} tools where {kind} builds")
        outputs[kind] = _run_script(kind, base.preflight_script(list(wanted.values())))
    return [
        PlannedCell(
            cell=cell,
            toolchain_problem=unusable.get(kinds[cell.id])
            or problems.get(cell.id)
            or missing_piece(tools[cell.id], outputs[kinds[cell.id]]),
            source=sources[str(cell.python.release)],
            how=hows.get(cell.id, ""),
        )
        for cell in cells
    ]


def _cross_plans(cells: Sequence[Cell], problems: dict[str, str]) -> dict[str, str]:
    """builders.cross's plan per Linux cell: refusals into ``problems``, cross builds named."""
    from cpmatrix.builders import cross

    hows: dict[str, str] = {}
    for cell in cells:
        planned = cross.plan(cell)
        if planned.refused:
            problems[cell.id] = planned.reason
        elif planned.how == "cross" and planned.target is not None:
            hows[cell.id] = f"cross-built (clang --target={planned.target.triple})"
    return hows


def report(planned: Sequence[PlannedCell]) -> str:
    """The plan as a person reads it: one table, then the cells without a source here."""
    reachable = [p for p in planned if p.source.ok]
    lines = [
        console.table(
            ("cell", "would build", "source"),
            [
                [
                    p.cell.id,
                    p.toolchain_problem or ("yes, " + p.how if p.how else "yes"),
                    p.source.how,
                ]
                for p in reachable
            ],
        )
        if reachable
        else "no selected cell has a source here"
    ]
    unreachable = [p for p in planned if not p.source.ok]
    if unreachable:
        lines.append("\nsource not reachable here (the toolchain is checked all the same):")
        for release in dict.fromkeys(str(p.cell.python.release) for p in unreachable):
            why = next(p.source.how for p in unreachable if str(p.cell.python.release) == release)
            lines.append(f"  CPython {release}: {why}")
        rows = [[p.cell.id, p.toolchain_problem or "ok"] for p in unreachable]
        lines.append(console.table(("cell", "toolchain"), rows))
    return "\n".join(lines)


def require_all(planned: Sequence[PlannedCell]) -> None:
    """Raise if any cell would not build: a toolchain problem first, else a missing source."""
    tools = [p for p in planned if p.toolchain_problem]
    if tools:
        raise EnvironmentProblem(
            f"{len(tools)} of {len(planned)} cells lack a tool where they would build: "
            + ", ".join(p.cell.id for p in tools),
            hint="each row above names what to install (the builder image: docker/Dockerfile)",
        )
    sources = [p for p in planned if not p.source.ok]
    if sources:
        raise SourceError(
            f"{len(sources)} of {len(planned)} cells have no source here: "
            + ", ".join(sorted({str(p.cell.python.release) for p in sources})),
            hint="pass --source PATH_OR_URL, or make python.org or a Debian mirror reachable",
        )
