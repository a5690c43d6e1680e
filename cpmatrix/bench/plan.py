"""From command-line options to a :class:`cpmatrix.bench.Request`: which columns, which suites,
how hard, where the results go."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpmatrix.artifacts import manifest
from cpmatrix.bench import Request
from cpmatrix.bench.columns import (
    Artifact,
    Column,
    expand_env,
    for_artifact,
    for_cell,
    parse_column,
    preset,
    slug,
)
from cpmatrix.bench.suites import FAST, FULL, Suite, parse_suites
from cpmatrix.builders import record
from cpmatrix.builders.record import BuildRecord
from cpmatrix.matrix import Cell, layout, matrixfile
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util.errors import UsageError


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    python: str = ""
    variants: str = ""
    profile: str = ""
    interpreter: str = ""
    image: str = ""
    columns: tuple[str, ...] = ()
    preset: str = ""
    env: tuple[str, ...] = ()
    suites: str = ""
    benchmarks: str = ""
    fast: bool = False
    baseline: str = ""
    name: str = ""
    matrix: str = ""
    max_workers: int = 0
    from_build: bool = False
    """Benchmark build/ trees instead of the dist/ artifacts teams get."""
    consumer: str = ""
    """The bare Debian release artifacts are unpacked in (default: the platform's newest)."""


def _record_facts(record: BuildRecord) -> dict[str, Any]:
    """What the builder recorded that a benchmark reader weighs: command, compiler, time."""
    return {
        "configure": list(record.command.argv),
        "toolchain": dict(record.toolchain),
        "build_seconds": round(sum(record.phases.values()), 1),
        "phases": dict(record.phases),
    }


def _artifact_facts(data: Mapping[str, Any]) -> dict[str, Any]:
    build, artifact = data.get("build") or {}, data.get("artifact") or {}
    command = build.get("command") or {}
    return {
        "configure": list(command.get("argv") or []),
        "toolchain": dict(build.get("toolchain") or {}),
        "build_seconds": build.get("duration_seconds"),
        "phases": dict(build.get("phases") or {}),
        "archive": artifact.get("file"),
        "sha256": artifact.get("sha256"),
        "size": artifact.get("size"),
    }


def parse_variants(text: str) -> list[tuple[str, str | None]]:
    """``default,jit,default:optimized`` → (variant, profile or None for --profile)."""
    entries = []
    for word in (w.strip() for w in text.split(",") if w.strip()):
        variant, _, profile = word.partition(":")
        entries.append((variant, profile or None))
    return entries


def _consumer(cell: Cell, chosen: str) -> str:
    if chosen:
        return chosen
    if not cell.platform.consumers:
        raise UsageError(
            f"{cell.platform.name} names no consumer images in matrix.yaml",
            hint="give --consumer RELEASE (a Debian release: bookworm, trixie …) or --from-build",
        )
    return cell.platform.consumers[-1]


def artifact_column(name: str, cell: Cell, consumer: str) -> tuple[Column, dict[str, Any]]:
    """The cell's published archive in dist/, unpacked in a bare image of ``consumer``."""
    dist = layout.dist_root()
    archive, beside = dist / manifest.archive_name(cell.id), dist / manifest.manifest_name(cell.id)
    if not archive.is_file() or not beside.is_file():
        raise UsageError(
            f"cell {cell.id} has no published artifact: no {archive} with its manifest",
            hint="`invoke build` publishes what it builds (`invoke package` one built before); "
            "--from-build benchmarks the build tree instead",
        )
    found = Artifact(
        archive=archive,
        top=cell.id,
        interpreter=manifest.interpreter_path(cell),
        consumer=_consumer(cell, consumer),
    )
    facts = {"profile": cell.profile, "cell": cell.id, **_artifact_facts(manifest.load(beside))}
    return for_artifact(name, found, cell.id), facts


def tree_column(name: str, cell: Cell) -> tuple[Column, dict[str, Any]]:
    """The cell's install tree under build/ (what was built, before packaging)."""
    paths = CellPaths.of(cell.id)
    executable = layout.posix_executable_name(cell.version, cell.features, cell.profile)
    column = for_cell(name, paths, executable)
    facts: dict[str, Any] = {"profile": cell.profile, "cell": cell.id}
    if paths.record.is_file():
        facts.update(_record_facts(record.load(paths.record)))
    return column, facts


def cell_columns(options: Options) -> tuple[list[Column], dict[str, dict[str, Any]]]:
    if not options.variants and not options.python:
        return [], {}
    model = matrixfile.load(options.matrix or None)
    columns, builds = [], {}
    for variant, profile in parse_variants(options.variants or "default"):
        cell = model.cell(
            python=options.python or None,
            variant=variant,
            profile=profile or options.profile or None,
        )
        name = (
            cell.variant.name
            if cell.profile == "release"
            else f"{cell.variant.name}-{cell.profile}"
        )
        if options.from_build:
            column, facts = tree_column(name, cell)
        else:
            column, facts = artifact_column(name, cell, options.consumer)
        columns.append(column)
        builds[cell.id] = facts
    return columns, builds


def _title(options: Options, columns: Sequence[Column]) -> str:
    if options.name:
        return options.name
    if options.preset:
        return options.preset
    if options.python:
        return f"python-{options.python}"
    return columns[0].slug if len(columns) == 1 else "comparison"


def request(options: Options) -> Request:
    columns, builds = cell_columns(options)
    if options.interpreter or options.image:
        interpreter = options.interpreter or "python3"
        columns.append(
            Column(
                name=Path(interpreter).name, interpreter=interpreter, image=options.image or None
            )
        )
    columns += [parse_column(spec) for spec in options.columns]
    if options.preset:
        columns += preset(options.preset)
    columns = expand_env(columns, options.env)
    name = _title(options, columns) if columns else "comparison"
    chosen = parse_suites(options.suites)
    if options.benchmarks and Suite.PYPERFORMANCE not in chosen:
        raise UsageError(
            "--benchmarks picks pyperformance's benchmarks, but the pyperformance suite is not "
            "chosen",
            hint="add --suites pyperformance (with others if you like: --suites "
            "pyperformance,startup)",
        )
    return Request(
        title=f"cpmatrix benchmarks: {name}",
        columns=tuple(columns),
        suites=chosen,
        settings=FAST if options.fast else FULL,
        out_dir=layout.build_root() / "bench" / slug(name),
        baseline=options.baseline or None,
        builds=builds,
        max_workers=options.max_workers,
        benchmarks=_benchmarks(options.benchmarks),
    )


def _benchmarks(text: str) -> tuple[str, ...]:
    from cpmatrix.bench import pyperformance, wheelhouse

    return pyperformance.parse_benchmarks(text, tuple(wheelhouse.load_lock().benchmarks))
