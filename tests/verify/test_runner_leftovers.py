"""A command run on the host leaves nothing behind: a test's subprocess orphaned in a session of
its own (as regrtest's workers leave one when a test hangs) is killed once the command ends."""

from __future__ import annotations

import time
from pathlib import Path

from cpmatrix.verify.runner import HostPlace, processes_carrying

ESCAPE = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
    "print(os.environ['CPMATRIX_RUN_TOKEN'], child.pid, flush=True)\n"
)


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def test_a_process_that_escaped_the_process_group_is_killed_when_the_command_ends(
    tmp_path: Path,
) -> None:
    import sys

    done = HostPlace(tmp_path).run([sys.executable, "-c", ESCAPE], timeout=120)
    assert done.exit_code == 0 and not done.timed_out, done.output
    token, pid = done.output.split()
    deadline = time.monotonic() + 10
    while _alive(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(int(pid))
    assert processes_carrying(token) == []


def test_a_timed_out_command_and_its_escaped_child_both_go(tmp_path: Path) -> None:
    import sys

    hang = ESCAPE + "import time; time.sleep(300)\n"
    done = HostPlace(tmp_path).run([sys.executable, "-c", hang], timeout=15)
    assert done.timed_out
    token, pid = done.output.split()
    assert not _alive(int(pid)) and processes_carrying(token) == []
