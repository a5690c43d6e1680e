"""Source tarballs that are not CPython, or not whole. Hostile ones: tests/util/test_safetar.py."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from sourcekit import tarball_bytes

from cpmatrix.sources.extract import extract
from cpmatrix.util.errors import SourceError

TOP = "Python-3.13.99"


def crafted(path: Path, *members: tarfile.TarInfo, data: bytes = b"payload\n") -> Path:
    """A .tar.xz with a normal first member, then the given (possibly hostile) members."""
    with tarfile.open(path, "w:xz") as archive:
        for name in ("configure", "Include/patchlevel.h"):
            good = tarfile.TarInfo(f"{TOP}/{name}")
            good.size = 3
            archive.addfile(good, io.BytesIO(b"ok\n"))
        for member in members:
            if member.isfile():
                member.size = len(data)
                archive.addfile(member, io.BytesIO(data))
            else:
                archive.addfile(member)
    return path


def member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, Path]:
    """(scratch dir to extract into, a directory beside it that nothing may touch)."""
    scratch, outside = tmp_path / "scratch" / "x", tmp_path / "outside"
    scratch.mkdir(parents=True)
    outside.mkdir()
    return scratch, outside


def test_truncated_archive_is_refused(tmp_path: Path, sandbox: tuple[Path, Path]) -> None:
    data = tarball_bytes(files={f"Lib/m{i}.py": f"# {i}\n" * 5000 for i in range(20)})
    archive = tmp_path / "cut.tar.xz"
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match="truncated or corrupt"):
        extract(archive, sandbox[0])


def test_garbage_is_refused(tmp_path: Path, sandbox: tuple[Path, Path]) -> None:
    archive = tmp_path / "noise.tar.xz"
    archive.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(SourceError, match="truncated or corrupt"):
        extract(archive, sandbox[0])


def test_a_tree_without_configure_is_not_cpython(
    tmp_path: Path, sandbox: tuple[Path, Path]
) -> None:
    archive = tmp_path / "other.tar.xz"
    archive.write_bytes(tarball_bytes(files={"setup.py": "print()\n"}))
    with pytest.raises(SourceError, match="not a CPython source tree: no configure"):
        extract(archive, sandbox[0])


def test_more_than_one_top_level_directory_is_refused(
    tmp_path: Path, sandbox: tuple[Path, Path]
) -> None:
    archive = crafted(tmp_path / "two.tar.xz", member("Other-1.0/file"))
    with pytest.raises(SourceError, match=r"refused two\.tar\.xz: .*one top-level directory"):
        extract(archive, sandbox[0])


def test_dot_slash_prefixed_archive_extracts(tmp_path: Path, sandbox: tuple[Path, Path]) -> None:
    archive = tmp_path / "dotted.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.addfile(member(".", tarfile.DIRTYPE))
        for name in ("configure", "Include/patchlevel.h"):
            info = member(f"./{TOP}/{name}")
            info.size = 3
            tar.addfile(info, io.BytesIO(b"ok\n"))
    top = extract(archive, sandbox[0])
    assert (top / "Include/patchlevel.h").read_text() == "ok\n"
