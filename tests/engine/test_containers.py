"""Real containers: settings read back from the engine, streaming, timeouts, cleanup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cpmatrix.engine import image
from cpmatrix.engine.containers import (
    Container,
    ContainerSpec,
    Mount,
    _lines,
    engine,
    leftover_containers,
)
from cpmatrix.matrix.layout import PROJECT_ROOT
from cpmatrix.util.errors import EnvironmentProblem


def test_lines_splits_across_chunks_and_keeps_the_unterminated_tail() -> None:
    seen: list[str] = []
    chunks = iter([b"one\ntw", b"o\n\xc3", b"\xa9t\xc3\xa9"])
    text = _lines(chunks, seen.append)
    assert seen == ["one", "two", "été"]
    assert text == "one\ntwo\nété"


def test_no_engine_is_an_environment_problem_naming_native(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/missing.sock")
    with pytest.raises(EnvironmentProblem) as caught:
        engine()
    assert "missing.sock" in caught.value.message
    assert caught.value.hint is not None
    assert "dockerd" in caught.value.hint
    assert "--builder=native" in caught.value.hint


def test_reports_name_a_container_with_network_as_such() -> None:
    assert ContainerSpec(image="x", network=True).network_words == "with network"


@pytest.fixture(scope="module")
def base_tag(docker_engine: None) -> str:
    return image.base_image("trixie").tag


@pytest.mark.docker
def test_settings_read_back_from_the_engine(base_tag: str, tmp_path: Path) -> None:
    user = f"{os.getuid()}:{os.getgid()}"
    (tmp_path / "ro").mkdir()
    spec = ContainerSpec(
        image=base_tag,
        user=user,
        mounts=(Mount(tmp_path / "ro", "/ro"), Mount(tmp_path, "/rw", read_only=False)),
        environment={"FROM_SPEC": "yes"},
        workdir="/tmp",
        name_hint="cpmatrix-test",
    )
    assert spec.network_words == "no network"
    with Container(spec) as box:
        state = box.inspect()
        assert state["HostConfig"]["NetworkMode"] == "none"
        assert state["Config"]["User"] == user
        assert state["Config"]["Labels"]["cpmatrix"] == "1"
        assert {m["Destination"]: m["RW"] for m in state["Mounts"]} == {"/ro": False, "/rw": True}
        ids = box.run(
            ["sh", "-c", "id -u; id -g; echo $FROM_SPEC $FROM_RUN; pwd"], env={"FROM_RUN": "too"}
        )
        assert ids.output.split("\n")[:4] == [str(os.getuid()), str(os.getgid()), "yes too", "/tmp"]
        interfaces = box.run(["cat", "/proc/net/dev"]).output
        assert "eth0" not in interfaces
        assert not box.run(["touch", "/ro/x"]).ok
        assert box.run(["touch", "/rw/made-inside"]).ok
        name = box.name
    made = tmp_path / "made-inside"
    assert (made.stat().st_uid, made.stat().st_gid) == (os.getuid(), os.getgid())
    assert name not in leftover_containers()


@pytest.mark.docker
def test_streaming_exit_codes_timeouts_and_files(base_tag: str) -> None:
    with Container(ContainerSpec(image=base_tag)) as box:
        seen: list[str] = []
        done = box.run(["sh", "-c", "echo out; echo err >&2; exit 7"], on_line=seen.append)
        # stdout and stderr are separate streams: both arrive, in no guaranteed order
        assert (done.exit_code, done.timed_out, sorted(seen)) == (7, False, ["err", "out"])
        slow = box.run(["sleep", "30"], timeout=1)
        assert slow.timed_out
        assert slow.seconds < 30
        box.put_file("/tmp/data.bin", b"\x00payload")
        assert box.run(["cat", "/tmp/data.bin"]).output == "\x00payload"


@pytest.mark.docker
def test_container_is_removed_on_error_and_interrupt(base_tag: str) -> None:
    names: list[str] = []

    def interrupt(line: str) -> None:
        if line == "ready":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), Container(ContainerSpec(image=base_tag)) as box:
        names.append(box.name)
        box.run(["sh", "-c", "echo ready; sleep 60"], on_line=interrupt)
    broken = Container(ContainerSpec(image=base_tag, user="no-such-user-anywhere"))
    names.append(broken.name)
    with pytest.raises(EnvironmentProblem, match="unable to find user"), broken:
        pass  # Docker's refusal, translated (a traceback before)
    leftovers = set(leftover_containers())
    assert not leftovers & set(names)


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
def test_missing_engine_skips_only_outside_ci(tmp_path: Path, ci: str, outcome: str) -> None:
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/none.sock", "CI": ci}
    test = "tests/engine/test_containers.py::test_streaming_exit_codes_timeouts_and_files"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert outcome in done.stdout, done.stdout
    if ci:
        assert "CI=true but no Docker engine answers" in done.stdout
