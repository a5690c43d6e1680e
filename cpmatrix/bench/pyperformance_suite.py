"""The pyperformance suite in a column: wheels built by the column's own interpreter where the
wheelhouse has none for it, a venv in the column's place installed offline, then each benchmark
script run with pyperf, round by round like the other suites.

A benchmark whose requirements cannot be built or installed for a column's interpreter, or that
fails when it runs there, is excluded from that column with the reason (pip's or the script's
last words), never dropped silently: the report lists it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyperf
from filelock import FileLock

from cpmatrix.bench import pyperformance, wheelhouse
from cpmatrix.bench.columns import Artifact, Column, DebianImage, HostOrBuilder
from cpmatrix.bench.places import target_for
from cpmatrix.bench.pyperformance import Benchmark
from cpmatrix.bench.wheelhouse import Fill, Lock
from cpmatrix.engine.containers import Completed, Mount
from cpmatrix.util import console, jsonfile
from cpmatrix.util.errors import BenchmarkFailed
from cpmatrix.verify.runner import Place, Target, local_target, open_place

PIP_TIMEOUT_SECONDS = 900
BUILD_PACKAGES = ("gcc", "libc6-dev")


@dataclass(frozen=True, slots=True)
class Excluded:
    benchmark: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """The host side, ready once per run: the filled wheelhouse and the chosen benchmarks."""

    lock: Lock
    wheelhouse: Path
    benchmarks_dir: Path
    chosen: tuple[Benchmark, ...]
    fill: Fill


def prepare(names: Sequence[str]) -> Prepared:
    lock = wheelhouse.load_lock()
    done = wheelhouse.fill(lock, lock.files_for(names))
    directory = wheelhouse.benchmarks_dir(lock)
    known = pyperformance.catalog(directory)
    console.info(
        f"pyperformance wheelhouse {done.directory}: {done.downloaded} files downloaded "
        f"({done.bytes / 1e6:.1f} MB) in {console.elapsed(done.seconds)}"
    )
    return Prepared(
        lock=lock,
        wheelhouse=done.directory,
        benchmarks_dir=directory,
        chosen=tuple(known[name] for name in names),
        fill=done,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    """Wheels the column's interpreter built from sdists, and what it could not build."""

    directory: Path
    failed: Mapping[str, str]
    seconds: float
    cached: bool


@dataclass
class ColumnFacts:
    """What the suite did in one column (for the report)."""

    benchmarks: tuple[str, ...]
    excluded: list[Excluded] = field(default_factory=list)
    build_seconds: float = 0.0
    wheels_cached: bool = True
    venv_seconds: float = 0.0
    run_seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmarks": list(self.benchmarks),
            "excluded": {e.benchmark: e.reason for e in self.excluded},
            "wheel_build_seconds": round(self.build_seconds, 1),
            "wheels_from_cache": self.wheels_cached,
            "venv_seconds": round(self.venv_seconds, 1),
            "run_seconds": {k: round(v, 1) for k, v in self.run_seconds.items()},
        }


def mounts(prepared: Prepared, built: Path | None) -> tuple[Mount, ...]:
    """Read-only, where they lie on the host (so the same paths work on the host too)."""
    paths = [prepared.wheelhouse, prepared.benchmarks_dir, *([built] if built else [])]
    return tuple(Mount(path, str(path)) for path in paths)


def find_links(prepared: Prepared, built: Path | None) -> list[str]:
    return [str(prepared.wheelhouse), *([str(built)] if built is not None else [])]


def build_target(column: Column) -> Target:
    """Where the column's interpreter builds wheels: its own place with a C compiler (the
    builder image for our trees and for our archives, unpacked there as in a bare image;
    Debian's -dev packages and gcc for a Debian image)."""
    match column.image:
        case Artifact(archive=archive, top=top, interpreter=inside):
            from cpmatrix.artifacts.consumers import artifact_target
            from cpmatrix.engine.image import builder_image

            unpacked = artifact_target(
                archive, top=top, interpreter=inside, image=builder_image().tag
            )
            return replace(unpacked, description=f"{column.name} (wheel builds)", cap_add=())
        case DebianImage(suite=suite, packages=packages):
            dev = tuple(f"{p}-dev" for p in packages if re.fullmatch(r"python3\.\d+", p))
            image = DebianImage(suite, (*packages, *dev, *BUILD_PACKAGES))
            return target_for(replace(column, image=image))
        case HostOrBuilder():
            local = local_target(Path(column.interpreter), where="builder")
            return replace(local, description=f"{column.name} (wheel builds)", cap_add=())
    return target_for(column)


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b(: .*)?$")


