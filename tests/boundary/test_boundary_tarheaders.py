"""Class 10 of issue 21: extended tar headers (pax, GNU long name) are bounded before tarfile
reads them whole."""

from __future__ import annotations

import gzip
import io
import resource
import tarfile
from pathlib import Path

import pytest

from cpmatrix.sources import extract
from cpmatrix.util import safetar
from cpmatrix.util.errors import SourceError

DECLARED = 512 << 20


def header(kind: bytes, size: int) -> bytes:
    info = tarfile.TarInfo(
        "././@PaxHeader" if kind != tarfile.GNUTYPE_LONGNAME else "././@LongLink"
    )
    info.type, info.size = kind, size
    return info.tobuf(
        format=tarfile.USTAR_FORMAT if kind != tarfile.GNUTYPE_LONGNAME else tarfile.GNU_FORMAT
    )


def hostile(path: Path, kind: bytes, body: int) -> Path:
    """A gzipped tar whose first header declares a 512 MiB extended header; ``body`` bytes of
    it follow (zeros, which gzip shrinks to almost nothing)."""
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(header(kind, DECLARED))
        block = b"\0" * (1 << 20)
        for _ in range(body >> 20):
            out.write(block)
    return path


@pytest.mark.parametrize(
    "kind",
    [tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.GNUTYPE_LONGNAME],
    ids=["pax", "global", "gnu"],
)
def test_a_huge_extended_header_is_refused_unread(kind: bytes, tmp_path: Path) -> None:
    archive = hostile(tmp_path / "Python-3.13.5.tar.gz", kind, body=0)
    with pytest.raises(safetar.ArchiveRefused, match="extended header of 536870912 bytes"):
        safetar.extract(archive, tmp_path / "out", limits=safetar.SOURCE_LIMITS)


def test_a_huge_pax_header_costs_no_memory(tmp_path: Path) -> None:
    archive = hostile(tmp_path / "Python-3.13.5.tar.gz", tarfile.XHDTYPE, body=160 << 20)
    assert archive.stat().st_size < 1 << 20
    (tmp_path / "out").mkdir()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SourceError, match="refused"):
        extract.extract(archive, tmp_path / "out")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024  # KiB


def test_ordinary_long_names_still_extract(tmp_path: Path) -> None:
    long_name = "top/" + "d" * 200 + "/" + "f" * 200
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        top = tarfile.TarInfo("top")
        top.type = tarfile.DIRTYPE
        tar.addfile(top)
        info = tarfile.TarInfo(long_name)
        info.size = 2
        tar.addfile(info, io.BytesIO(b"ok"))
    (tmp_path / "a.tar").write_bytes(buffer.getvalue())
    (tmp_path / "out").mkdir()
    root = safetar.extract(tmp_path / "a.tar", tmp_path / "out")
    assert (root / ("d" * 200) / ("f" * 200)).read_bytes() == b"ok"
