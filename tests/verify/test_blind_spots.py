"""Issue 12's blind spots: claims that passed without evidence, judged on recorded observations
of real interpreters with exactly one thing changed (the fault under test)."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cpmatrix import verify
from cpmatrix.verify import evaluate, machineload, probe
from cpmatrix.verify.observe import ENV_TOGGLES, PLAIN_RUN, SECTION_TIMEOUTS, Observation
from cpmatrix.verify.report import Check
from cpmatrix.verify.runner import Target, needed_glibc

from .test_checks import CELL, DEBIAN, expectation, load

DISABLED_CHILD = "remote-debug: sys.remote_exec into a PYTHON_DISABLE_REMOTE_DEBUG=1 child"


def changed(name: str, edit: Any) -> Observation:
    """A recorded observation with one edit applied to a deep copy of its JSON."""
    data = copy.deepcopy(load(name).to_json())
    edit(data)
    return Observation.from_json(data)


def check(observation: Observation, claim: str, name: str, python: str | None = None) -> Check:
    return next(c for c in evaluate(observation, expectation(claim, python)) if c.name == name)


# -- item 5: no sentinel may be a value a check can match -------------------------------------


def test_the_absent_sentinel_is_not_a_string_a_substring_check_could_match() -> None:
    assert not isinstance(probe.ABSENT, str)


def test_a_gil_build_without_sys_abiflags_does_not_pass_the_abiflags_check_as_freethreaded() -> (
    None
):
    def no_abiflags(data: dict[str, Any]) -> None:
        data["facts"]["abiflags"] = probe.ABSENT

    observation = changed(CELL.format("default"), no_abiflags)
    found = check(observation, "freethreaded", "freethreaded: 't' in abiflags", "3.13.5")
    assert found.status != "pass"


# -- item 4: an error is never a refusal -------------------------------------------------------


@pytest.mark.parametrize(
    "remote",
    [
        {"error": "timed out after 120s", "output_tail": ""},
        {"error": "probe exited -11", "output_tail": "Segmentation fault"},
        {"enabled_child": "ran", "disabled_child": "error: OSError: [Errno 24] Too many files"},
        {"enabled_child": "ran", "disabled_child": "ProcessLookupError: no such process"},
    ],
)
def test_a_crash_or_hang_in_the_remote_section_fails_the_refusal_check(
    remote: dict[str, Any],
) -> None:
    def broken(data: dict[str, Any]) -> None:
        data["behaviour"]["remote"] = remote

    observation = changed(DEBIAN[0], broken)
    assert check(observation, "jit-off", DISABLED_CHILD).status == "fail"


def test_the_refusal_cpython_gives_passes_the_refusal_check() -> None:
    observation = load(DEBIAN[0])
    refused = str(observation.behaviour["remote"]["disabled_child"])
    assert refused.startswith("RuntimeError")
    assert check(observation, "jit-off", DISABLED_CHILD).status == "pass"


# -- item 2: a positive JIT claim without run-time evidence is not published -----------------


def test_a_313_jit_claim_with_no_optimizer_evidence_and_no_executors_fails() -> None:
    def blind(data: dict[str, Any]) -> None:
        states = [data["facts"]["runtime"], *data["toggled"].values()]
        for state in states:
            state["_testinternalcapi.get_optimizer()"] = (
                "error: No module named '_testinternalcapi'"
            )
            state["hot_loop.executors"] = 0

    observation = changed(CELL.format("jit"), blind)
    checks = evaluate(observation, expectation("jit", "3.13.5"))
    jit = {c.name: c.status for c in checks if c.group == "jit"}
    assert "inconclusive" not in jit.values()
    assert jit["jit: PYTHON_JIT=1"] == "fail"


def test_a_314_jit_claim_whose_is_enabled_errors_fails() -> None:
    def erroring(data: dict[str, Any]) -> None:
        for state in [data["facts"]["runtime"], *data["toggled"].values()]:
            state["sys._jit.is_enabled()"] = "error: SystemError: boom"

    observation = changed(DEBIAN[0], erroring)
    assert check(observation, "jit-off", "jit: PYTHON_JIT=1").status == "fail"


# -- item 11: measure what the user runs -------------------------------------------------------


def test_without_python_jit_is_judged_on_the_plain_run_the_user_gets() -> None:
    """A launcher that sets PYTHON_JIT=0 around the jit build: the isolated (-I) facts run
    still shows the optimizer on, the plain run through the launcher shows it off."""

    def launcher_turns_it_off(data: dict[str, Any]) -> None:
        data["toggled"][PLAIN_RUN] = copy.deepcopy(data["toggled"]["PYTHON_JIT=0"])

    observation = changed(CELL.format("jit"), launcher_turns_it_off)
    assert check(observation, "jit", "jit: without PYTHON_JIT", "3.13.5").status == "fail"


# -- issue 15: a hung interpreter is given up on after the first timeout ----------------------


def fake_interpreter(directory: Path, body: str) -> Path:
    """A real executable standing in for an interpreter (a shell script, like a launcher)."""
    path = directory / "bin" / "python3"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def test_a_hung_interpreter_is_given_up_on_after_the_first_timeout_with_the_section_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in SECTION_TIMEOUTS:
        monkeypatch.setitem(SECTION_TIMEOUTS, name, 1)
    monkeypatch.setattr(machineload, "saturated", lambda: False)
    hung = fake_interpreter(tmp_path, "exec sleep 600")
    report = verify.run(Target(interpreter=str(hung)), expectation("jit"), tiers=("smoke",))
    runs = report.observation["runs"]
    assert [run["section"] for run in runs] == ["facts"]
    assert runs[0]["timed_out"] and "cores" in runs[0]["load"]
    assert report.failed and all("facts" in c.observed for c in report.failed)
    assert "stdlib tests (smoke)" in {c.name for c in report.failed}


def test_on_a_saturated_machine_a_timed_out_section_is_measured_again_with_twice_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow machine gets a second chance before a timeout becomes a hang; the second timeout
    still is one, and the failure names the limit and the load it met."""
    for name in SECTION_TIMEOUTS:
        monkeypatch.setitem(SECTION_TIMEOUTS, name, 1)
    monkeypatch.setattr(machineload, "saturated", lambda: True)
    hung = fake_interpreter(tmp_path, "exec sleep 600")
    report = verify.run(Target(interpreter=str(hung)), expectation("jit"), tiers=())
    runs = report.observation["runs"]
    assert [run["section"] for run in runs] == ["facts", "facts"]
    assert all(run["timed_out"] for run in runs)
    assert any("timed out after 2s" in c.observed and "load" in c.observed for c in report.failed)