def _reason(outcome: Completed, what: str) -> str:
    """The script's exception (not pyperf's "worker failed" that follows it), else pip's ERROR
    lines, else the last lines."""
    lines = [line.rstrip() for line in outcome.output.splitlines() if line.strip()]
    raised = [
        line for line in lines if EXCEPTION_LINE.match(line) and "failed with exit code" not in line
    ]
    errors = [line.strip() for line in lines if line.startswith(("ERROR", "error:"))]
    tail = raised[:1] or errors[-3:] or [line.strip() for line in lines[-3:]]
    ended = "timed out" if outcome.timed_out else f"exit {outcome.exit_code}"
    return f"{what} failed ({ended}): " + " | ".join(tail)[-600:]


def _key(target: Target, column: Column) -> str:
    """The interpreter's identity: where it runs, its path, and the file it comes from (the
    interpreter, or the archive it is unpacked from) so that a rebuilt one gets new wheels."""
    identity: list[str] = [target.image or "host", target.interpreter]
    here = column.image.archive if isinstance(column.image, Artifact) else Path(target.interpreter)
    if here.is_file():
        info = here.resolve().stat()
        identity += [str(info.st_size), str(info.st_mtime_ns)]
    return hashlib.sha256("\0".join(identity).encode()).hexdigest()[:16]


def build_wheels(column: Column, prepared: Prepared, log: Path) -> Built | None:
    """Wheels for every requirement the wheelhouse lacks for this interpreter, built by it in a
    container without network; cached per lock and interpreter. None: nothing needs one."""
    needing = [b for b in prepared.chosen if b.requirements]
    if not needing:
        return None
    target = build_target(column)
    directory = wheelhouse.built_dir(prepared.lock, _key(target, column))
    record = directory / "built.json"
    directory.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(directory) + ".lock"):
        failed: dict[str, str] = {}
        if record.is_file():
            built = jsonfile.read(record, what="wheel build record", error=BenchmarkFailed)
            listed = built.get("failed")
            failed = {str(k): str(v) for k, v in listed.items()} if isinstance(listed, dict) else {}
        todo = [b for b in needing if not (directory / f".{b.name}").exists()]
        if not todo:
            return Built(directory=directory, failed=failed, seconds=0.0, cached=True)
        stopwatch = console.Stopwatch()
        directory.mkdir(exist_ok=True)
        wanted = replace(target, mounts=(*target.mounts, *mounts(prepared, None)))
        with open_place(wanted) as place:
            failed.update(_build_in(place, target.interpreter, prepared, todo, directory, log))
        for bench in todo:
            (directory / f".{bench.name}").touch()
        record.write_text(json.dumps({"failed": failed}, indent=1) + "\n")
        return Built(directory=directory, failed=failed, seconds=stopwatch.seconds, cached=False)


def _logged(place: Place, argv: Sequence[str], log: Path, env: Mapping[str, str]) -> Completed:
    outcome = place.run(argv, env=dict(env), timeout=PIP_TIMEOUT_SECONDS)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(argv)}\n{outcome.output}")
    return outcome


