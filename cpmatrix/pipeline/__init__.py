"""Per cell: source → build → verify → release (:mod:`cpmatrix.artifacts.release`), several
cells at once within one -j budget.

Every cell ends as a :class:`CellOutcome` value; the exit code is reduced from them at the end,
so one failing cell does not hide what happened to the others.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cpmatrix import builders
from cpmatrix.artifacts.cache import ContentKey, current_key, reusable
from cpmatrix.artifacts.release import ProofTime, Published, release
from cpmatrix.builders import portable
from cpmatrix.builders import record as build_record
from cpmatrix.builders.base import Builder, BuildRequest, Source, commands
from cpmatrix.engine import containers
from cpmatrix.matrix import ALLOWED_BUILDERS, BUILDER_KINDS, BuilderKind, Cell
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util import console
from cpmatrix.util.errors import (
    CpmatrixError,
    Interrupted,
    SourceError,
    UsageError,
    did_you_mean,
)
from cpmatrix.util.signals import sigterm_as_interrupt

MIN_JOBS_PER_CELL = 2


class Status(StrEnum):
    BUILT = "built"
    UP_TO_DATE = "up to date"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    NOT_STARTED = "not started"


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    builder: BuilderKind | None = None
    """None: each cell's platform decides (docker on Linux, native on macOS, windows)."""
    jobs: int | None = None
    """The total -j budget shared by all cells at once; None: this machine's cores."""
    verify: bool = True
    source: str | None = None
    force: bool = False
    build_root: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CellOutcome:
    cell: Cell
    status: Status
    seconds: float
    log: Path | None
    artifact: Path | None = None
    reason: str = ""
    exit_code: int = 0
    paths: CellPaths | None = None
    proofs: tuple[ProofTime, ...] = ()
    """The builder image's verification, then each consumer's, in the order they ran."""


@dataclass(frozen=True, slots=True, kw_only=True)
class JobPlan:
    workers: int
    jobs_per_cell: int