# -- item 8: an unexpected exception is that cell's failure, not a traceback ----------------


def test_an_unexpected_exception_while_judging_becomes_a_failed_check(tmp_path: Path) -> None:
    odd = fake_interpreter(tmp_path, """echo '{"version_info": [3, "x", 1]}'""")
    report = verify.run(Target(interpreter=str(odd)), expectation("default"), tiers=())
    assert not report.passed
    (failure,) = report.failed
    assert failure.name == "verification" and "ValueError" in failure.observed


def test_the_pipeline_step_turns_that_failure_into_verification_failed(tmp_path: Path) -> None:
    from cpmatrix.matrix import matrixfile
    from cpmatrix.matrix.layout import CellPaths
    from cpmatrix.util.errors import VerificationFailed

    cell = matrixfile.load().cell(python="3.13", variant="default", platform="linux-x86_64")
    paths = CellPaths.of(cell.id, tmp_path)
    fake_interpreter(paths.install, """echo '{"version_info": [3, "x", 1]}'""")
    (paths.install / "bin" / "python3").rename(paths.install / "bin" / "python3.13")
    with pytest.raises(VerificationFailed, match="verification"):
        verify.verify_built_cell(cell, paths, tiers=())


# -- item 11: a launcher's tree is judged by the ELF files in it ------------------------------


def test_the_glibc_a_launcher_needs_is_read_from_the_binaries_in_its_tree(tmp_path: Path) -> None:
    real = Path(os.path.realpath(sys.executable))
    tree = tmp_path / "tree"
    (tree / "bin").mkdir(parents=True)
    shutil.copy2(real, tree / "bin" / "python3.13-real")
    launcher = fake_interpreter(tree, 'exec "$(dirname "$0")/python3.13-real" "$@"')
    wanted = needed_glibc(tree / "bin" / "python3.13-real")
    assert wanted is not None
    assert needed_glibc(launcher) == wanted


def test_run_time_evidence_that_errored_is_measured_again(tmp_path: Path) -> None:
    """The first answer of each run-time section errors, the second does not."""
    once = f"{tmp_path}/once-$PYTHON_JIT-$PYTHON_GIL-$PYTHON_DISABLE_REMOTE_DEBUG"
    flaky = fake_interpreter(
        tmp_path,
        f"""case "$3" in
runtime) if [ -e {once} ]; then echo '{{"sys._jit.is_enabled()": true}}'
         else touch {once}; echo '{{"sys._jit.is_enabled()": "error: X"}}'; fi;;
*) echo '{{"version_info": [3, 14, 0]}}';;
esac""",
    )
    observation = verify.observe_target(Target(interpreter=str(flaky)), behaviour=False)
    assert observation.plain == {"sys._jit.is_enabled()": True, "remeasured": True}
    assert [run["section"] for run in observation.runs].count("runtime") == 2 * (
        len(ENV_TOGGLES) + 1
    )


