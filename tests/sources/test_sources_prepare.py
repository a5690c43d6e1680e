"""prepare() end to end: the lock across two real processes, a corrupted cache, Ctrl-C during a
download and during extraction, explicit tarballs and checkouts, patches in the tree's key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from httpserve import Route, serving
from sourcekit import (
    FILES,
    SMALL_VERSION,
    sha256,
    small_release,
    tarball_bytes,
    write_small_tarball,
)

from cpmatrix.sources import SourceCache, prepare
from cpmatrix.sources.download import DownloadPolicy
from cpmatrix.util import console
from cpmatrix.util.errors import SourceError
from cpmatrix.util.signals import sigint_default_in_children

NAME = f"/Python-{SMALL_VERSION}.tar.xz"
PROJECT = Path(__file__).resolve().parents[2]
FAST = DownloadPolicy(timeout=5.0, attempts=1)

# A child process that prepares a small release from a URL into a given cache.
CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from sourcekit import small_release
from cpmatrix.sources import SourceCache, prepare
from cpmatrix.sources.download import DownloadPolicy
go = Path({go!r})
while not go.exists():
    time.sleep(0.005)
release = small_release({url!r}, Path({data!r}).read_bytes())
tree = prepare(release, cache=SourceCache(Path({cache!r})), providers=("cache", "url"),
               policy=DownloadPolicy(timeout=30, attempts=1),
               patches_root=go.parent / "no-patches")
print(tree.path)
"""


def bulky_tarball() -> bytes:
    """About 200 kB of xz that does not compress away, so a transfer takes a while."""
    bulk = {f"Lib/m{i}.py": os.urandom(4000).hex() for i in range(25)}
    return tarball_bytes(files={**FILES, **bulk})


def child(tmp_path: Path, url: str, data: bytes, cache: Path) -> subprocess.Popen[str]:
    reference = tmp_path / "expected.tar.xz"
    reference.write_bytes(data)
    code = CHILD.format(
        tests=str(PROJECT / "tests"),
        go=str(tmp_path / "go"),
        url=url,
        data=str(reference),
        cache=str(cache),
    )
    with sigint_default_in_children():  # Ctrl-C reaches it however pytest was started
        return subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def test_two_processes_preparing_at_once_share_one_download_and_one_tree(tmp_path: Path) -> None:
    data = bulky_tarball()
    cache = tmp_path / "cache"
    with serving({NAME: Route(data, "trickle", stall_seconds=1.0)}) as server:
        first = child(tmp_path, server.url(NAME), data, cache)
        second = child(tmp_path, server.url(NAME), data, cache)
        time.sleep(0.5)
        (tmp_path / "go").touch()
        outputs = [process.communicate(timeout=120) for process in (first, second)]
        assert [process.returncode for process in (first, second)] == [0, 0], outputs
        assert server.hits[NAME] == 1
    paths = {out.strip() for out, _ in outputs}
    assert len(paths) == 1
    assert [p.name for p in (cache / "trees").iterdir()] == [Path(paths.pop()).name]
    assert list((cache / "tmp").iterdir()) == []


