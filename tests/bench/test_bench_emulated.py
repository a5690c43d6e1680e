"""invoke bench refuses interpreters that would run under qemu-user, and only those."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from cpmatrix.bench import emulated
from cpmatrix.bench.columns import Artifact, Column
from cpmatrix.util.errors import UsageError


def elf_header(path: Path, machine: int) -> Path:
    """A bare 64-bit little-endian ELF header (ET_EXEC) of one e_machine."""
    ident = b"\x7fELF\x02\x01\x01" + bytes(9)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, 0, 0, 0, 0, 64, 56, 0, 64, 0, 0)
    path.write_bytes(header)
    return path


def test_an_aarch64_interpreter_is_refused_on_x86_64(tmp_path: Path) -> None:
    python = elf_header(tmp_path / "python3.13", 183)
    column = Column(name="default", interpreter=str(python))
    with pytest.raises(UsageError, match=r"refusing to time default \(aarch64\)") as raised:
        emulated.refuse_emulated([column], machine="x86_64")
    assert "qemu-user" in raised.value.message
    assert "ubuntu-24.04-arm" in raised.value.render()


def test_native_interpreters_are_timed_as_before(tmp_path: Path) -> None:
    python = elf_header(tmp_path / "python3.13", 183)
    emulated.refuse_emulated([Column(name="a", interpreter=str(python))], machine="aarch64")
    true = shutil.which("true")
    assert true is not None
    emulated.refuse_emulated([Column(name="host", interpreter=true)], machine="x86_64")
    emulated.refuse_emulated([Column(name="launcher", interpreter="python3")], machine="x86_64")


def test_a_published_aarch64_archive_is_refused_by_its_manifest(tmp_path: Path) -> None:
    archive = tmp_path / "cpython-3.13.5-default-linux-aarch64.tar.gz"
    archive.write_bytes(b"")
    (tmp_path / "cpython-3.13.5-default-linux-aarch64.json").write_text(
        json.dumps({"platform": "linux-aarch64"})
    )
    found = Artifact(archive=archive, top="t", interpreter="bin/python3.13", consumer="bookworm")
    column = Column(name="default", interpreter="/opt/consumer/t/bin/python3.13", image=found)
    assert emulated.column_arch(column) == "aarch64"
    with pytest.raises(UsageError, match="qemu-user"):
        emulated.refuse_emulated([column], machine="x86_64")
