"""Hostile archives against every extraction path: sources, artifacts, and ``prepare()``.

Each archive is real tar bytes made here. A case passes only when the archive is refused with
a message that says so and names the member, and nothing appeared outside the destination.
These run on the oldest Python the project accepts (3.11, whose tarfile filter is not fixed
before 3.11.13): the CVE-2025-4517 shape below escapes tarfile's own ``data`` filter there.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from sourcekit import small_release

from cpmatrix import artifacts
from cpmatrix.sources import SourceCache, prepare
from cpmatrix.sources.extract import extract as extract_source
from cpmatrix.util import safetar
from cpmatrix.util.errors import CpmatrixError

TOP = "Python-3.13.99"
Member = tuple[tarfile.TarInfo, bytes | None]


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", size: int = -1) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o755 if kind == tarfile.DIRTYPE else 0o644
    if kind == tarfile.REGTYPE:
        data = b"payload\n"
        info.size = len(data) if size < 0 else size
        return info, data if size < 0 else None
    return info, None


def write(path: Path, members: list[Member]) -> Path:
    """A .tar.gz: a CPython-shaped head, then ``members`` in order."""
    head = [entry(f"{TOP}/configure"), entry(f"{TOP}/Include/patchlevel.h")]
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as archive:
        for info, data in head + members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def path_max_chain() -> list[Member]:
    """CVE-2025-4517's shape: links whose resolved path passes PATH_MAX, then one out."""
    component = "d" * 247
    steps = "abcdefghijklmnop"
    members: list[Member] = []
    path = TOP
    for step in steps:
        members.append(entry(f"{path}/{component}", tarfile.DIRTYPE))
        members.append(entry(f"{path}/{step}", tarfile.SYMTYPE, component))
        path = f"{path}/{component}"
    deep = "/".join([TOP, *steps, "l" * 254])
    members.append(entry(deep, tarfile.SYMTYPE, "../" * len(steps)))
    members.append(entry(f"{TOP}/escape", tarfile.SYMTYPE, deep[len(TOP) + 1 :] + "/../.."))
    members.append(entry(f"{TOP}/escape/written-outside"))
    return members


HOSTILE: dict[str, tuple[list[Member], str]] = {
    "dot-dot": ([entry(f"{TOP}/../outside/evil")], "'..' component"),
    "absolute path": ([entry("/tmp/cpmatrix-hostile-absolute")], "absolute path"),
    "absolute symlink": (
        [entry(f"{TOP}/link", tarfile.SYMTYPE, "/etc")],
        "absolute path '/etc'",
    ),
    "relative symlink out": (
        [entry(f"{TOP}/Lib/link", tarfile.SYMTYPE, "../../outside")],
        "leaves the archive's top directory",
    ),
    "symlink out then a file through it": (
        [entry(f"{TOP}/out", tarfile.SYMTYPE, ".."), entry(f"{TOP}/out/outside/evil")],
        "leaves the archive's top directory",
    ),
    "symlink to a sibling top directory": (
        [entry(f"{TOP}/Lib/sibling", tarfile.SYMTYPE, "../../Other/secret")],
        "leaves the archive's top directory",
    ),
    "hard link out": (
        [entry(f"{TOP}/hard", tarfile.LNKTYPE, "../outside/evil")],
        "hard link to '../outside/evil'",
    ),
    "hard link to an absolute path": (
        [entry(f"{TOP}/hard", tarfile.LNKTYPE, "/etc/passwd")],
        "hard link to '/etc/passwd'",
    ),
    "hard link through an escaping symlink": (
        [entry(f"{TOP}/up", tarfile.SYMTYPE, "."), entry(f"{TOP}/h", tarfile.LNKTYPE, "up/..")],
        "hard link to 'up/..'",
    ),
    "character device": ([entry(f"{TOP}/tty", tarfile.CHRTYPE)], "device file"),
    "block device": ([entry(f"{TOP}/sda", tarfile.BLKTYPE)], "device file"),
    "fifo": ([entry(f"{TOP}/pipe", tarfile.FIFOTYPE)], "FIFO"),
    "s -> . and a -> s/s/..": (
        [entry(f"{TOP}/s", tarfile.SYMTYPE, "."), entry(f"{TOP}/a", tarfile.SYMTYPE, "s/s/..")],
        "is a symlink to 's/s/..' that leaves",
    ),
    "a -> s/.. first, s -> . after": (
        [entry(f"{TOP}/a", tarfile.SYMTYPE, "s/.."), entry(f"{TOP}/s", tarfile.SYMTYPE, ".")],
        "is a symlink to 's/..' that leaves",
    ),
    "link loop": (
        [
            entry(f"{TOP}/x", tarfile.SYMTYPE, "y"),
            entry(f"{TOP}/y", tarfile.SYMTYPE, "x"),
        ],
        "loops",
    ),
    "PATH_MAX chain (CVE-2025-4517)": (path_max_chain(), "PATH_MAX"),
    "huge declared size": (
        [entry(f"{TOP}/big", size=1 << 40)],
        f"declares {1 << 40} bytes",
    ),
    "second top-level directory": ([entry("Other-1.0/file")], "one top-level directory"),
}