def _build_in(
    place: Place, interpreter: str, prepared: Prepared, todo: Sequence[Benchmark],
    directory: Path, log: Path,
) -> dict[str, str]:  # fmt: skip
    venv = f"{place.scratch}/build-venv"
    out = f"{place.scratch}/wheels"
    pip_wheel = str(prepared.wheelhouse / prepared.lock.pip_wheel())
    python = f"{venv}/bin/python"
    created = _logged(place, pyperformance.venv_command(interpreter, venv), log, {})
    failed: dict[str, str] = {}
    for bench in todo:
        if not created.ok:
            failed[bench.name] = _reason(created, "creating the build venv")
            continue
        requirements = f"{prepared.benchmarks_dir}/{bench.requirements_file}"
        console.progress(f"building wheels for {bench.name} with {interpreter}")
        command = pyperformance.wheel_command(
            python, pip_wheel, requirements, find_links(prepared, None), out
        )
        outcome = _logged(place, command, log, {})
        if not outcome.ok:
            failed[bench.name] = _reason(outcome, "building its requirements into wheels")
    listing = place.run(["ls", "-1", out], timeout=60)
    present = set(prepared.lock.files)
    for name in listing.output.split() if listing.ok else ():
        if name.endswith(".whl") and name not in present:
            data = place.read(f"{out}/{name}")
            if data is not None:
                (directory / name).write_bytes(data)
                console.info(f"built {name} with {interpreter}")
    return failed


class ColumnSuite:
    """The suite in one column's open place: venv, then rounds of benchmark runs."""

    def __init__(self, prepared: Prepared, built: Built | None) -> None:
        self.prepared = prepared
        self.built = built
        self.facts = ColumnFacts(benchmarks=tuple(b.name for b in prepared.chosen))
        self.included: list[Benchmark] = []
        if built is not None:
            self.facts.build_seconds = built.seconds
            self.facts.wheels_cached = built.cached

    def exclude(self, bench: Benchmark, reason: str) -> None:
        console.warn(f"pyperformance {bench.name} excluded: {reason}")
        self.facts.excluded.append(Excluded(bench.name, reason))
        if bench in self.included:
            self.included.remove(bench)

    def python(self, place: Place) -> str:
        return f"{place.scratch}/venv/bin/python"

    def set_up(self, place: Place, interpreter: str, log: Path, env: Mapping[str, str]) -> None:
        """The venv, and each benchmark's requirements installed offline."""
        stopwatch = console.Stopwatch()
        created = _logged(place, pyperformance.venv_command(interpreter, f"{place.scratch}/venv"),
                          log, env)  # fmt: skip
        built_dir = self.built.directory if self.built else None
        pip_wheel = str(self.prepared.wheelhouse / self.prepared.lock.pip_wheel())
        failed = dict(self.built.failed) if self.built else {}
        for bench in self.prepared.chosen:
            self.included.append(bench)
            if not created.ok:
                self.exclude(bench, _reason(created, "creating the venv"))
            elif bench.name in failed:
                self.exclude(bench, failed[bench.name])
            elif bench.requirements_file:
                requirements = f"{self.prepared.benchmarks_dir}/{bench.requirements_file}"
                links = find_links(self.prepared, built_dir)
                command = pyperformance.install_command(
                    self.python(place), pip_wheel, requirements, links
                )
                outcome = _logged(place, command, log, env)
                if not outcome.ok:
                    self.exclude(bench, _reason(outcome, "installing its requirements"))
        self.facts.venv_seconds = stopwatch.seconds

    def output(self, place: Place, bench: Benchmark) -> str:
        return f"{place.scratch}/pyperformance-{bench.name}.json"

    def command(self, place: Place, bench: Benchmark, options: Sequence[str]) -> list[str]:
        script = f"{self.prepared.benchmarks_dir}/{bench.directory}/{bench.script}"
        return pyperformance.run_command(
            self.python(place), script, bench, self.output(place, bench), options
        )

    def ran(self, bench: Benchmark, outcome: Completed) -> None:
        self.facts.run_seconds[bench.name] = (
            self.facts.run_seconds.get(bench.name, 0.0) + outcome.seconds
        )
        if not outcome.ok:
            self.exclude(bench, _reason(outcome, "running it"))


def tagged(path: Path) -> Any:
    """A benchmark script's pyperf file, tagged so the report puts it in the pyperformance
    table; its own tags (pyperformance's groups) follow."""
    suite = pyperf.BenchmarkSuite.load(str(path))
    for bench in suite.get_benchmarks():
        own = [t for t in bench.get_metadata().get("tags", []) if t != pyperformance.TAG]
        bench.update_metadata({"tags": [pyperformance.TAG, *own]})
    return suite
