"""The behaviour script's load-independent parts on this host's own interpreter (a GIL build):
the free-threading witness, the remote-exec child's turn count, and the wall limits that say
"too slow here" instead of judging."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from loadkit import saturated

from cpmatrix.verify import behaviour, freethreading
from cpmatrix.verify.checks import remote_exec_check
from cpmatrix.verify.health import venv_check


def witness_here(tmp_path: Path) -> dict[str, object]:
    script = tmp_path / "behaviour.py"
    script.write_text(behaviour.source(), encoding="utf-8")
    argv = [sys.executable, "-I", str(script), "witness"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=True)
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.skipif(
    not getattr(sys, "_is_gil_enabled", lambda: True)(), reason="needs a GIL interpreter"
)
def test_a_gil_interpreter_never_completes_the_handshake_quiet_or_saturated(
    tmp_path: Path,
) -> None:
    quiet = witness_here(tmp_path)
    with saturated():
        busy = witness_here(tmp_path)
    for found in (quiet, busy):
        assert found["outcome"] == "serialized" and found["completed"] == 0, found
        waits = found["longest_wait_cpu"]
        assert isinstance(waits, list) and max(waits) >= freethreading.STALL_CPU_SECONDS


def child(tmp_path: Path, *, run_script_after: int | None) -> tuple[subprocess.Popen[str], Path]:
    """The remote-exec child, told that the script was sent; a stand-in debugger creates the
    marker after some turns (as a remote script would) or never."""
    marker, sent = tmp_path / "x.ran", tmp_path / "x.sent"
    sent.touch()
    program = behaviour.CHILD
    if run_script_after is not None:
        program = program.replace(
            "    time.sleep(0.01)",
            f"    time.sleep(0.01)\n    if turns == {run_script_after}: open(sys.argv[1], 'w')",
        )
    argv = [sys.executable, "-c", program, str(marker), str(sent)]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.readline()
    return process, marker


@pytest.mark.parametrize(
    ("after", "outcome"),
    [
        (3, "ran"),
        (None, f"accepted but the script never ran ({behaviour.REMOTE_TURNS} turns of the child)"),
    ],
)
def test_a_remote_script_that_never_runs_is_told_by_the_childs_turns_not_a_clock(
    tmp_path: Path, after: int | None, outcome: str
) -> None:
    process, marker = child(tmp_path, run_script_after=after)
    try:
        assert behaviour._turns_until_ran(process, marker) == outcome
    finally:
        process.kill()
        process.wait()


def test_a_wall_limit_is_too_slow_here_never_a_verdict() -> None:
    slow = behaviour._step([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.5)
    assert slow["ok"] is None and slow["tail"].startswith(behaviour.TOO_SLOW)
    check = venv_check({"venv": slow})
    assert check.status == "inconclusive" and "too slow here" in check.observed
    words = "too slow here: not done after 90 s (load 5.1 on 2 cores): the child made too few turns"
    assert remote_exec_check("r", "g", words, True).status == "inconclusive"
    assert remote_exec_check("r", "g", "accepted but the script never ran", True).status == "fail"


@pytest.mark.parametrize(
    ("ends", "outcome"),
    [
        ([("", 100), ("", 100)], "parallel"),
        ([("serialized", 0), ("stopped", 0)], "serialized"),
        ([("stopped", 3), ("too-slow", 3)], "too-slow"),
        ([("error: BrokenBarrierError: ", 0), ("never ended", 0)], "error: BrokenBarrierError: "),
        ([("", 100), ("never ended", 0)], "never ended"),
    ],
)
def test_only_two_threads_that_played_every_round_are_parallel(
    ends: list[tuple[str, int]], outcome: str
) -> None:
    """A thread that crashed or never ended is named; it never reads as a completed handshake
    (a crash once left both threads' results at their initial values)."""
    assert freethreading._outcome(ends, 100).startswith(outcome)
