"""Class 11 of issue 21: at the task boundary every OS error about a path becomes an error that
names the path and what to do, with its kind's exit code; exit 70 stays for cpmatrix's bugs."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sourcekit import small_release
from taskkit import invoke

from cpmatrix import cli
from cpmatrix.sources import SourceCache, prepare
from cpmatrix.util.errors import ArtifactError, EnvironmentProblem, SourceError


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A read-only file system (a tmpfs mounted ro; root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(mount)]
    ).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_read_only_dist_is_exit_7_naming_it(read_only: Path, tmp_path: Path) -> None:
    env = {"CPMATRIX_DIST_DIR": str(read_only), "CPMATRIX_CACHE": str(tmp_path / "c")}
    done = invoke("index", env=env)
    assert done.returncode == ArtifactError.exit_code, done.stderr
    assert str(read_only) in done.stderr and "Traceback" not in done.stderr
    assert "unexpected" not in done.stderr


def test_a_read_only_cache_is_exit_3_naming_it(read_only: Path, tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    env = {"CPMATRIX_DIST_DIR": str(tmp_path / "dist"), "CPMATRIX_CACHE": str(read_only)}
    done = invoke("index", "--check", env=env)
    assert done.returncode == EnvironmentProblem.exit_code, done.stderr
    assert str(read_only) in done.stderr and "unexpected" not in done.stderr


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (errno.EROFS, "read-only"),
        (errno.EACCES, "permission denied"),
        (errno.ENOTDIR, "not a directory"),
        (errno.EISDIR, "is a directory"),
        (errno.ENOENT, "does not exist"),
    ],
)
def test_an_os_error_about_a_path_names_it(
    number: int, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPMATRIX_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CPMATRIX_DIST_DIR", str(tmp_path / "dist"))
    inside = tmp_path / "dist" / "x.json"
    problem = cli.as_error(OSError(number, os.strerror(number), str(inside)))
    assert problem.exit_code == ArtifactError.exit_code
    assert str(inside) in problem.message and words in problem.message.lower()
    elsewhere = cli.as_error(OSError(number, os.strerror(number), str(tmp_path / "y")))
    assert elsewhere.exit_code == EnvironmentProblem.exit_code
    assert problem.hint


def test_an_os_error_without_a_path_is_still_unexpected(tmp_path: Path) -> None:
    assert cli.as_error(OSError(errno.EIO, "I/O error")).exit_code == 70


def test_an_http_source_without_a_file_name_is_a_source_error(tmp_path: Path) -> None:
    release = small_release("https://example.invalid/x.tar.xz", b"x")
    with pytest.raises(SourceError, match="names no file"):
        prepare(release, source="http://127.0.0.1:9/", cache=SourceCache(tmp_path / "cache"))
