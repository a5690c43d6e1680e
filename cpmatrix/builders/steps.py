"""The build sequence every POSIX builder runs: preflight → configure → compile → install.

A :class:`Runner` says how to run a command (in a container, on the host); this module runs
the phases through it, streams the log, shows progress, stages the install and promotes it only
when every phase succeeded, and writes ``build.json`` either way.
"""

from __future__ import annotations

import datetime
import shlex
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol

from cpmatrix import features as fx
from cpmatrix.builders import base, portable, record
from cpmatrix.builders.base import BuildRequest, BuildResult, Phase
from cpmatrix.matrix import layout
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util import console, jsonfile
from cpmatrix.util.errors import BuildFailed, CpmatrixError
from cpmatrix.util.sourcedate import source_date_epoch

PROGRESS_EVERY_SECONDS = 15.0
"""How often a CI log gets a progress line; a terminal's line is rewritten every second."""
PROGRESS_EVERY_SECONDS_TTY = 1.0
STAGING_DIR = "staging"


class Runner(Protocol):
    """Runs a command where the build happens; paths are as that place sees them."""

    where: str
    source_dir: str
    work_dir: str
    destdir: str
    sysroot: portable.Sysroot | None
    """Set where the build links against a sysroot and is made portable after install."""

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str], on_line: Callable[[str], None]
    ) -> int:
        """Run argv in work_dir; return its exit code."""
        ...

    def describe(self) -> dict[str, object]:
        """What the record should say about where the build ran (image id, host)."""
        ...


def staging_dir(paths: CellPaths) -> Path:
    return paths.dir / STAGING_DIR


def start_fresh(paths: CellPaths) -> None:
    """Mark the cell incomplete and clear what an earlier (maybe interrupted) run left."""
    paths.dir.mkdir(parents=True, exist_ok=True)
    paths.incomplete_marker.write_text("a build of this cell started and has not finished\n")
    for leftover in (paths.install, paths.work, staging_dir(paths), paths.dbgsym):
        if leftover.exists():
            shutil.rmtree(leftover)
    paths.work.mkdir()
    staging_dir(paths).mkdir()
    paths.log.unlink(missing_ok=True)


def promote(paths: CellPaths, prefix: str) -> None:
    """The staged prefix becomes ``install/`` in one rename; then the cell is complete."""
    staged = staging_dir(paths) / prefix.lstrip("/")
    if not (staged / "bin").is_dir():
        raise BuildFailed(f"make install did not stage {prefix} (no {staged}/bin)")
    staged.replace(paths.install)
    debug = staging_dir(paths) / portable.DBGSYM_DIR
    if debug.is_dir():
        debug.replace(paths.dbgsym)
    shutil.rmtree(staging_dir(paths))


class BuildLog:
    """build.log on disk; the raw lines under --verbose; otherwise one progress line for the
    cell: its phase, the time so far and, from the last good build of the cell, what is left."""

    def __init__(self, path: Path, cell_id: str, *, previous: Path | None = None) -> None:
        self.path = path
        self.cell_id = cell_id
        self.phase: str = "preflight"
        self._file: IO[str] | None = None
        self._started = time.monotonic()
        self._last_progress = 0.0
        interactive = console.interactive()
        self._every = PROGRESS_EVERY_SECONDS_TTY if interactive else PROGRESS_EVERY_SECONDS
        self._last_seconds = last_build_seconds(previous) if previous is not None else None

    def __enter__(self) -> BuildLog:
        self._file = self.path.open("a", encoding="utf-8")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
        console.progress_end(self.cell_id)

    def begin(self, phase: Phase, command: str) -> None:
        self.phase = phase
        self._progress()
        self.write(f"### cpmatrix: {phase}: {command}")

    def write(self, line: str) -> None:
        assert self._file is not None
        self._file.write(line + "\n")
        self._file.flush()
        console.detail(line)
        if time.monotonic() - self._last_progress >= self._every:
            self._progress()

    def _progress(self) -> None:
        self._last_progress = time.monotonic()
        spent = self._last_progress - self._started
        console.progress(
            f"{self.cell_id}: {self.phase} [{progress_note(spent, self._last_seconds)}]",
            key=self.cell_id,
        )