Extractor = Callable[[Path, Path], Path]
EXTRACTORS: dict[str, Extractor] = {"sources": extract_source, "artifacts": artifacts.extract}


def everything_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("path", sorted(EXTRACTORS))
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archive_is_refused_and_writes_nothing_outside(
    case: str, path: str, tmp_path: Path
) -> None:
    members, words = HOSTILE[case]
    archive = write(tmp_path / "hostile.tar.gz", members)
    scratch = tmp_path / "scratch" / "x"
    scratch.mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    before = everything_under(tmp_path)
    with pytest.raises(CpmatrixError) as refused:
        EXTRACTORS[path](archive, scratch)
    assert refused.value.message.startswith("refused hostile.tar.gz: ")
    assert words in refused.value.message
    assert everything_under(tmp_path) == before  # nothing written at all, inside or out
    assert not Path("/tmp/cpmatrix-hostile-absolute").exists()


@pytest.mark.skipif(sys.version_info >= (3, 11, 13), reason="tarfile's filter is fixed here")
def test_the_path_max_chain_escapes_tarfiles_own_filter_on_this_python(tmp_path: Path) -> None:
    """Why cpmatrix does not rely on tarfile's ``data`` filter: on this interpreter it lets the
    CVE-2025-4517 archive write outside the destination."""
    archive = write(tmp_path / "cve.tar.gz", path_max_chain())
    destination = tmp_path / "a" / "b" / "c"
    destination.mkdir(parents=True)
    with tarfile.open(archive) as tar, contextlib.suppress(tarfile.TarError, OSError):
        tar.extractall(destination, filter="data")
    escaped = [p for p in tmp_path.rglob("written-outside") if destination not in p.parents]
    assert escaped, "tarfile refused the archive: the test's premise no longer holds"


def test_links_inside_the_tree_extract_as_tar_would(tmp_path: Path) -> None:
    archive = write(
        tmp_path / "fine.tar.gz",
        [
            entry(f"{TOP}/Lib/data.txt"),
            entry(f"{TOP}/Lib/alias.txt", tarfile.SYMTYPE, "data.txt"),
            entry(f"{TOP}/lib", tarfile.SYMTYPE, "Lib"),
            entry(f"{TOP}/lib/through.txt"),
            entry(f"{TOP}/copy.txt", tarfile.LNKTYPE, f"{TOP}/Lib/data.txt"),
            entry(f"{TOP}/self", tarfile.SYMTYPE, "."),
        ],
    )
    (tmp_path / "x").mkdir()
    top = extract_source(archive, tmp_path / "x")
    assert (top / "Lib/alias.txt").is_symlink() and (
        top / "Lib/alias.txt"
    ).read_text() == "payload\n"
    assert (top / "Lib/through.txt").is_file() and not (top / "Lib/through.txt").is_symlink()
    assert (top / "copy.txt").stat().st_nlink == 2
    assert (top / "self").readlink() == Path()


def test_set_id_bits_and_group_write_are_dropped(tmp_path: Path) -> None:
    info, data = entry(f"{TOP}/setuid")
    info.mode = 0o6777
    (tmp_path / "x").mkdir()
    top = extract_source(write(tmp_path / "modes.tar.gz", [(info, data)]), tmp_path / "x")
    assert (top / "setuid").stat().st_mode & 0o7777 == 0o755


def test_member_count_is_bounded(tmp_path: Path) -> None:
    archive = write(tmp_path / "many.tar.gz", [entry(f"{TOP}/f{i}") for i in range(20)])
    (tmp_path / "x").mkdir()
    with pytest.raises(safetar.ArchiveRefused, match="more than 10 members"):
        safetar.extract(archive, tmp_path / "x", limits=safetar.Limits(max_members=10))
    assert list((tmp_path / "x").iterdir()) == []


def test_a_refused_source_tarball_is_removed_from_the_cache(tmp_path: Path) -> None:
    hostile = write(tmp_path / "hostile.tar.gz", HOSTILE["s -> . and a -> s/s/.."][0])
    release = small_release("https://example.invalid/x.tar.xz", b"anything")
    cache = SourceCache(tmp_path / "cache")
    with pytest.raises(CpmatrixError) as refused:
        prepare(release, source=str(hostile), cache=cache)
    assert "refused hostile.tar.gz" in refused.value.message
    assert "removed it from the cache" in refused.value.message
    assert "corrupt" not in refused.value.render()
    assert list(cache.tarballs.iterdir()) == []
    assert list(cache.tmp.iterdir()) == []
    assert hostile.is_file()  # the user's own file is theirs