def test_a_flipped_byte_in_the_cached_tarball_is_detected_and_fetched_again(
    tmp_path: Path,
) -> None:
    data = tarball_bytes()
    cache = SourceCache(tmp_path / "cache")
    with serving({NAME: Route(data)}) as server:
        release = small_release(server.url(NAME), data)
        prepare(release, cache=cache, providers=("cache", "url"), policy=FAST)
        cached = cache.slot(release.sha256) / Path(NAME).name
        spoiled = bytearray(cached.read_bytes())
        spoiled[len(spoiled) // 2] ^= 0x01
        cached.write_bytes(bytes(spoiled))
        with console.using(console.Recorder()) as recorder:
            tree = prepare(release, cache=cache, providers=("cache", "url"), policy=FAST)
        assert server.hits[NAME] == 2
    assert tree.provider == "url"
    assert sha256(cached.read_bytes()) == release.sha256
    warning = next(text for level, text in recorder.lines if level == "warn")  # type: ignore[attr-defined]
    assert f"expected sha256 {release.sha256}" in warning and "corrupt" in warning


def interrupt_when(process: subprocess.Popen[str], ready: object, deadline: float = 60) -> None:
    stop = time.monotonic() + deadline
    while not ready():  # type: ignore[operator]
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < stop, "the child never reached the point to interrupt"
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "KeyboardInterrupt" in err


def test_ctrl_c_during_download_leaves_nothing_a_later_run_trusts(tmp_path: Path) -> None:
    data = bulky_tarball()
    cache = tmp_path / "cache"
    with serving({NAME: Route(data, "trickle", stall_seconds=30.0)}) as server:
        process = child(tmp_path, server.url(NAME), data, cache)
        (tmp_path / "go").touch()
        parts = lambda: [p for p in (cache / "tmp").glob("part-*") if p.stat().st_size]  # noqa: E731
        interrupt_when(process, parts)
    assert list((cache / "tmp").iterdir()) == []
    assert not (cache / "tarballs").exists() or not list((cache / "tarballs").rglob("*.tar.xz"))
    with serving({NAME: Route(data)}) as server:
        release = small_release(server.url(NAME), data)
        tree = prepare(release, cache=SourceCache(cache), providers=("cache", "url"), policy=FAST)
    assert tree.provider == "url" and (tree.path / "configure").is_file()


@pytest.mark.slow
def test_ctrl_c_during_extraction_leaves_no_tree(tmp_path: Path, cpython_source: object) -> None:
    from cpmatrix.matrix import matrixfile

    python = matrixfile.load().python("3.13")
    real = SourceCache.default().slot(python.sha256) / python.tarball_name
    cache = tmp_path / "cache"
    code = (
        "from cpmatrix.matrix import matrixfile; "
        "from cpmatrix.sources import SourceCache, prepare; "
        f"from pathlib import Path; prepare(matrixfile.load().python('3.13'), source={str(real)!r},"
        f" cache=SourceCache(Path({str(cache)!r})))"
    )
    with sigint_default_in_children():
        process = subprocess.Popen(
            [sys.executable, "-c", code], cwd=PROJECT, stderr=subprocess.PIPE, text=True
        )
    extracting = lambda: any((cache / "tmp").glob("tree-*/x/Python-3.13.5/Lib"))  # noqa: E731
    interrupt_when(process, extracting)
    assert list((cache / "tmp").iterdir()) == []
    assert not (cache / "trees").exists() or list((cache / "trees").iterdir()) == []


def test_explicit_tarball_that_is_not_the_matrix_release(tmp_path: Path) -> None:
    custom = write_small_tarball(tmp_path, "cpython-custom.tar.xz")
    matrix_says = small_release("https://example.invalid/x.tar.xz", b"other bytes")
    tree = prepare(matrix_says, source=str(custom), cache=SourceCache(tmp_path / "cache"))
    assert tree.provider == "explicit"
    assert tree.sha256 == sha256(custom.read_bytes())
    assert tree.signature == "not checked: matrix.yaml names no signing key"
    assert str(tree.release) == SMALL_VERSION
    assert custom.is_file()


def test_explicit_tarball_claiming_the_release_must_match_and_is_never_deleted(
    tmp_path: Path,
) -> None:
    impostor = write_small_tarball(tmp_path)
    release = small_release(f"https://example.invalid{NAME}", b"the real bytes")
    with pytest.raises(SourceError) as failed:
        prepare(release, source=str(impostor), cache=SourceCache(tmp_path / "cache"))
    assert f"expected sha256 {release.sha256}" in failed.value.message
    assert str(impostor.resolve()) in failed.value.message
    assert impostor.is_file()


def test_hostile_explicit_tarball_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.tar.xz"
    hostile.write_bytes(tarball_bytes(files={"../escape": "x\n"}))
    release = small_release("https://example.invalid/x.tar.xz", b"anything")
    cache = SourceCache(tmp_path / "cache")
    with pytest.raises(SourceError, match=r"'\.\.' component"):
        prepare(release, source=str(hostile), cache=cache)
    assert not (tmp_path / "escape").exists()
    assert list(cache.tmp.iterdir()) == []
    assert not cache.trees.exists() or list(cache.trees.iterdir()) == []


def test_patches_change_the_tree_and_its_key(tmp_path: Path) -> None:
    data = tarball_bytes()
    source = tmp_path / f"Python-{SMALL_VERSION}.tar.xz"
    source.write_bytes(data)
    release = small_release("https://example.invalid/x.tar.xz", data)
    series = tmp_path / "patches" / "3.13"
    series.mkdir(parents=True)
    (series / "series").write_text("greet.patch\n")
    (series / "greet.patch").write_text(
        "--- a/Lib/greeting.py\n+++ b/Lib/greeting.py\n@@ -1,2 +1,2 @@\n"
        '-MESSAGE = "hello"\n+MESSAGE = "patched"\n COUNT = 1\n'
    )
    cache = SourceCache(tmp_path / "cache")
    plain = prepare(release, source=str(source), cache=cache, patches_root=tmp_path / "none")
    patched = prepare(release, source=str(source), cache=cache, patches_root=tmp_path / "patches")
    assert plain.key != patched.key and plain.sha256 == patched.sha256
    assert patched.patches == ("greet.patch",)
    assert 'MESSAGE = "patched"' in (patched.path / "Lib/greeting.py").read_text()
    assert 'MESSAGE = "hello"' in (plain.path / "Lib/greeting.py").read_text()
    assert patched.record()["patchset"] != plain.record()["patchset"]


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_checkout_is_used_in_place_with_its_commit(tmp_path: Path) -> None:
    checkout = tmp_path / "cpython"
    for name, text in {
        "configure": "#!/bin/sh\n",
        "Include/patchlevel.h": '#define PY_VERSION "3.13.99+"\n',
    }.items():
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text(text)
    git(checkout, "init", "-q")
    git(checkout, "add", ".")
    git(checkout, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "x")
    release = small_release("https://example.invalid/x.tar.xz", b"unused")
    clean = prepare(release, source=str(checkout))
    assert clean.path == checkout.resolve() and clean.sha256 is None
    assert clean.git_commit == git(checkout, "rev-parse", "HEAD") and clean.git_dirty is False
    assert clean.record()["sha256_note"] == "a checkout: no sha256 applies"
    (checkout / "configure").write_text("#!/bin/sh\n# edited\n")
    assert prepare(release, source=str(checkout)).git_dirty is True
    other = small_release("https://example.invalid/x.tar.xz", b"unused", version="3.14.1")
    with pytest.raises(SourceError, match=r"is CPython 3\.13\.99, not 3\.14"):
        prepare(other, source=str(checkout))
    (checkout / "pyconfig.h").write_text("/* configure ran here */\n")
    with pytest.raises(SourceError, match="configured in place") as configured:
        prepare(release, source=str(checkout))
    assert configured.value.hint and "make distclean" in configured.value.hint


def test_scratch_left_by_a_killed_run_is_swept(tmp_path: Path) -> None:
    source = write_small_tarball(tmp_path)
    release = small_release("https://example.invalid/x.tar.xz", source.read_bytes())
    cache = SourceCache(tmp_path / "cache")
    stale, fresh = cache.tmp / "part-killed.download", cache.tmp / "part-running.download"
    stale.write_bytes(b"half a tarball")
    fresh.write_bytes(b"another run, still going")
    os.utime(stale, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    prepare(release, source=str(source), cache=cache)
    assert not stale.exists() and fresh.exists()


def test_a_damaged_cached_tree_is_rebuilt_from_the_verified_tarball(tmp_path: Path) -> None:
    source = write_small_tarball(tmp_path)
    release = small_release("https://example.invalid/x.tar.xz", source.read_bytes())
    cache = SourceCache(tmp_path / "cache")
    tree = prepare(release, source=str(source), cache=cache).path
    pristine = (tree / "Include/patchlevel.h").read_text()
    for damage in (
        lambda: (tree / "configure").unlink(),
        lambda: (tree / "Include/patchlevel.h").write_text('#define PY_VERSION "3.13.98"\n'),
        lambda: (tree / "Lib/extra.py").write_text("added = True\n"),
    ):
        for writable in (tree, tree / "Include", tree / "Lib"):
            writable.chmod(0o755)  # as a careless user would
        (tree / "Include/patchlevel.h").chmod(0o644)
        damage()
        with console.using(console.Recorder()) as recorder:
            again = prepare(release, source=str(source), cache=cache).path
        assert again == tree
        assert any("is damaged" in text for _, text in recorder.lines)  # type: ignore[attr-defined]
        assert (tree / "configure").is_file() and not (tree / "Lib/extra.py").exists()
        assert (tree / "Include/patchlevel.h").read_text() == pristine
    with console.using(console.Recorder()) as recorder:
        prepare(release, source=str(source), cache=cache)
    assert not any("is damaged" in text for _, text in recorder.lines)  # type: ignore[attr-defined]
    set_aside = sorted(cache.tmp.glob(f"set-aside-*/{tree.name}"))
    assert len(set_aside) == 3  # not deleted under a build that may have them mounted
    assert any((old / "Lib/extra.py").is_file() for old in set_aside)


pytestmark = pytest.mark.usefixtures("unpatched_sources")