def last_build_seconds(record: Path) -> float | None:
    """How long the last complete build of the cell took (its build.json), if there was one."""
    try:
        data = jsonfile.read(record, what="build record", error=CpmatrixError)
    except CpmatrixError:
        return None
    phases = data.get("phases")
    if data.get("result") != "ok" or not isinstance(phases, dict) or not phases:
        return None
    seconds = [v for v in phases.values() if isinstance(v, int | float)]
    return float(sum(seconds)) if seconds else None


def progress_note(spent: float, last: float | None) -> str:
    """``1m12s`` alone, or ``1m12s; last build 2m05s, ~53s left``."""
    so_far = console.elapsed(spent)
    if last is None:
        return so_far
    left = last - spent
    estimate = f"~{console.elapsed(left)} left" if left > 0 else "longer than last time"
    return f"{so_far}; last build {console.elapsed(last)}, {estimate}"


def _versions(runner: Runner, request: BuildRequest, cc: str) -> dict[str, str]:
    """Versions as the build sees them (first line of --version): ``cc`` is the C compiler
    configure uses (the cell's CC, else gcc, configure's first choice), then ccache and LLVM."""
    chain = base.toolchain(request.cell)
    names = {"cc": cc, "ccache": "ccache"}
    names.update((t.command, t.command) for t in chain.tools if t.command != "python3")
    found: dict[str, str] = {}
    for key, name in names.items():
        lines: list[str] = []
        quoted = shlex.quote(name)
        script = f"command -v {quoted} >/dev/null && {quoted} --version 2>&1 | head -n 1"
        if runner.run(["sh", "-c", script], env={}, on_line=lines.append) == 0 and lines:
            found[key] = lines[0].strip()
    return found


def _preflight(
    runner: Runner, request: BuildRequest, log: BuildLog, tools: Sequence[fx.Tool], cc: str
) -> dict[str, str]:
    log.begin("preflight", "checking " + ", ".join(t.command for t in tools))
    output: list[str] = []
    runner.run(["sh", "-c", base.preflight_script(tools)], env={}, on_line=output.append)
    for line in output:
        log.write(line)
    problems = base.preflight_problems(tools, "\n".join(output))
    if problems:
        raise base.preflight_error(request.cell, runner.where, problems)
    return _versions(runner, request, cc)


def execute(
    request: BuildRequest, runner: Runner, *, extra_tools: Sequence[fx.Tool] = ()
) -> BuildResult:
    """Run every phase; on success the install tree exists and INCOMPLETE is gone.

    The caller ran :func:`start_fresh` before making the directories visible to the runner.
    """
    paths, cell = request.paths, request.cell
    commands = base.commands(
        cell,
        source_dir=runner.source_dir,
        destdir=runner.destdir,
        jobs=request.jobs,
        sysroot=runner.sysroot,
        work_dir=runner.work_dir,
    )
    started_at, toolchain = _now(), {}
    phases: dict[str, float] = {}
    evidence: dict[str, dict[str, object]] = {}
    result = "interrupted"
    try:
        with BuildLog(paths.log, cell.id, previous=paths.record) as log:
            started = time.monotonic()
            cc = dict(commands.configure_env).get("CC", "gcc").split()[0]
            tools = (*base.required_tools(cell), *extra_tools)
            if runner.sysroot is not None:
                tools = (*tools, _sysroot_compiler(runner.sysroot))
            toolchain = _preflight(runner, request, log, tools, cc)
            phases["preflight"] = time.monotonic() - started
            for phase, argv, env in _phases(commands, paths):
                if phase == "portable":
                    evidence["binary"] = unstripped_evidence(paths, request)
                started = time.monotonic()
                log.begin(phase, base.shell_line(argv, env))
                code = runner.run(argv, env=env, on_line=log.write)
                phases[phase] = time.monotonic() - started
                if code != 0:
                    raise base.phase_failed(cell, phase, code, paths.log)
            if commands.finish is not None:
                evidence["portable"] = _portable_report(paths)
        promote(paths, commands.prefix)
    except BaseException as error:
        result = _result_of(error)
        raise
    else:
        result = record.OK
        paths.incomplete_marker.unlink()
    finally:
        written = _record(
            request, runner, commands, toolchain, phases, result, started_at, evidence
        )
        written.write(paths.record)
    return BuildResult(install=paths.install, record=written.dump(), phases=phases)


