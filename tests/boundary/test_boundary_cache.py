"""Classes 4 (part) and 6 of issue 21: a cache another user can write is refused, a cache is
made 0700, and `invoke clean --sources` removes only a cache cpmatrix made and marked."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from sourcekit import small_release, write_small_tarball
from taskkit import invoke

from cpmatrix.sources import SourceCache, prepare
from cpmatrix.util.errors import SourceError

OTHER_UID = 54321


def prepared(tmp_path: Path, cache: SourceCache) -> Path:
    source = write_small_tarball(tmp_path)
    release = small_release("https://example.invalid/x.tar.xz", source.read_bytes())
    return prepare(release, source=str(source), cache=cache).path


@pytest.mark.usefixtures("unpatched_sources")
def test_a_new_cache_is_private(tmp_path: Path) -> None:
    cache = SourceCache(tmp_path / "cache" / "sources")
    prepared(tmp_path, cache)
    assert stat.S_IMODE(cache.root.stat().st_mode) == 0o700
    for directory in (cache.trees, cache.tarballs):
        assert stat.S_IMODE(directory.stat().st_mode) & 0o022 == 0, directory


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_cache_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    cache = SourceCache(tmp_path / "cache")
    cache.root.mkdir()
    cache.root.chmod(mode)
    with pytest.raises(SourceError, match="writable by group or others"):
        prepared(tmp_path, cache)


@pytest.mark.usefixtures("unpatched_sources")
def test_a_tree_planted_by_another_uid_is_never_handed_out(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a directory to another uid needs root")
    cache = SourceCache(tmp_path / "cache")
    tree = prepared(tmp_path, cache)
    for path in (tree, cache.trees):
        os.chown(path, OTHER_UID, OTHER_UID)
        with pytest.raises(SourceError, match=f"owned by uid {OTHER_UID}"):
            prepared(tmp_path, cache)
        os.chown(path, 0, 0)
    assert prepared(tmp_path, cache) == tree


def test_a_cache_owned_by_another_uid_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a directory to another uid needs root")
    cache = SourceCache(tmp_path / "cache")
    cache.root.mkdir(mode=0o700)
    os.chown(cache.root, OTHER_UID, OTHER_UID)
    with pytest.raises(SourceError, match=f"owned by uid {OTHER_UID}"):
        prepared(tmp_path, cache)


def clean(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return invoke("clean", "--sources", env=env)


def test_clean_removes_only_a_cache_cpmatrix_marked(tmp_path: Path) -> None:
    users = tmp_path / "my-photos"
    (users / "sources").mkdir(parents=True)
    (users / "sources" / "holiday.jpg").write_bytes(b"precious")
    done = clean({"CPMATRIX_CACHE": str(users)})
    assert done.returncode == 4, done.stderr
    assert "not removed" in done.stderr and "Traceback" not in done.stderr
    assert (users / "sources" / "holiday.jpg").read_bytes() == b"precious"


@pytest.mark.usefixtures("unpatched_sources")
def test_clean_removes_the_cache_cpmatrix_made(tmp_path: Path) -> None:
    cache = SourceCache(tmp_path / "cache" / "sources")
    prepared(tmp_path, cache)
    done = clean({"CPMATRIX_CACHE": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    assert not cache.root.exists()
    shutil.rmtree(tmp_path / "cache", ignore_errors=True)
