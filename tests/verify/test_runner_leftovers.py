"""A command run on the host leaves nothing behind: a test's subprocess orphaned in a session of
its own (as regrtest's workers leave one when a test hangs) is killed once the command ends."""

from __future__ import annotations

from pathlib import Path

from cpmatrix.verify.runner import HostPlace, processes_carrying

ESCAPE = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
    "print(os.environ['CPMATRIX_RUN_TOKEN'], child.pid, flush=True)\n"
)


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] not in ("Z", "X")


def test_a_process_that_escaped_the_process_group_is_killed_when_the_command_ends(
    tmp_path: Path,
) -> None:
    import sys

    done = HostPlace(tmp_path).run([sys.executable, "-c", ESCAPE], timeout=120)
    assert done.exit_code == 0 and not done.timed_out, done.output
    token, pid = done.output.split()
    assert not _alive(int(pid))
    assert processes_carrying(token) == []


def test_a_timed_out_command_and_its_escaped_child_both_go(tmp_path: Path) -> None:
    import sys

    hang = ESCAPE + "import time; time.sleep(300)\n"
    done = HostPlace(tmp_path).run([sys.executable, "-c", hang], timeout=15)
    assert done.timed_out
    token, pid = done.output.split()
    assert not _alive(int(pid)) and processes_carrying(token) == []


def test_an_interpreter_under_test_gets_sigint_even_when_we_were_started_with_it_ignored(
    tmp_path: Path,
) -> None:
    """Started with ``&`` from a script, we inherit SIGINT ignored; the interpreter we verify
    must not, or _thread.interrupt_main() does nothing and test_threading fails."""
    import subprocess
    import sys

    from cpmatrix.matrix.layout import PROJECT_ROOT

    parent = (
        "import signal, sys\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "from cpmatrix.verify.runner import HostPlace\n"
        "child = 'import signal as s; print(s.getsignal(s.SIGINT) is s.default_int_handler)'\n"
        f"done = HostPlace({str(tmp_path)!r}).run([sys.executable, '-c', child], timeout=60)\n"
        "print(done.output.strip(), signal.getsignal(signal.SIGINT) is signal.SIG_IGN)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", parent],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    child_default, parent_still_ignores = ran.stdout.split()
    assert child_default == "True", "the child's SIGINT is Python's handler, not ignored"
    assert parent_still_ignores == "True"