def _phases(
    commands: base.Commands, paths: CellPaths
) -> list[tuple[Phase, tuple[str, ...], dict[str, str]]]:
    """configure, (PGO) instrument and profile-task, compile, install, then (Linux) the
    portable finish with its scripts written into the work directory."""
    # Hash-checked .pyc files stay valid in an archive whose mtimes are normalised.
    install_env = {"SOURCE_DATE_EPOCH": str(source_date_epoch())}
    phases: list[tuple[Phase, tuple[str, ...], dict[str, str]]] = [
        ("configure", commands.configure, dict(commands.configure_env)),
        *((phase, argv, {}) for phase, argv in commands.pgo),
        ("compile", commands.make, {}),
        ("install", commands.install, install_env),
    ]
    if commands.finish is not None:
        for name, content in portable.script_files().items():
            (paths.work / name).parent.mkdir(parents=True, exist_ok=True)
            (paths.work / name).write_bytes(content)
        phases.append(("portable", commands.finish, {}))
    return phases


def unstripped_evidence(paths: CellPaths, request: BuildRequest) -> dict[str, object]:
    """What the portable phase's stripping removes, read from the staged tree first: the
    interpreter's ``_TAIL_CALL_*`` functions (builders.binary), for the tail-call check."""
    from cpmatrix.builders import binary

    cell = request.cell
    staged = staging_dir(paths) / base.prefix_for(cell).lstrip("/")
    name = layout.interpreter_in_tree(cell.version, cell.features, cell.profile, cell.platform.os)
    files = [staged / name, *sorted(staged.glob("lib/libpython*.so*"))]
    return binary.evidence([str(f) for f in files if f.is_file() and not f.is_symlink()])


def _sysroot_compiler(sysroot: portable.Sysroot) -> fx.Tool:
    return fx.Tool(sysroot.compiler, f"compiles against the sysroot {sysroot.path}", "")


def _portable_report(paths: CellPaths) -> dict[str, object]:
    """What the portable phase bundled, rewrote and split off (its JSON report)."""
    report = paths.work / portable.REPORT_NAME
    return jsonfile.read(report, what="portable phase's report", error=BuildFailed)


def _result_of(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    if isinstance(error, CpmatrixError):
        return f"failed: {error.message.splitlines()[0]}"
    return f"failed: {type(error).__name__}: {error}"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _record(
    request: BuildRequest,
    runner: Runner,
    commands: base.Commands,
    toolchain: dict[str, str],
    phases: dict[str, float],
    result: str,
    started: str,
    evidence: Mapping[str, Mapping[str, object]],
) -> record.BuildRecord:
    return record.BuildRecord(
        cell=request.cell.record(),
        result=result,
        source=request.source.record(),
        where=runner.describe(),
        command=record.Command(
            tool="configure", argv=commands.configure, env=dict(commands.configure_env)
        ),
        make=commands.make,
        install=commands.install,
        toolchain=toolchain,
        phases={name: round(seconds, 2) for name, seconds in phases.items()},
        fingerprint=dict(request.fingerprint),
        prefix=commands.prefix,
        jobs=request.jobs,
        started=started,
        finished=_now(),
        notes={
            "relocatable": "no --enable-shared: the interpreter finds its stdlib next to itself"
        },
        portable=evidence.get("portable", {}),
        binary=evidence.get("binary", {}),
    )
