"""The suites and how hard to run them: pure functions that compose the commands.

Every column runs with the same explicit pyperf settings (processes, values, warmups): pyperf
picks different defaults when it sees a JIT, and its t-test needs samples of equal size. The
processes are spread over rounds that take turns across the columns, each round appending its
runs to the suite's pyperf file (``--append``): load from elsewhere then lands on every column
rather than on whichever ran at the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from cpmatrix.bench.claims import IMPORT_MODULES
from cpmatrix.bench.importtime import MODULES
from cpmatrix.bench.places import PROGRAMS
from cpmatrix.util.errors import UsageError, did_you_mean
from cpmatrix.verify.shipping import self_contained


class Suite(StrEnum):
    SINGLE = "single-thread"
    SCALING = "scaling"
    STARTUP = "startup"
    RELEASE_CLAIMS = "release-claims"
    PYPERFORMANCE = "pyperformance"


DEFAULT_SUITES: tuple[Suite, ...] = (Suite.SINGLE, Suite.SCALING, Suite.STARTUP)
"""What runs without --suites: the quick suites of our own. pyperformance needs its wheelhouse
and takes longer; release-claims answers a question of its own."""


SUITE_PROGRAMS: dict[Suite, str] = {
    Suite.SINGLE: "single.py",
    Suite.SCALING: "scaling.py",
    Suite.STARTUP: "startup.py",
    Suite.RELEASE_CLAIMS: "release_claims.py",
}
PYPERF_COPIES_ENV = frozenset({"PYTHONPATH", "PYTHON_CPU_COUNT", "PYTHON_GIL"})
"""Variables pyperf passes to its worker processes by itself; others need --inherit-environ."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """How long to measure. ``fast`` fits a CI job; ``full`` is pyperf's own default effort."""

    name: str
    processes: int
    rounds: int
    values: int
    warmups: int
    import_repeat: int
    scaling_iterations: int
    timeout: float

    @property
    def processes_per_round(self) -> int:
        return max(1, self.processes // self.rounds)


FAST = Settings(
    name="fast",
    processes=3,
    rounds=3,
    values=3,
    warmups=1,
    import_repeat=10,
    scaling_iterations=2_000_000,
    timeout=900,
)
FULL = Settings(
    name="full",
    processes=20,
    rounds=4,
    values=3,
    warmups=1,
    import_repeat=40,
    scaling_iterations=4_000_000,
    timeout=3600,
)


def parse_suites(text: str) -> tuple[Suite, ...]:
    """``single-thread,startup`` → suites; empty means :data:`DEFAULT_SUITES`."""
    if not text.strip():
        return DEFAULT_SUITES
    chosen = []
    for word in (w.strip() for w in text.split(",") if w.strip()):
        try:
            chosen.append(Suite(word))
        except ValueError:
            raise UsageError(
                f"unknown suite {word!r}", hint=did_you_mean(word, tuple(s.value for s in Suite))
            ) from None
    return tuple(dict.fromkeys(chosen))


def pyperf_command(
    interpreter: str,
    suite: Suite,
    output: str,
    settings: Settings,
    env_names: Sequence[str],
    *,
    max_workers: int,
) -> list[str]:
    """The command that runs one round of a suite's pyperf program, appending to output."""
    command = [interpreter, str(PROGRAMS / SUITE_PROGRAMS[suite]), "--append", output]
    command += pyperf_options(settings, env_names)
    if suite is Suite.SCALING:
        command += ["--max-workers", str(max_workers)]
        command += ["--iterations", str(settings.scaling_iterations)]
    return command


def pyperf_options(settings: Settings, env_names: Sequence[str]) -> list[str]:
    """One round's pyperf options: the same explicit effort in every column."""
    options = [
        "--quiet",
        "--processes",
        str(settings.processes_per_round),
        "--values",
        str(settings.values),
        "--warmups",
        str(settings.warmups),
    ]
    inherit = sorted(set(env_names) - PYPERF_COPIES_ENV)
    if inherit:
        options.append(f"--inherit-environ={','.join(inherit)}")
    return options


def importtime_command(
    interpreter: str, output: str, settings: Settings, modules: Sequence[str] = MODULES
) -> list[str]:
    return [
        interpreter,
        str(PROGRAMS / "importtime.py"),
        output,
        str(settings.import_repeat),
        *modules,
    ]


def import_modules(chosen: Sequence[Suite]) -> tuple[str, ...]:
    """The modules whose import time the chosen suites measure: the startup suite's, which
    include the release claims' (so they are measured once), or only the claims' modules."""
    if Suite.STARTUP in chosen:
        return MODULES
    return IMPORT_MODULES if Suite.RELEASE_CLAIMS in chosen else ()


def gcpauses_command(interpreter: str, output: str, settings: Settings) -> list[str]:
    """One round of GC-pause runs (fresh interpreters), appended to output."""
    return [interpreter, str(PROGRAMS / "gcpauses.py"), output, str(settings.processes_per_round)]


def about_program() -> str:
    """programs/about.py with the verify probe's detection copied in: shipped by the runner as
    one file, since the probe is not in the mounted programs directory."""
    return self_contained(PROGRAMS / "about.py")


def about_command(interpreter: str, script: str, output: str) -> list[str]:
    return [interpreter, script, output]
