"""Run the probe's sections in a place and gather what they saw into one :class:`Observation`.

An observation is gathered once per interpreter and can then be judged against any number of
expectations (the cross-verification matrix does exactly that). Every section has its own
timeout; a section that crashes or hangs is recorded with its exit code and output, and the
others still run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpmatrix.builders import binary
from cpmatrix.engine.containers import Completed
from cpmatrix.features import Version, proofs
from cpmatrix.util import console, jsonfile
from cpmatrix.util.errors import VerificationFailed
from cpmatrix.verify import behaviour as behaviour_script
from cpmatrix.verify import machineload, probe
from cpmatrix.verify.runner import Place, Target

ENV_TOGGLES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        {proof.toggle for proof in proofs.RUNTIME_PROOFS.values()}
        | {(proofs.JIT_ENV, "0"), (proofs.JIT_ENV, "1")}
    )
)
"""Every environment switch a proof needs; the ``runtime`` section runs once under each."""

SECTION_TIMEOUTS: dict[str, float] = {
    "facts": 180,
    "binary": 120,
    "runtime": 120,
    "threads": 480,  # up to 2 witness attempts of 150 s, then the speed (information)
    "remote": 120,
    "venv": 600,
    "interpreters": 180,
    "relocate": 300,
}
BEHAVIOUR_SECTIONS = ("threads", "remote", "venv", "interpreters", "relocate")
PLAIN_RUN = "plain (-s, no PYTHON_*)"
"""The run-time state as the user gets it: the interpreter as given (a launcher included, with
whatever it sets), ``-s`` only, and no PYTHON_* variable from cpmatrix. The ``facts`` section
runs with ``-I``, which ignores the PYTHON_* a launcher sets, so it never judges run-time state."""


HOW_EACH_SECTION_RUNS = {
    "facts": "the interpreter as given, -I: build facts, blind to PYTHON_* and the user site",
    "binary": "the interpreter as given, -I: its executable and libpython read from inside",
    "runtime": "the interpreter as given, -s, no PYTHON_* from cpmatrix (a launcher's count): "
    "the plain run judges the state the user gets; each toggled run adds one PYTHON_*",
    "behaviour": "the interpreter as given, -I; child processes start sys.executable, the "
    "real binary behind any launcher",
}
"""Written into every report: what "the interpreter as the user runs it" means per section."""

PROBE_SCRIPTS = (probe, behaviour_script, binary)
"""The self-contained scripts that run inside the interpreter under test."""


def probe_digests() -> dict[str, str]:
    """sha256 of each probe script, by name: every recording in tests/data/probes carries the
    digests of the scripts that made it, so a changed probe with stale recordings fails a fast
    test, script by script (a recording judged on its facts alone need not be re-made when
    only the behaviour script changed)."""
    return {
        script.__name__.rpartition(".")[2]: hashlib.sha256(script.source().encode()).hexdigest()
        for script in PROBE_SCRIPTS
    }


def toggle_key(toggle: tuple[str, str]) -> str:
    return f"{toggle[0]}={toggle[1]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """Everything the probe saw of one interpreter, as plain JSON-able data."""

    target: str
    facts: dict[str, Any]
    toggled: dict[str, dict[str, Any]]
    behaviour: dict[str, dict[str, Any]]
    runs: list[dict[str, Any]] = field(default_factory=list)
    hung: str | None = None
    """The section in which the interpreter hung (no later section ran), or None."""

    @property
    def plain(self) -> dict[str, Any]:
        """The run-time state of the :data:`PLAIN_RUN`."""
        return self.toggled.get(PLAIN_RUN, {"error": "the plain run-time section did not run"})

    @property
    def version(self) -> Version | None:
        info = self.facts.get("version_info")
        if not isinstance(info, list) or len(info) != 3:
            return None
        return Version(int(info[0]), int(info[1]), int(info[2]))

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "facts": self.facts,
            "toggled": self.toggled,
            "behaviour": self.behaviour,
            "runs": self.runs,
            "hung": self.hung,
            "how": HOW_EACH_SECTION_RUNS,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Observation:
        return cls(
            target=str(data["target"]),
            facts=dict(data["facts"]),
            toggled=dict(data["toggled"]),
            behaviour=dict(data["behaviour"]),
            runs=list(data.get("runs", [])),
            hung=data.get("hung"),
        )

    @classmethod
    def load(cls, path: Path) -> Observation:
        return cls.from_json(jsonfile.read(path, what="observation", error=VerificationFailed))


def _all_expected_modules() -> list[str]:
    names: dict[str, None] = {}
    for module in proofs.EXPECTED_MODULES:
        names[module.name] = None
    return list(names)


class Prober:
    """Runs probe sections for one target in one place.

    After the first section that times out the interpreter is taken to hang: every later
    section is recorded as not run, naming that section, instead of waiting out its own timeout.
    """

    def __init__(self, place: Place, target: Target) -> None:
        self.place = place
        self.target = target
        self.scripts = {
            "probe": place.put("cpmatrix_probe.py", probe.source().encode()),
            "behaviour": place.put("cpmatrix_behaviour.py", behaviour_script.source().encode()),
            "binary": place.put("cpmatrix_binary.py", binary.source().encode()),
        }
        self.runs: list[dict[str, Any]] = []
        self.hung: str | None = None

    def section(
        self, name: str, *args: str, env: dict[str, str] | None = None, isolated: bool = True
    ) -> dict[str, Any]:
        """One probe section; ``isolated=False`` lets PYTHON_* variables through (-s only)."""
        if self.hung is not None:
            return {"error": f"not run: the interpreter hung in section {self.hung}"}
        flags = ["-I"] if isolated else ["-s"]
        script = self.scripts[_script(name)]
        argv = [self.target.interpreter, *flags, script, name, *args]
        limit = SECTION_TIMEOUTS[name]
        ran = self._run(argv, env, name, args, limit)
        if ran.timed_out and machineload.saturated():  # a timeout is a hang only on a machine not
            limit *= 2  # saturated: measured once more with twice the limit
            ran = self._run(argv, env, name, args, limit)
        if ran.timed_out:
            self.hung = name
        return _parse(ran.output, ran.exit_code, ran.timed_out, limit, name)

    def _run(
        self,
        argv: list[str],
        env: dict[str, str] | None,
        name: str,
        args: tuple[str, ...],
        limit: float,
    ) -> Completed:
        ran = self.place.run(argv, env=env, timeout=limit)
        record: dict[str, Any] = {"section": name, "args": list(args), "env": env or {}}
        record.update(exit=ran.exit_code, timed_out=ran.timed_out, seconds=round(ran.seconds, 2))
        if ran.timed_out:
            record["load"] = machineload.load_words()
        self.runs.append(record)
        return ran

    def runtime(self, env: dict[str, str] | None = None) -> dict[str, Any]:
        """The run-time state; measured once more when its JIT evidence errored."""
        state = self.section("runtime", env=env, isolated=False)
        if "error" not in state and _errored(state):
            state = {**self.section("runtime", env=env, isolated=False), "remeasured": True}
        return state


def _script(section: str) -> str:
    if section in BEHAVIOUR_SECTIONS:
        return "behaviour"
    return "binary" if section == "binary" else "probe"


def _errored(state: dict[str, Any]) -> bool:
    return any(isinstance(v, str) and v.startswith("error") for v in state.values())


def _parse(
    output: str, exit_code: int, timed_out: bool, timeout: float, section: str
) -> dict[str, Any]:
    lines = [line for line in output.strip().splitlines() if line.startswith("{")]
    if timed_out:
        why = f"timed out after {timeout:g}s in section {section} ({machineload.load_words()})"
        return {"error": why, "output_tail": output[-800:]}
    if exit_code != 0 or not lines:
        return {"error": f"probe exited {exit_code}", "output_tail": output[-800:]}
    try:
        return jsonfile.parse(
            lines[-1].encode(), where="the probe's output", error=VerificationFailed
        )
    except VerificationFailed as error:
        return {"error": error.message, "output_tail": output[-800:]}


def gather(place: Place, target: Target, *, behaviour: bool = True) -> Observation:
    """Probe the target: facts, the run-time state under each switch, then behaviour."""
    prober = Prober(place, target)
    console.progress(f"verify: probing {target.label}")
    facts = prober.section("facts", "--modules", ",".join(_all_expected_modules()))
    if "error" not in facts:
        facts["binary"] = prober.section("binary")
    toggled: dict[str, dict[str, Any]] = {}
    for toggle in ENV_TOGGLES:
        toggled[toggle_key(toggle)] = prober.runtime(env=dict([toggle]))
    toggled[PLAIN_RUN] = prober.runtime()
    found: dict[str, dict[str, Any]] = {}
    if behaviour and "error" not in facts:
        cores = int(facts.get("cores", 1))
        for name in BEHAVIOUR_SECTIONS:
            console.progress(f"verify: {name} ({target.label})")
            match name:
                case "threads":  # the witness needs no second core: the OS interleaves them
                    found[name] = prober.section(name, str(max(2, min(cores, 4))))
                case "venv" | "relocate":
                    found[name] = prober.section(name, f"{place.scratch}/{name}")
                case _:
                    found[name] = prober.section(name)
    return Observation(
        target=target.label,
        facts=facts,
        toggled=toggled,
        behaviour=found,
        runs=prober.runs,
        hung=prober.hung,
    )
