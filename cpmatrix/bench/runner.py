"""Runs the suites in every column and writes each column's pyperf JSON (all suites in one file,
each benchmark tagged with its suite) beside a log of everything its interpreter printed.

Suites run interleaved, in rounds, suite by suite across the columns, with every column's place
open the whole time: a burst of load from elsewhere on a shared machine then hits several
columns a little instead of one column a lot. Files the interpreter writes go to its place's scratch
directory and are read back from there.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyperf

from cpmatrix.bench import gcpauses, importtime, suites
from cpmatrix.bench import pyperformance_suite as pyperformance
from cpmatrix.bench.columns import Column
from cpmatrix.bench.places import python_path, target_for
from cpmatrix.bench.pyperformance import DEFAULT_BENCHMARKS
from cpmatrix.bench.suites import Settings, Suite
from cpmatrix.engine.containers import Completed
from cpmatrix.util import console, jsonfile
from cpmatrix.util.errors import BenchmarkFailed
from cpmatrix.verify.runner import Place, open_place


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnResult:
    column: Column
    runs_in: str
    results: Path
    log: Path
    about: dict[str, Any]
    unmeasured: tuple[str, ...]
    seconds: float
    pyperformance: pyperformance.ColumnFacts | None = None


@dataclass
class _Session:
    """One column's run: its place, host-side staging directory, log, and results so far."""

    column: Column
    interpreter: str
    place: Place
    staging: Path
    log: Path
    settings: Settings
    parts: list[Any] = field(default_factory=list)
    about: dict[str, Any] = field(default_factory=dict)
    unmeasured: list[str] = field(default_factory=list)
    seconds: float = 0.0
    pyperformance: pyperformance.ColumnSuite | None = None

    @property
    def env(self) -> dict[str, str]:
        return {"PYTHONPATH": python_path(), **dict(self.column.env)}

    def remote(self, name: str) -> str:
        """A path in the place's scratch directory."""
        return f"{self.place.scratch}/{name}"

    def fetch(self, remote: str) -> Path:
        """Copy a file the interpreter wrote into the host-side staging directory."""
        data = self.place.read(remote)
        if data is None:
            raise BenchmarkFailed(
                f"column {self.column.name!r}: {remote} was not written ({self.place.label})",
                hint=f"the interpreter's output is in {self.log}",
            )
        local = self.staging / Path(remote).name
        local.write_bytes(data)
        return local

    def attempt(self, what: str, argv: Sequence[str]) -> Completed:
        console.progress(f"{self.column.name}: {what}")
        outcome = self.place.run(argv, env=self.env, timeout=self.settings.timeout)
        self.seconds += outcome.seconds
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"$ {' '.join(argv)}\n{outcome.output}")
        for line in outcome.output.splitlines():
            console.detail(line)
        return outcome

    def run(self, what: str, argv: Sequence[str]) -> None:
        outcome = self.attempt(what, argv)
        if outcome.timed_out or outcome.exit_code != 0:
            ended = (
                f"timed out after {self.settings.timeout:g} s"
                if outcome.timed_out
                else f"exit code {outcome.exit_code}"
            )
            tail = "\n".join(outcome.output.strip().splitlines()[-15:])
            raise BenchmarkFailed(
                f"{what} failed for column {self.column.name!r} ({ended}):\n{tail}",
                hint=f"the whole output is in {self.log}",
            )

    def probe(self) -> None:
        output = self.remote("about.json")
        script = self.place.put("cpmatrix_about.py", suites.about_program().encode())
        self.run("probe", suites.about_command(self.interpreter, script, output))
        self.about = jsonfile.read(self.fetch(output), what="probe", error=BenchmarkFailed)

    def suite_round(self, suite: Suite, max_workers: int) -> None:
        """One round of a suite: its runs are appended to the suite's pyperf file."""
        output = self.remote(f"{suite.value}.json")
        command = suites.pyperf_command(
            self.interpreter,
            suite,
            output,
            self.settings,
            [name for name, _ in self.column.env],
            max_workers=max_workers,
        )
        self.run(f"{suite.value} suite", command)
        if suite is Suite.RELEASE_CLAIMS:
            gc_runs = self.remote("gcpauses.json")
            self.run("GC pauses", suites.gcpauses_command(self.interpreter, gc_runs, self.settings))

    def collect(self, suite: Suite) -> None:
        if suite is Suite.PYPERFORMANCE:
            self.collect_pyperformance()
            return
        output = self.fetch(self.remote(f"{suite.value}.json"))
        self.parts.append(pyperf.BenchmarkSuite.load(str(output)))
        if suite is Suite.RELEASE_CLAIMS:
            fetched = self.fetch(self.remote("gcpauses.json"))
            records = jsonfile.read_list(fetched, what="GC pauses", error=BenchmarkFailed)
            self.parts.append(pyperf.BenchmarkSuite(gcpauses.benchmarks(records)))

    def pyperformance_run(self, name: str) -> None:
        """One round of one benchmark, if still included (a failure excludes it, with why)."""
        suite = self.pyperformance
        chosen = [b for b in suite.included if b.name == name] if suite else []
        if suite is None or not chosen:
            return
        options = suites.pyperf_options(self.settings, [name for name, _ in self.column.env])
        command = suite.command(self.place, chosen[0], options)
        suite.ran(chosen[0], self.attempt(f"pyperformance {name}", command))

    def collect_pyperformance(self) -> None:
        suite = self.pyperformance
        assert suite is not None
        for bench in suite.included:
            self.parts.append(pyperformance.tagged(self.fetch(suite.output(self.place, bench))))

    def import_times(self, modules: Sequence[str]) -> None:
        raw = self.remote("importtime.json")
        command = suites.importtime_command(self.interpreter, raw, self.settings, modules)
        self.run("import times", command)
        runs = jsonfile.read(self.fetch(raw), what="import times", error=BenchmarkFailed)
        made, self.unmeasured = importtime.benchmarks(runs)
        if made:
            self.parts.append(pyperf.BenchmarkSuite(made))

    def finish(self, out_dir: Path) -> ColumnResult:
        results = out_dir / f"{self.column.slug}.json"
        _write_merged(self.parts, results, self.staging)
        return ColumnResult(
            column=self.column,
            runs_in=self.place.label,
            results=results,
            log=self.log,
            about=self.about,
            unmeasured=tuple(self.unmeasured),
            seconds=self.seconds,
            pyperformance=self.pyperformance.facts if self.pyperformance else None,
        )


