"""Tar safety: crafted archives are refused before anything lands outside the scratch tree."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from sourcekit import tarball_bytes

from cpmatrix.errors import SourceError
from cpmatrix.sources.extract import extract

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


HOSTILE = {
    "absolute path": (member("/tmp/cpmatrix-evil-absolute"), "absolute path"),
    "dot-dot": (member(f"{TOP}/../../outside/evil"), "'..'"),
    "symlink to absolute": (
        member(f"{TOP}/link", tarfile.SYMTYPE, "/etc/passwd"),
        "symlink to the absolute path",
    ),
    "symlink escaping": (
        member(f"{TOP}/Lib/link", tarfile.SYMTYPE, "../../../outside"),
        "symlink escaping the tree",
    ),
    "symlink to a sibling top-level directory": (
        member(f"{TOP}/Lib/sibling", tarfile.SYMTYPE, "../../Other/secret"),
        "symlink escaping the tree",
    ),
    "hardlink escaping": (
        member(f"{TOP}/hard", tarfile.LNKTYPE, "../outside/evil"),
        "hard link escaping the tree",
    ),
    "character device": (member(f"{TOP}/tty", tarfile.CHRTYPE), "device or FIFO"),
    "fifo": (member(f"{TOP}/pipe", tarfile.FIFOTYPE), "device or FIFO"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_members_are_refused(case: str, tmp_path: Path, sandbox: tuple[Path, Path]) -> None:
    hostile, words = HOSTILE[case]
    archive = crafted(tmp_path / "evil.tar.xz", hostile)
    scratch, outside = sandbox
    with pytest.raises(SourceError) as refused:
        extract(archive, scratch)
    assert words in refused.value.message
    assert repr(hostile.name) in refused.value.message
    assert list(outside.iterdir()) == []
    assert not Path("/tmp/cpmatrix-evil-absolute").exists()


def test_links_inside_the_tree_are_kept(tmp_path: Path, sandbox: tuple[Path, Path]) -> None:
    archive = crafted(
        tmp_path / "fine.tar.xz",
        member(f"{TOP}/Lib/data.txt"),
        member(f"{TOP}/Lib/alias.txt", tarfile.SYMTYPE, "data.txt"),
        member(f"{TOP}/copy.txt", tarfile.LNKTYPE, f"{TOP}/Lib/data.txt"),
    )
    top = extract(archive, sandbox[0])
    assert top.name == TOP
    assert (top / "Lib/alias.txt").is_symlink()
    assert (top / "Lib/alias.txt").read_text() == "payload\n"
    assert (top / "copy.txt").read_text() == "payload\n"


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
    with pytest.raises(SourceError, match="one top-level directory"):
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
