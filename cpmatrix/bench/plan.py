"""From command-line options to a :class:`cpmatrix.bench.Request`: which columns, which suites,
how hard, where the results go."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpmatrix import layout, matrixfile
from cpmatrix.bench import Request
from cpmatrix.bench.columns import Column, expand_env, for_cell, parse_column, preset, slug
from cpmatrix.bench.suites import FAST, FULL, Suite, parse_suites
from cpmatrix.errors import UsageError
from cpmatrix.layout import CellPaths


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


def _build_facts(paths: CellPaths, profile: str) -> dict[str, Any]:
    """What the builder recorded about the cell: its profile and configure command line."""
    facts: dict[str, Any] = {"profile": profile, "cell": paths.cell_id}
    if paths.record.is_file():
        record = json.loads(paths.record.read_text(encoding="utf-8"))
        configure = record.get("configure")
        if isinstance(configure, dict) and "argv" in configure:
            facts["configure"] = configure["argv"]
        if isinstance(record.get("toolchain"), dict):
            facts["toolchain"] = record["toolchain"]
        facts.update({k: v for k, v in record.items() if isinstance(v, str | int | float)})
    return facts


def cell_columns(options: Options) -> tuple[list[Column], dict[str, dict[str, Any]]]:
    if not options.variants and not options.python:
        return [], {}
    model = matrixfile.load(options.matrix or None)
    columns, builds = [], {}
    for variant in [v.strip() for v in (options.variants or "default").split(",") if v.strip()]:
        cell = model.cell(
            python=options.python or None, variant=variant, profile=options.profile or None
        )
        paths = CellPaths.of(cell.id)
        executable = layout.posix_executable_name(cell.version, cell.features, cell.profile)
        name = (
            cell.variant.name
            if cell.profile == "release"
            else f"{cell.variant.name}-{cell.profile}"
        )
        columns.append(for_cell(name, paths, executable))
        builds[cell.id] = _build_facts(paths, cell.profile)
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