# -- item 1: the tail-call interpreter proven by the binary, not one build string ---------------

TAILCALL_FUNCTIONS = "tailcall: one function per instruction in the binary"
TAILCALL_HEADER = "tailcall: pyconfig.h _Py_TAIL_CALL_INTERP agrees with sysconfig"


def tailcall_observation(
    sysconfig: int, header: int, functions: int | None, recorded: int | None = None
) -> Observation:
    """Debian's 3.15 (a gcc build, no tail calls) with the tail-call evidence set as given."""

    def edit(data: dict[str, Any]) -> None:
        facts = data["facts"]
        facts["config_vars"]["_Py_TAIL_CALL_INTERP"] = sysconfig
        facts["pyconfig_h"] = {"path": "pyconfig.h", "values": {"_Py_TAIL_CALL_INTERP": header}}
        facts["binary"] = {"files": {}, "tail_call_functions": functions}
        if recorded is not None:
            facts["recorded"] = {"tail_call_functions": recorded}

    return changed(DEBIAN[1], edit)


@pytest.mark.parametrize(
    ("sysconfig", "header", "functions", "recorded", "claim", "failing"),
    [
        (1, 1, 231, None, "jit-off+tailcall", set()),
        (1, 0, 231, None, "jit-off+tailcall", {TAILCALL_HEADER}),
        (0, 1, 0, None, "jit-off", {TAILCALL_HEADER}),
        (1, 1, 0, None, "jit-off+tailcall", {TAILCALL_FUNCTIONS}),
        (0, 0, 231, None, "jit-off", {TAILCALL_FUNCTIONS}),
        (1, 1, None, None, "jit-off+tailcall", {TAILCALL_FUNCTIONS}),
        (1, 1, None, 231, "jit-off+tailcall", set()),
        (0, 0, None, None, "jit-off", set()),
    ],
)
def test_tailcall_needs_agreeing_build_strings_and_its_functions_in_the_binary(
    sysconfig: int,
    header: int,
    functions: int | None,
    recorded: int | None,
    claim: str,
    failing: set[str],
) -> None:
    observation = tailcall_observation(sysconfig, header, functions, recorded)
    checks = evaluate(observation, expectation(claim))
    assert {c.name for c in checks if c.group == "tailcall" and c.status == "fail"} == failing


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler to make real ELF files")
def test_the_binary_reader_counts_tail_call_functions_in_a_real_elf_file(tmp_path: Path) -> None:
    from cpmatrix.builders import binary

    source = tmp_path / "interp.c"
    source.write_text(
        "static int _TAIL_CALL_LOAD_FAST(int x) { return x + 1; }\n"
        "static int _TAIL_CALL_STORE_FAST(int x) { return x + 2; }\n"
        "int (*table[2])(int) = {_TAIL_CALL_LOAD_FAST, _TAIL_CALL_STORE_FAST};\n"
        "int main(void) { return table[0](1); }\n"
    )
    built = tmp_path / "interp"
    subprocess.run(["cc", "-O2", "-o", str(built), str(source)], check=True)
    assert binary.tail_call_functions(built.read_bytes()) == 2
    subprocess.run(["strip", str(built)], check=True)
    assert binary.tail_call_functions(built.read_bytes()) is None
    host = binary.evidence(binary.interpreter_files())
    assert host["tail_call_functions"] in (0, None)  # this host's python has no tail calls


def test_a_cell_whose_interpreter_is_missing_fails_with_the_path_named(tmp_path: Path) -> None:
    from cpmatrix.matrix import matrixfile
    from cpmatrix.matrix.layout import CellPaths

    cell = matrixfile.load().cell(python="3.13", variant="default", platform="linux-x86_64")
    paths = CellPaths.of(cell.id, tmp_path)
    (paths.install / "bin").mkdir(parents=True)
    report = verify.verify_cell(cell, paths, tiers=())
    (failure,) = report.failed
    assert failure.name == "probe" and "python3.13" in failure.detail


def test_the_report_says_how_each_section_ran_the_interpreter(tmp_path: Path) -> None:
    crasher = fake_interpreter(tmp_path, "kill -SEGV $$")
    report = verify.run(Target(interpreter=str(crasher)), expectation("default"), tiers=())
    how = report.to_json()["observation"]["how"]
    assert "-s" in how["runtime"] and "launcher" in how["runtime"]
    assert "-I" in how["facts"]
