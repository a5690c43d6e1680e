"""The URL provider against a real HTTP server on 127.0.0.1: good, wrong checksum, truncated,
slow, 4xx (no retry), 5xx (retried), and the real 3.13.5 tarball when the cache holds it."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import pytest
from httpserve import Route, serving
from sourcekit import SMALL_VERSION, sha256, small_release, tarball_bytes

from cpmatrix.sources import SourceCache, SourceTree, prepare
from cpmatrix.sources.download import DownloadPolicy
from cpmatrix.util.errors import SourceError

NAME = f"/Python-{SMALL_VERSION}.tar.xz"
FAST = DownloadPolicy(timeout=2.0, attempts=2, backoff=0.1)


def url_only(release: object, cache: SourceCache, policy: DownloadPolicy = FAST) -> SourceTree:
    return prepare(release, cache=cache, providers=("cache", "url"), policy=policy)  # type: ignore[arg-type]


def leftovers(cache: SourceCache) -> list[str]:
    """Anything in the cache a later run could mistake for a fetched tarball or tree."""
    found = [p.name for p in cache.tmp.iterdir()]
    found += [str(p) for p in cache.tarballs.rglob("*.tar.xz")] if cache.tarballs.exists() else []
    found += [p.name for p in cache.trees.iterdir()] if cache.trees.exists() else []
    return found


@pytest.mark.usefixtures("unpatched_sources")
def test_good_download_becomes_a_read_only_tree(tmp_path: Path) -> None:
    data = tarball_bytes()
    cache = SourceCache(tmp_path / "cache")
    with serving({NAME: Route(data)}) as server:
        release = small_release(server.url(NAME), data)
        tree = url_only(release, cache)
        again = url_only(release, cache)
        assert server.hits[NAME] == 1
    assert tree.provider == "url" and tree.origin == server.url(NAME)
    assert again.provider == "cache" and again.path == tree.path
    assert tree.sha256 == release.sha256 and str(tree.release) == SMALL_VERSION
    assert (tree.path / "configure").is_file()
    assert tree.signature == "not checked: matrix.yaml names no signing key"
    for path in [tree.path, *tree.path.rglob("*")]:
        assert not stat.S_IMODE(path.lstat().st_mode) & 0o222, path
    assert list(cache.tmp.iterdir()) == []


def test_wrong_checksum_is_removed_and_reported_with_both_digests(tmp_path: Path) -> None:
    served, expected = tarball_bytes(), tarball_bytes(top="Python-other")
    cache = SourceCache(tmp_path / "cache")
    with serving({NAME: Route(served)}) as server:
        release = small_release(server.url(NAME), expected)
        with pytest.raises(SourceError) as failed:
            url_only(release, cache)
    message = failed.value.message
    assert f"expected sha256 {release.sha256}" in message
    assert f"got {sha256(served)}" in message
    assert server.url(NAME) in message
    assert "the file was removed" in message
    assert leftovers(cache) == []


def test_truncated_transfer_is_retried_then_reported(tmp_path: Path) -> None:
    data = tarball_bytes(files={f"Lib/m{i}.py": f"# {i}\n" * 4000 for i in range(10)})
    cache = SourceCache(tmp_path / "cache")
    with serving({NAME: Route(data, "truncate")}) as server:
        with pytest.raises(SourceError, match="truncated") as failed:
            url_only(small_release(server.url(NAME), data), cache)
        assert server.hits[NAME] == FAST.attempts
    assert "try 2" in failed.value.message
    assert leftovers(cache) == []


def test_slow_server_times_out(tmp_path: Path) -> None:
    data = tarball_bytes()
    cache = SourceCache(tmp_path / "cache")
    policy = DownloadPolicy(timeout=0.5, attempts=1)
    stalled = {NAME: Route(data, "stall", stall_seconds=3.0)}
    with serving(stalled) as server, pytest.raises(SourceError, match=r"no answer within 0\.5s"):
        url_only(small_release(server.url(NAME), data), cache, policy)
    assert leftovers(cache) == []


def test_not_found_is_not_retried(tmp_path: Path) -> None:
    data = tarball_bytes()
    with serving({}) as server:
        with pytest.raises(SourceError, match="HTTP 404"):
            url_only(small_release(server.url(NAME), data), SourceCache(tmp_path / "c"))
        assert server.hits[NAME] == 1


@pytest.mark.usefixtures("unpatched_sources")
def test_server_error_is_retried(tmp_path: Path) -> None:
    data = tarball_bytes()
    with serving({NAME: Route(data, "fail-once")}) as server:
        tree = url_only(small_release(server.url(NAME), data), SourceCache(tmp_path / "c"))
        assert server.hits[NAME] == 2
    assert (tree.path / "configure").is_file()


def test_refused_connection_is_retried_then_reported(tmp_path: Path) -> None:
    with serving({}) as server:
        closed = server.url(NAME)
    with pytest.raises(SourceError, match=r"try 2: .*[Cc]onnection refused"):
        url_only(small_release(closed, tarball_bytes()), SourceCache(tmp_path / "c"))


def test_unreachable_host_fails_fast_and_lists_every_provider(tmp_path: Path) -> None:
    data = tarball_bytes()
    release = small_release("http://cpmatrix-no-such-host.invalid/x.tar.xz", data)
    with pytest.raises(SourceError) as failed:
        url_only(release, SourceCache(tmp_path / "c"))
    lines = failed.value.message.splitlines()
    assert lines[1].startswith("  cache: no x.tar.xz")
    assert lines[2].startswith("  url: http://cpmatrix-no-such-host.invalid/x.tar.xz")
    assert failed.value.hint and "--source" in failed.value.hint


def test_real_release_tarball_over_http(tmp_path: Path, cpython_source: SourceTree) -> None:
    """python.org's 3.13.5 tarball (from the cache) served locally, verified end to end."""
    from cpmatrix.matrix import matrixfile

    python = matrixfile.load().python("3.13")
    cached = SourceCache.default().slot(python.sha256) / python.tarball_name
    asc = cached.with_name(cached.name + ".asc")
    path = f"/{python.tarball_name}"
    routes = {path: Route(cached.read_bytes())}
    if asc.is_file():
        routes[f"{path}.asc"] = Route(asc.read_bytes())
    cache = SourceCache(tmp_path / "cache")
    with serving(routes) as server:
        local = dataclasses.replace(python, url=server.url(path))
        tree = url_only(local, cache)
    assert tree.provider == "url" and tree.sha256 == python.sha256
    assert tree.key == cpython_source.key
    assert (tree.path / "Include/patchlevel.h").read_text().count('"3.13.5"') == 1
    if not asc.is_file():
        assert tree.signature == "not checked: no .asc at hand"
        return
    assert tree.signature.startswith("not checked: no public key for 7169605F")
    known = SourceCache.default().root / "keys" / f"{python.signature.pgp_fingerprint}.asc"
    if known.is_file():
        (cache.root / "keys").mkdir()
        (cache.root / "keys" / known.name).write_bytes(known.read_bytes())
        again = url_only(local, cache)
        assert again.signature.startswith("verified (pgp 7169605F")
