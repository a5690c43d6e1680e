"""Verification of real interpreters: the five real 3.13.5 builds against each other's
claims, Debian unstable's 3.14 / 3.15 through the real ``invoke verify --image``, the smoke
tier on a real build, and the faults (no ptrace rights, a hang, a crash)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cpmatrix import verify
from cpmatrix.features import debian
from cpmatrix.matrix import layout
from cpmatrix.verify import probe
from cpmatrix.verify.checks import THREADS_CHECK
from cpmatrix.verify.observe import SECTION_TIMEOUTS, Observation
from cpmatrix.verify.report import Expectation
from cpmatrix.verify.runner import Target, local_target

from .test_checks import (
    BUILT,
    FREETHREADED,
    JIT_ABSENT,
    JIT_NOT_ON_BY_DEFAULT,
    JIT_NOT_THE_INTERPRETER,
    REMOTE_DEBUG_ON,
    TAILCALL_ABSENT,
    expectation,
    expected_failures,
)

PROJECT = Path(__file__).resolve().parent.parent.parent
VARIANTS = BUILT


@pytest.fixture(scope="session")
def debian_image(docker_engine: None) -> str:
    from cpmatrix.engine.image import debian_image_with

    return debian_image_with(debian.UNSTABLE_SUITE, debian.UNSTABLE_PACKAGES).tag


@pytest.fixture(scope="session")
def built_observations(built_cells: dict[str, Any]) -> dict[str, Observation]:
    """One probe run (behaviour included) per real interpreter, judged many times below."""
    found = {}
    for name in VARIANTS:
        built = built_cells[name]
        cell, paths = built.cell, built.paths
        exe = paths.install / layout.interpreter_in_tree(
            cell.version, cell.features, cell.profile, cell.platform.os
        )
        found[name] = verify.observe_target(local_target(exe, description=cell.id))
    return found


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("built", VARIANTS)
def test_each_real_build_fails_exactly_the_claims_that_differ(
    built_observations: dict[str, Observation], built: str
) -> None:
    observation = built_observations[built]
    for claimed in VARIANTS:
        checks = verify.evaluate(observation, expectation(claimed, "3.13.5"))
        failing = {c.name for c in checks if c.status == "fail"}
        assert failing == expected_failures(built, claimed), (built, claimed)
        if built == claimed:
            assert [c for c in checks if c.status == "inconclusive"] == []


@pytest.mark.docker
@pytest.mark.slow
def test_smoke_tier_passes_on_a_real_build_and_writes_the_reports(
    built_cells: dict[str, Any],
) -> None:
    built = built_cells["default"]
    cell, paths = built.cell, built.paths
    report = verify.verify_cell(cell, paths, tiers=("smoke",))
    assert report.passed, report.table()
    smoke = next(c for c in report.checks if c.name == "stdlib tests (smoke)")
    assert smoke.status == "pass"
    written = json.loads(paths.verify_report.read_text())
    assert written["passed"] is True and written["expectation"]["variant"] == "default"
    assert paths.junit.read_text().lstrip().startswith("<?xml")
    assert "<testcase" in (paths.dir / "stdlib-smoke.junit.xml").read_text()


def invoke_verify(
    image: str, python: str, expect: str, build_dir: Path
) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "CPMATRIX_BUILD_DIR": str(build_dir)}
    argv = [sys.executable, "-m", "invoke", "verify", "--image", image]
    argv += ["--interpreter", f"/usr/bin/python{python}", "--expect", expect, "--tier", "none"]
    done = subprocess.run(argv, cwd=PROJECT, env=env, capture_output=True, text=True, check=False)
    report_line = [line for line in done.stdout.splitlines() if line.startswith("report: ")]
    assert report_line, done.stdout + done.stderr
    report = json.loads(Path(report_line[-1].removeprefix("report: ")).read_text())
    return done.returncode, report


DEBIAN_CLAIMS = {
    "jit-off": set(),
    "default": JIT_ABSENT,
    "jit": JIT_NOT_ON_BY_DEFAULT,
    "jit-interpreter": JIT_NOT_THE_INTERPRETER,
    "freethreaded": JIT_ABSENT | FREETHREADED,
    "tailcall": JIT_ABSENT | TAILCALL_ABSENT,
    "noremotedebug": JIT_ABSENT | REMOTE_DEBUG_ON,
}


@pytest.mark.docker
@pytest.mark.parametrize("python", ["3.14", "3.15"])
@pytest.mark.parametrize("claim", list(DEBIAN_CLAIMS))
def test_debian_unstable_through_invoke_verify_image(
    debian_image: str, python: str, claim: str, tmp_path: Path
) -> None:
    code, report = invoke_verify(debian_image, python, claim, tmp_path)
    macro = "Py_TAIL_CALL_INTERP" if python == "3.14" else "_Py_TAIL_CALL_INTERP"
    wanted = {name.format(macro=macro) for name in DEBIAN_CLAIMS[claim]}
    failing = {c["name"] for c in report["checks"] if c["status"] == "fail"}
    assert failing == wanted
    assert code == (0 if not wanted else 6)
    assert report["observation"]["facts"]["version"].startswith(python)


@pytest.mark.docker
def test_remote_exec_without_ptrace_rights_is_inconclusive_never_a_pass(
    debian_image: str,
) -> None:
    target = Target(interpreter="/usr/bin/python3.14", image=debian_image, cap_add=())
    observation = verify.observe_target(target)
    assert str(observation.behaviour["remote"]["enabled_child"]).startswith("PermissionError")
    for claim in ("jit-off", "noremotedebug"):
        checks = verify.evaluate(observation, expectation(claim))
        remote = next(c for c in checks if c.name == "remote-debug: sys.remote_exec into a child")
        assert remote.status == "inconclusive"
        assert "ptrace" in remote.detail


@pytest.mark.docker
def test_a_hanging_section_fails_itself_and_every_later_section_names_it(
    debian_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(SECTION_TIMEOUTS, "threads", 1)
    target = Target(interpreter="/usr/bin/python3.14", image=debian_image)
    report = verify.run(target, expectation("jit-off"), tiers=())
    threads = next(c for c in report.checks if c.name == THREADS_CHECK)
    assert threads.status == "fail" and "timed out" in threads.observed
    later = [c for c in report.failed if c is not threads]
    assert later and all("hung in section threads" in c.observed for c in later)
    assert report.observation["runs"][-1]["section"] == "threads"


@pytest.mark.docker
def test_a_launcher_is_measured_as_the_user_runs_it(debian_image: str, tmp_path: Path) -> None:
    """A launcher that turns the JIT on around Debian's jit-off build: the plain run goes
    through it, so the build no longer passes as jit-off (what the user gets is on)."""
    from cpmatrix.engine.containers import Mount

    launcher = tmp_path / "python3.14"
    launcher.write_text('#!/bin/sh\nPYTHON_JIT=1 exec /usr/bin/python3.14 "$@"\n')
    launcher.chmod(0o755)
    target = Target(
        interpreter="/launch/python3.14",
        image=debian_image,
        mounts=(Mount(source=tmp_path, target="/launch", read_only=True),),
    )
    observation = verify.observe_target(target, behaviour=False)
    assert observation.plain["sys._jit.is_enabled()"] is True
    checks = verify.evaluate(observation, expectation("jit-off"))
    failing = {c.name for c in checks if c.status == "fail"}
    assert "jit: without PYTHON_JIT" in failing


def test_a_crashing_interpreter_is_one_failed_check_in_a_complete_report(tmp_path: Path) -> None:
    crasher = tmp_path / "bin" / "python3"
    crasher.parent.mkdir()
    crasher.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crasher.chmod(0o755)
    report = verify.run(
        Target(interpreter=str(crasher)), Expectation(features=frozenset()), tiers=("smoke",)
    )
    assert not report.passed
    assert [c.name for c in report.failed] == ["probe"]
    assert "probe exited" in report.failed[0].observed


@pytest.mark.docker
@pytest.mark.slow
def test_the_pipeline_step_refuses_a_mislabelled_build(
    built_cells: dict[str, Any], tmp_path: Path
) -> None:
    """The jit cell's claim against the default build's install tree: VerificationFailed,
    naming the checks, and a verify.json that says failed (so it is never packaged)."""
    from cpmatrix.matrix.layout import CellPaths
    from cpmatrix.util.errors import VerificationFailed

    default, jit = built_cells["default"], built_cells["jit"]
    paths = CellPaths.of(jit.cell.id, tmp_path)
    paths.dir.mkdir(parents=True)
    (paths.dir / "install").symlink_to(default.paths.install, target_is_directory=True)
    with pytest.raises(VerificationFailed) as raised:
        verify.verify_built_cell(jit.cell, paths, tiers=())
    assert "jit: build defines (PY_CORE_CFLAGS)" in raised.value.message
    assert json.loads(paths.verify_report.read_text())["passed"] is False


def test_the_host_python_is_judged_by_its_own_version() -> None:
    """This host's own python, probed for real: 3.11 here and in one unit leg of tests.yml,
    3.13 in the other. Older than every switch fails as unsupported; 3.13 is supported."""
    report = verify.run(
        Target(interpreter=sys.executable),
        Expectation(features=frozenset()),
        tiers=(),
        behaviour=False,
    )
    supported = next(c for c in report.checks if c.name == "version supported")
    assert supported.status == ("pass" if sys.version_info >= (3, 13) else "fail")
    jit_api = report.observation["facts"]["runtime"]["sys._jit.is_available()"]
    assert (jit_api == probe.ABSENT) == (sys.version_info < (3, 14))
