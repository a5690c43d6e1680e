"""The team-work proof's scripts, composed without running them (the real run:
test_teamwork_real.py)."""

from __future__ import annotations

import subprocess

from cpmatrix.artifacts import teamwork

TOP = "cpython-3.13.5-freethreaded-linux-x86_64"


def test_the_archive_is_unpacked_into_a_path_with_a_space_and_a_second_one_for_embedding() -> None:
    steps = teamwork.steps(f"{TOP}.tar.gz", top=TOP, interpreter="bin/python3.13t")
    assert [s.name for s in steps] == ["unpack", "scripts", "sdists", "embed", "cpython-tests"]
    assert f"/cpmatrix-artifact/{TOP}-tests.tar.gz" in steps[4].script
    assert "su team -c" in steps[4].script and "test_subprocess" in steps[4].script
    assert "'/opt/team space'" in steps[0].script and "/opt/embed" in steps[0].script
    assert f"'/opt/team space/{TOP}/bin/python3.13t' -m pip install" in steps[2].script
    assert "--no-binary :all:" in steps[2].script and "--no-index" in steps[2].script
    assert f"/opt/embed/{TOP}/bin/python3.13t-config" in steps[3].script
    assert "python3.13t-config --includes" in steps[1].script


def test_every_script_is_valid_shell() -> None:
    for step in teamwork.steps(f"{TOP}.tar.gz", top=TOP, interpreter="bin/python3.13t"):
        done = subprocess.run(["bash", "-n", "-c", step.script], capture_output=True, text=True)
        assert done.returncode == 0, (step.name, done.stderr)


def test_a_failed_step_records_the_end_of_its_output() -> None:
    output = "\n".join(f"line {i}" for i in range(40))
    failed = teamwork.Outcome(step="sdists", passed=False, seconds=1.234, output=output)
    assert failed.record() == {
        "step": "sdists",
        "passed": False,
        "seconds": 1.2,
        "output": "\n".join(f"line {i}" for i in range(28, 40)),
    }
    passed = teamwork.Outcome(step="embed", passed=True, seconds=2.0, output=output)
    assert "output" not in passed.record()
