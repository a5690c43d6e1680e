"""Bad input at the command line: an `error:` line and an exit code, never a traceback, and
never a command run that the user did not ask for. Real `invoke` processes throughout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from artifactkit import built_cell, matrix_without_portability
from taskkit import invoke

from cpmatrix import cli
from cpmatrix.artifacts import index, publish
from cpmatrix.matrix import Cell
from cpmatrix.matrix.layout import PROJECT_ROOT
from cpmatrix.util import faults
from cpmatrix.util.errors import ArtifactError


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    assert done.stderr.count("error: ") >= 1


def test_bench_build_does_not_run_what_follows_a_semicolon(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    done = invoke("bench-build", f"--python=nope; touch {marker} #")
    assert not marker.exists()
    assert done.returncode == 2
    no_traceback(done)


MATRIX = (PROJECT_ROOT / "matrix.yaml").read_bytes()


def laughs(levels: int) -> bytes:
    """A billion-laughs document: each level lists the previous one nine times."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return ("\n".join(lines) + "\n").encode()


BAD_MATRICES = {
    "invalid UTF-8": (MATRIX.replace(b"pythons:", b"pyth\xffons:", 1), "not UTF-8 text"),
    "a NUL byte": (MATRIX.replace(b"variants:", b"vari\0ants:", 1), "contains a NUL byte"),
    "20 MB of aliases": (
        b"a: &a [x, x, x, x]\nb: [" + b"*a, " * 5_000_000 + b"*a]\n",
        "larger than 256 KiB",
    ),
    "billion laughs under the size limit": (laughs(9), "more than 20000 values"),
    "thousands of duplicate list entries": (
        MATRIX.replace(
            b'  pythons: ["3.13", "3.14", "3.15"]',
            b"  pythons: [" + b'"3.13", ' * 5000 + b'"3.14", "3.15"]',
            1,
        ),
        "names '3.13' twice",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_MATRICES))
def test_a_bad_matrix_file_is_a_config_error(case: str, tmp_path: Path) -> None:
    data, words = BAD_MATRICES[case]
    assert data != MATRIX
    path = tmp_path / "matrix.yaml"
    path.write_bytes(data)
    done = invoke("matrix", "--matrix", str(path))
    assert done.returncode == 2, done.stderr
    assert words in done.stderr
    no_traceback(done)


def test_the_matrix_fixture_edits_apply() -> None:
    assert b'  pythons: ["3.13", "3.14", "3.15"]' in MATRIX


@pytest.mark.parametrize("shard", ["1/99999999999999999999", "0/2", "3/2", "x/y", "1/10001"])
def test_shard_numbers_are_bounded_before_any_work(shard: str) -> None:
    done = invoke("matrix", "--format", "github", "--shard", shard)
    assert done.returncode == 2
    assert "--shard" in done.stderr
    no_traceback(done)


@pytest.mark.docker
def test_a_bad_image_name_is_a_usage_error(docker_engine: None) -> None:
    done = invoke(
        "verify", "--image", "Bad Image!!", "--interpreter", "/usr/bin/python3", "--expect", "jit"
    )
    assert done.returncode == 2
    assert "Docker cannot run a container of image 'Bad Image!!'" in done.stderr
    assert "invalid reference format" in done.stderr
    no_traceback(done)


def test_an_unexpected_exception_names_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPMATRIX_CACHE", str(tmp_path / "cache"))
    try:
        json.loads("{", object_hook=None)
    except ValueError as error:
        problem = cli.as_error(error)
    assert problem.message.startswith("unexpected JSONDecodeError: ")
    assert problem.hint is not None
    log = Path(problem.hint.split("the traceback is in ")[1].split(";")[0])
    assert log.parent == tmp_path / "cache" / "logs"
    assert "Traceback" in log.read_text() and "json.loads" in log.read_text()


def test_a_full_disk_is_named_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    monkeypatch.setenv("CPMATRIX_CACHE", str(tmp_path / "cache"))
    disk = tmp_path / "tiny"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with (disk / "big").open("wb") as stream:
            stream.write(b"\0" * (1 << 20))
            stream.flush()
    except OSError as error:
        problem = cli.as_error(error)
    finally:
        subprocess.run(["umount", str(disk)], check=True)
    assert problem.message == "disk full: No space left on device"
    assert problem.hint and "the traceback is in" in problem.hint
    assert ArtifactError.exit_code != problem.exit_code == 3
    named = cli.as_error(OSError(28, "No space left on device", str(disk / "big")))
    assert named.message == f"disk full: cannot write {disk / 'big'}: No space left on device"


@pytest.fixture
def packaging_env(tmp_path: Path, jit: Cell) -> dict[str, str]:
    built_cell(tmp_path / "build", jit)
    return {
        "CPMATRIX_BUILD_DIR": str(tmp_path / "build"),
        "CPMATRIX_DIST_DIR": str(tmp_path / "dist"),
        "CPMATRIX_CACHE": str(tmp_path / "cache"),
    }


def package_args(matrix: Path) -> list[str]:
    """``invoke package`` of the jit cell, with a matrix.yaml whose platform declares no glibc
    floor and no consumer images: the tree is artifactkit's host-made one (not portable)."""
    argv = ["package", "--python=3.13", "--variant=jit", "--platform=linux-x86_64"]
    return [*argv, "--matrix", str(matrix)]


@pytest.fixture
def matrix(tmp_path: Path) -> Path:
    return matrix_without_portability(PROJECT_ROOT / "matrix.yaml", tmp_path / "matrix.yaml")


def test_sigterm_during_packaging_is_handled_like_ctrl_c(
    packaging_env: dict[str, str], matrix: Path
) -> None:
    env = {**packaging_env, faults.VARIABLE: "staged index.json:sigterm"}
    done = invoke(*package_args(matrix), env=env)
    assert done.returncode == 130, done.stderr
    assert "interrupted" in done.stderr
    dist = Path(packaging_env["CPMATRIX_DIST_DIR"])
    assert list(dist.iterdir()) == []  # the staging was removed on the way out


def test_a_second_package_says_it_waits_for_the_lock(
    packaging_env: dict[str, str], matrix: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in packaging_env.items():
        monkeypatch.setenv(name, value)
    dist = Path(packaging_env["CPMATRIX_DIST_DIR"])
    dist.mkdir()
    with index.lock(dist):
        second = subprocess.Popen(
            [sys.executable, "-m", "invoke", *package_args(matrix)],
            cwd=PROJECT_ROOT,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=dict(os.environ),
        )
        assert second.stderr is not None
        first_line = second.stderr.readline()
        assert "waiting for another cpmatrix run that is writing" in first_line
        assert not (dist / publish.STAGING).exists()
    assert second.wait(timeout=300) == 0
    assert index.check(dist) == []