def plan_jobs(budget: int, cells: int) -> JobPlan:
    """Split the -j budget: workers x jobs_per_cell never exceeds it."""
    budget = max(1, budget)
    workers = max(1, min(cells, budget // MIN_JOBS_PER_CELL))
    return JobPlan(workers=workers, jobs_per_cell=max(1, budget // workers))


def parse_builder(text: str) -> BuilderKind | None:
    """``--builder`` as typed: empty means the platform's default."""
    if not text:
        return None
    for kind in BUILDER_KINDS:
        if kind == text:
            return kind
    raise UsageError(f"unknown --builder {text!r}", hint=did_you_mean(text, BUILDER_KINDS))


def builder_kind(cell: Cell, options: Options) -> BuilderKind:
    kind = options.builder or cell.platform.builder
    allowed = ALLOWED_BUILDERS[cell.platform.os]
    if kind not in allowed:
        raise UsageError(
            f"--builder={kind} cannot build {cell.platform.name} cells",
            hint=f"{cell.platform.name} builds with: {', '.join(allowed)}",
        )
    return kind


def prepare_source(cell: Cell, options: Options) -> Source:
    from cpmatrix import sources

    tree: Source = sources.prepare(cell.python, source=options.source)
    return tree


def run(cells: Sequence[Cell], options: Options) -> list[CellOutcome]:
    """Build every cell; raise only for problems that stop all of them (no engine, bad option).

    A Linux cell of an architecture this machine neither runs nor cross-builds is refused
    before any work; cross cells build after the native cells, and after the native build
    python each needs (built unverified when it was not asked for), see builders.cross."""
    from cpmatrix.builders import cross

    cross.refuse_unbuildable(list(cells))
    rounds = cross.rounds(cells)
    if len(rounds) == 1:
        return _run_round(cells, options)
    outcomes: list[CellOutcome] = []
    for group, verify in rounds:
        if group:
            outcomes += _run_round(group, options if verify else _unverified(options))
    return outcomes


def _unverified(options: Options) -> Options:
    from dataclasses import replace

    return replace(options, verify=False)


def _run_round(cells: Sequence[Cell], options: Options) -> list[CellOutcome]:
    from cpmatrix.builders import cross

    kinds = {cell.id: builder_kind(cell, options) for cell in cells}
    chosen = {kind: builders.builder_for(kind) for kind in dict.fromkeys(kinds.values())}
    for builder in chosen.values():
        builder.check_environment()
    crossed = cross.cross_builders(cells)
    trees: dict[str, Source | SourceError] = {}
    for cell in cells:
        key = str(cell.python.release)
        if key not in trees:
            try:
                trees[key] = prepare_source(cell, options)
            except SourceError as error:
                console.error(f"CPython {key}: {error.render()}")
                trees[key] = error
    plan = plan_jobs(options.jobs or os.cpu_count() or 1, len(cells))
    console.info(
        f"building {len(cells)} cell(s): {plan.workers} at a time, make -j{plan.jobs_per_cell}"
    )

    def one(cell: Cell) -> CellOutcome:
        tree = trees[str(cell.python.release)]
        if isinstance(tree, SourceError):
            return _failed(cell, tree, 0.0, log=None)
        builder = crossed.get(cell.id) or chosen[kinds[cell.id]]
        return run_cell(cell, builder, tree, options, plan.jobs_per_cell)

    with sigterm_as_interrupt():
        if plan.workers == 1:
            return _sequential(cells, one)
        return _concurrent(cells, one, plan.workers)


def _sequential(cells: Sequence[Cell], one: Callable[[Cell], CellOutcome]) -> list[CellOutcome]:
    outcomes: list[CellOutcome] = []
    for cell in cells:
        outcome = one(cell)
        outcomes.append(outcome)
        if outcome.status is Status.INTERRUPTED:
            outcomes += [_not_started(rest) for rest in cells[len(outcomes) :]]
            break
    return outcomes


def _concurrent(
    cells: Sequence[Cell], one: Callable[[Cell], CellOutcome], workers: int
) -> list[CellOutcome]:
    cancelled = threading.Event()

    def guarded(cell: Cell) -> CellOutcome:
        if cancelled.is_set():
            return _not_started(cell)
        try:
            outcome = one(cell)
        except Exception:
            if cancelled.is_set():  # its container was removed under it
                return _interrupted(cell, 0.0, None)
            raise
        if cancelled.is_set() and outcome.status is Status.FAILED:
            return _interrupted(cell, outcome.seconds, outcome.log)
        return outcome

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cpmatrix-cell") as pool:
        futures = [pool.submit(contextvars.copy_context().run, guarded, c) for c in cells]
        try:
            return [future.result() for future in futures]
        except KeyboardInterrupt:
            cancelled.set()
            containers.remove_all()
            return [future.result() for future in futures]


def _failed(
    cell: Cell,
    error: CpmatrixError,
    seconds: float,
    log: Path | None,
    paths: CellPaths | None = None,
) -> CellOutcome:
    return CellOutcome(
        cell=cell,
        status=Status.FAILED,
        seconds=seconds,
        log=log,
        reason=error.message.splitlines()[0],
        exit_code=error.exit_code,
        paths=paths,
    )


def _not_started(cell: Cell) -> CellOutcome:
    return CellOutcome(
        cell=cell,
        status=Status.NOT_STARTED,
        seconds=0.0,
        log=None,
        reason="interrupted before it started",
        exit_code=Interrupted.exit_code,
    )


def _interrupted(cell: Cell, seconds: float, log: Path | None) -> CellOutcome:
    return CellOutcome(
        cell=cell,
        status=Status.INTERRUPTED,
        seconds=seconds,
        log=log,
        reason="Ctrl-C: the cell is marked INCOMPLETE and restarts cleanly next time",
        exit_code=Interrupted.exit_code,
    )


def fingerprint(cell: Cell, builder: Builder, tree: Source) -> dict[str, object]:
    steps = commands(cell, source_dir="<source>", destdir="<destdir>", jobs=1)
    return {
        "source": tree.key,
        "configure": list(steps.configure),
        "configure_env": dict(steps.configure_env),
        "portable": portable.scripts_digest(),
        **builder.identity(),
    }


def up_to_date(paths: CellPaths, wanted: dict[str, object]) -> bool:
    """A complete earlier build of exactly this cell, from the same inputs."""
    if paths.incomplete_marker.exists() or not paths.install.is_dir():
        return False
    try:
        record = build_record.load_ok(paths.record)
    except build_record.RecordError as unusable:
        console.detail(f"{paths.cell_id}: not reused: {unusable.message}")
        return False
    return record.cell_id == paths.cell_id and dict(record.fingerprint) == wanted


def run_cell(
    cell: Cell, builder: Builder, tree: Source, options: Options, jobs: int
) -> CellOutcome:
    """One cell forward: its cached artifact, else build (or reuse the build), verify in the
    builder, then release into dist/."""
    paths = CellPaths.of(cell.id, options.build_root)
    watch = console.Stopwatch()
    try:
        key = current_key(
            cell, source=tree.record(), kind=builder.kind, identity=builder.identity()
        )
        cached = reusable(cell, key, force=options.force, verify=options.verify)
        if cached is not None:
            console.info(f"{cell.id}: cache hit: {cached.archive} is verified and current")
            return CellOutcome(
                cell=cell,
                status=Status.UP_TO_DATE,
                seconds=watch.seconds,
                log=None,
                artifact=cached.archive,
                reason="verified artifact cached (--force rebuilds it)",
                paths=paths,
            )
        status = build_cell(cell, builder, tree, options, jobs, paths)
        published = verify_and_release(cell, paths, key) if options.verify else None
    except CpmatrixError as error:
        console.error(f"{cell.id}: {error.render()}")
        log = paths.log if paths.log.exists() else None
        return _failed(cell, error, watch.seconds, log, paths)
    except KeyboardInterrupt:
        return _interrupted(cell, watch.seconds, paths.log)
    return CellOutcome(
        cell=cell,
        status=status,
        seconds=watch.seconds,
        log=paths.log,
        artifact=published.artifact.archive if published else None,
        paths=paths,
        proofs=published.proofs if published else (),
    )


def build_cell(
    cell: Cell, builder: Builder, tree: Source, options: Options, jobs: int, paths: CellPaths
) -> Status:
    """Build the cell, unless a complete build from the same inputs is there."""
    wanted = fingerprint(cell, builder, tree)
    if not options.force and up_to_date(paths, wanted):
        console.info(f"{cell.id}: up to date ({paths.install}); --force rebuilds it")
        return Status.UP_TO_DATE
    watch = console.Stopwatch()
    with console.group(f"build {cell.id}"):
        request = BuildRequest(cell=cell, source=tree, paths=paths, jobs=jobs, fingerprint=wanted)
        builder.build(request)
        console.info(f"{cell.id}: built in {console.elapsed(watch.seconds)}")
    return Status.BUILT


def verify_and_release(cell: Cell, paths: CellPaths, key: ContentKey) -> Published:
    """Verify the built tree in the builder, then release it; the builder's verification is the
    first proof time."""
    from cpmatrix import verify

    verified = verify.verify_built_cell(cell, paths)
    published = release(cell, paths, key=key)
    first = ProofTime(place="builder", seconds=verified.seconds)
    return Published(artifact=published.artifact, proofs=(first, *published.proofs))


def exit_code(outcomes: Sequence[CellOutcome]) -> int:
    """130 if interrupted, else the first failure's code, else 0."""
    codes = [o.exit_code for o in outcomes if o.exit_code]
    if Interrupted.exit_code in codes:
        return Interrupted.exit_code
    return codes[0] if codes else 0


SUMMARY_HEADERS = ("cell", "result", "duration", "proofs", "artifact or log")


def summary_rows(outcomes: Sequence[CellOutcome]) -> list[list[str]]:
    rows = []
    for outcome in outcomes:
        where = outcome.artifact or outcome.log or ""
        if outcome.artifact is None and outcome.exit_code == 0 and outcome.paths is not None:
            where = outcome.paths.install
        result = str(outcome.status) + (f": {outcome.reason}" if outcome.reason else "")
        proofs = ", ".join(proof.words() for proof in outcome.proofs) or "-"
        rows.append([outcome.cell.id, result, console.elapsed(outcome.seconds), proofs, str(where)])
    return rows


def report(outcomes: Sequence[CellOutcome]) -> str:
    """The summary table; also written to GitHub's job summary under Actions."""
    rows = summary_rows(outcomes)
    console.write_step_summary(console.markdown_table(SUMMARY_HEADERS, rows))
    return console.table(SUMMARY_HEADERS, rows)