@contextmanager
def _session(
    column: Column,
    settings: Settings,
    out_dir: Path,
    prepared: pyperformance.Prepared | None = None,
) -> Iterator[_Session]:
    log = out_dir / f"{column.slug}.log"
    log.write_text(f"# column {column.name}: {column.interpreter} on {column.where}\n")
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{column.slug}-", dir=out_dir))
    try:
        target = target_for(column)
        suite = None
        if prepared is not None:
            built = pyperformance.build_wheels(
                column, prepared, out_dir / f"{column.slug}.wheels.log"
            )
            suite = pyperformance.ColumnSuite(prepared, built)
            extra = pyperformance.mounts(prepared, built.directory if built else None)
            target = replace(target, mounts=(*target.mounts, *extra))
        with open_place(target) as place:
            session = _Session(column, target.interpreter, place, staging, log, settings)
            session.pyperformance = suite
            yield session
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def run_columns(
    columns: Sequence[Column],
    chosen: Sequence[Suite],
    settings: Settings,
    out_dir: Path,
    max_workers: int,
    benchmarks: Sequence[str] = DEFAULT_BENCHMARKS,
) -> list[ColumnResult]:
    """Run the chosen suites in every column; write ``<out_dir>/<slug>.json`` per column."""
    out_dir.mkdir(parents=True, exist_ok=True)
    prepared = pyperformance.prepare(benchmarks) if Suite.PYPERFORMANCE in chosen else None
    with ExitStack() as stack:
        sessions = [stack.enter_context(_session(c, settings, out_dir, prepared)) for c in columns]
        for session in sessions:
            session.probe()
            if session.pyperformance is not None:
                session.pyperformance.set_up(
                    session.place, session.interpreter, session.log, session.env
                )
        for round_number in range(1, settings.rounds + 1):
            with console.group(f"round {round_number} of {settings.rounds}"):
                for suite in chosen:
                    if suite is Suite.PYPERFORMANCE:
                        _pyperformance_round(sessions)
                        continue
                    for session in sessions:
                        session.suite_round(suite, max_workers)
        for suite in chosen:
            for session in sessions:
                session.collect(suite)
        modules = suites.import_modules(chosen)
        if modules:
            for session in sessions:
                session.import_times(modules)
        results = [session.finish(out_dir) for session in sessions]
    for result in results:
        console.info(f"{result.column.name}: measured in {console.elapsed(result.seconds)}")
    return results


def _pyperformance_round(sessions: Sequence[_Session]) -> None:
    """Benchmark by benchmark, each across all columns before the next: the columns of one
    benchmark run seconds apart, so a burst of load lands on all of them alike."""
    names = [b.name for s in sessions if s.pyperformance for b in s.pyperformance.included]
    for name in dict.fromkeys(names):
        for session in sessions:
            session.pyperformance_run(name)


def _write_merged(parts: Sequence[Any], target: Path, staging_dir: Path) -> None:
    """One pyperf file for the column, replaced atomically."""
    benchmarks = [bench for part in parts for bench in part.get_benchmarks()]
    if not benchmarks:
        raise BenchmarkFailed(f"no benchmark results to write to {target}")
    staging = staging_dir / "merged.json"
    pyperf.BenchmarkSuite(benchmarks).dump(str(staging), replace=True)
    staging.chmod(0o644)
    staging.replace(target)
