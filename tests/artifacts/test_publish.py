"""Publishing is a transaction: killed at any step, dist/ is the old one or the new one.

A real packaging process is SIGKILLed at every fault point it passes (cpmatrix.util.faults), and
at an archive entry; then the index check (what ``invoke index --check`` runs) must find dist/
consistent and holding exactly the old files or exactly the new. A real full disk (a tmpfs)
must give an error naming the path and leave nothing new.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from artifactkit import (
    built_cell,
    key_for,
    package_unproven,
    record_verification,
    without_portability,
)

from cpmatrix.artifacts import index, publish
from cpmatrix.matrix import Cell
from cpmatrix.matrix.layout import PROJECT_ROOT
from cpmatrix.util import faults
from cpmatrix.util.errors import ArtifactError
from cpmatrix.util.fileio import sha256_of

PACKAGE = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from artifactkit import key_for, package_unproven, without_portability
    from cpmatrix import artifacts
    from cpmatrix.matrix import matrixfile
    from cpmatrix.matrix.layout import CellPaths
    from pathlib import Path
    cell = matrixfile.load().cell(python="3.13", variant="jit", platform="linux-x86_64")
    cell = without_portability(cell)
    def die(count):
        if count == {kill_at_entry}:
            os.kill(os.getpid(), signal.SIGKILL)
    package_unproven(cell, CellPaths.of(cell.id, Path({build!r})), key=key_for(cell),
                      dist=Path({dist!r}), on_entry=die)
    """
)


pytestmark = pytest.mark.usefixtures("own_cache")


@pytest.fixture
def jit(jit: Cell) -> Cell:
    """conftest's jit cell, packaged here from a host-made tree (artifactkit), so without the
    portability gate and the bare-image proofs (test_portable_real.py tests those)."""
    return without_portability(jit)


def state(dist: Path) -> dict[str, str]:
    """Every file in dist/ (hidden ones too) and its sha256."""
    return {p.name: sha256_of(p) if p.is_file() else "dir" for p in dist.iterdir()}


def package_in_child(build: Path, dist: Path, *, fault: str = "", entry: int = -1) -> int:
    code = PACKAGE.format(
        tests=str(PROJECT_ROOT / "tests"), build=str(build), dist=str(dist), kill_at_entry=entry
    )
    env = {**os.environ, faults.VARIABLE: fault}
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env).returncode


@pytest.fixture
def old_and_new(tmp_path: Path, jit: Cell) -> Iterator[tuple[Path, Path, dict[str, str]]]:
    """(a built cell whose install changed since, the old dist/, the new dist/'s state)."""
    build, old = tmp_path / "build", tmp_path / "old"
    paths = built_cell(build, jit)
    package_unproven(jit, paths, key=key_for(jit), dist=old)
    (paths.install / "lib/json/added.py").write_text("CHANGED = True\n")
    record_verification(paths)  # verified again
    new = tmp_path / "new"
    shutil.copytree(old, new)
    faults.reached.clear()
    package_unproven(jit, paths, key=key_for(jit), dist=new)
    yield build, old, state(new)


def test_killed_at_every_step_dist_is_the_old_one_or_the_new_one(
    tmp_path: Path, old_and_new: tuple[Path, Path, dict[str, str]]
) -> None:
    build, old, new = old_and_new
    points = list(faults.reached)
    assert "committed" in points and points[-1] == "published"
    assert len(points) >= 10
    outcomes = {}
    for number, point in enumerate(["entry 10", *points]):
        dist = tmp_path / f"dist-{number}"
        shutil.copytree(old, dist)
        if point == "entry 10":
            assert package_in_child(build, dist, entry=10) == -9
        else:
            assert package_in_child(build, dist, fault=point) == -9, point
        assert index.check(dist) == [], point
        after = state(dist)
        assert after in (state(old), new), point
        outcomes[point] = "new" if after == new else "old"
    assert outcomes["entry 10"] == outcomes[points[0]] == "old"
    assert outcomes["committed"] == outcomes["published"] == "new"


def test_invoke_index_check_finishes_a_publication_killed_half_way(
    tmp_path: Path, old_and_new: tuple[Path, Path, dict[str, str]]
) -> None:
    build, old, new = old_and_new
    applied_first = next(p for p in faults.reached if p.startswith("applied "))
    dist = tmp_path / "dist"
    shutil.copytree(old, dist)
    assert package_in_child(build, dist, fault=applied_first) == -9
    assert (dist / publish.COMMITTED).is_dir()
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "index", "--check", "--dist", str(dist)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "finished a publication that was interrupted after its commit" in done.stderr
    assert state(dist) == new


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MB tmpfs (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)])
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def fill(disk: Path, leave: int) -> None:
    """Take the disk's free space down to ``leave`` bytes (rounded down to a page)."""
    free = shutil.disk_usage(disk).free
    with (disk / "filler").open("wb") as filler:
        filler.write(b"\0" * max(0, free - leave))
        filler.flush()
        os.fsync(filler.fileno())


def test_a_full_disk_names_the_path_and_leaves_nothing_new(
    tmp_path: Path, tiny_disk: Path, jit: Cell
) -> None:
    """The disk holds the archive but not its manifest: the case that once published an
    archive with no manifest and no checksum line."""
    paths = built_cell(tmp_path / "build", jit)
    reference = package_unproven(jit, paths, key=key_for(jit), dist=tmp_path / "reference")
    dist = tiny_disk / "dist"
    dist.mkdir()
    page = 4096
    archives = [p.stat().st_size for p in reference.archive.parent.glob(f"{jit.id}*.tar.*")]
    fill(tiny_disk, leave=sum(-(-size // page) * page for size in archives))
    before = state(dist)
    with pytest.raises(ArtifactError) as full:
        package_unproven(jit, paths, key=key_for(jit), dist=dist)
    message = full.value.message
    assert "No space left on device" in message
    written_last = (str(dist / f"{jit.id}{name}") for name in (".json", ".cdx.json"))
    assert any(path in message for path in written_last) and "nothing was published" in message
    assert state(dist) == before == {}
