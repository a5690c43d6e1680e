"""Deterministic, atomic archives of real trees."""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

import pytest
from artifactkit import install_tree

from cpmatrix.artifacts import archive
from cpmatrix.util import fileio, sourcedate
from cpmatrix.util.errors import ArtifactError, UsageError
from cpmatrix.util.fileio import write_text_atomic


def pack(root: Path, destination: Path, **options: object) -> archive.Written:
    with archive.partial_file(destination) as partial:
        written = archive.write_tar_gz(root, partial, top="cpython-x", **options)  # type: ignore[arg-type]
        partial.replace(destination)
    return written


def test_the_same_tree_packs_to_the_same_bytes(tmp_path: Path) -> None:
    first = install_tree(tmp_path / "one")
    second = tmp_path / "two"
    shutil.copytree(first, second, symlinks=True)
    os.utime(second / "lib/json/__init__.py", (1, 1))  # other mtimes, modes and umask
    (second / "lib/json/decoder.py").chmod(0o600)
    (second / "share/empty-dir").chmod(0o700)
    a = pack(first, tmp_path / "out/a.tar.gz")
    b = pack(second, tmp_path / "out/b.tar.gz")
    assert (tmp_path / "out/a.tar.gz").read_bytes() == (tmp_path / "out/b.tar.gz").read_bytes()
    assert a.sha256 == b.sha256 == fileio.sha256_of(tmp_path / "out/a.tar.gz")
    assert a.size == (tmp_path / "out/a.tar.gz").stat().st_size


def test_entries_are_sorted_normalised_and_under_one_top(tmp_path: Path) -> None:
    tree = install_tree(tmp_path / "tree")
    written = pack(tree, tmp_path / "a.tar.gz", mtime=1_700_000_000)
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names[0] == "cpython-x"
    assert all(n == "cpython-x" or n.startswith("cpython-x/") for n in names)
    assert len(members) == written.entries
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
    assert {m.mtime for m in members} == {1_700_000_000}
    modes = {m.name.removeprefix("cpython-x/"): m.mode for m in members}
    assert modes["bin/py"] == 0o755 and modes["lib/json/decoder.py"] == 0o644
    assert modes["share/empty-dir"] == 0o755
    link = next(m for m in members if m.name == "cpython-x/bin/python3")
    assert link.issym() and link.linkname == "py"
    order = [tuple(n.split("/")) for n in names]
    assert order == sorted(order, key=lambda parts: [p.encode() for p in parts])


def test_source_date_epoch_sets_every_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = install_tree(tmp_path / "tree")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert pack(tree, tmp_path / "d.tar.gz").mtime == sourcedate.DEFAULT_SOURCE_DATE_EPOCH
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    assert pack(tree, tmp_path / "e.tar.gz").mtime == 1234567890
    with tarfile.open(tmp_path / "e.tar.gz") as tar:
        assert {m.mtime for m in tar.getmembers()} == {1234567890}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH"):
        sourcedate.source_date_epoch()


def test_a_symlink_out_of_the_tree_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    tree = install_tree(tmp_path / "tree")
    (tree / "bin/outside").symlink_to("/etc/passwd")
    out = tmp_path / "dist"
    with pytest.raises(ArtifactError, match="outside the tree"):
        pack(tree, out / "a.tar.gz")
    assert list(out.iterdir()) == []


def test_an_interrupted_write_leaves_no_partial(tmp_path: Path) -> None:
    tree = install_tree(tmp_path / "tree")
    out = tmp_path / "dist"

    def interrupt(count: int) -> None:
        if count == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pack(tree, out / "a.tar.gz", on_entry=interrupt)
    assert list(out.iterdir()) == []


def test_atomic_text_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "index.json"
    write_text_atomic(target, "one\n")
    write_text_atomic(target, "two\n")
    assert target.read_text() == "two\n"
    assert [p.name for p in tmp_path.iterdir()] == ["index.json"]
