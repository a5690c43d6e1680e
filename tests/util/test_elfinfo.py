"""ELF facts read with struct, checked against binutils' readelf on real binaries of this host."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cpmatrix.util import elfinfo

HOST_PYTHON = Path("/usr/bin/python3").resolve()
needs_host_python = pytest.mark.skipif(
    not HOST_PYTHON.is_file() or elfinfo.read(HOST_PYTHON) is None,
    reason="no ELF /usr/bin/python3 on this host",
)
needs_readelf = pytest.mark.skipif(shutil.which("readelf") is None, reason="binutils missing")


def readelf_facts(path: Path) -> tuple[str, list[str]]:
    """(highest GLIBC_ version, DT_NEEDED list) as binutils reports them: the oracle."""
    versions = subprocess.run(
        ["readelf", "-V", "-W", str(path)], capture_output=True, text=True, check=True
    ).stdout
    dynamic = subprocess.run(
        ["readelf", "-d", "-W", str(path)], capture_output=True, text=True, check=True
    ).stdout
    glibc = max(
        (tuple(map(int, v.split("."))) for v in re.findall(r"GLIBC_(\d+(?:\.\d+)+)", versions)),
        default=(),
    )
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", dynamic)
    return ".".join(map(str, glibc)), needed


@needs_host_python
@needs_readelf
def test_host_python_matches_readelf() -> None:
    info = elfinfo.read(HOST_PYTHON)
    assert info is not None
    glibc, needed = readelf_facts(HOST_PYTHON)
    assert info.glibc is not None and ".".join(map(str, info.glibc)) == glibc
    assert list(info.needed) == needed
    assert "libc.so.6" in info.needed
    assert info.machine in elfinfo.MACHINES.values()


@needs_readelf
def test_every_extension_module_of_this_python_matches_readelf() -> None:
    dynload = Path(sys.executable).resolve().parent.parent / "lib"
    modules = sorted(dynload.rglob("*.so"))[:40]
    if not modules:
        pytest.skip("this Python has no shared extension modules")
    for module in modules:
        info = elfinfo.read(module)
        assert info is not None, module
        glibc, needed = readelf_facts(module)
        assert ".".join(map(str, info.glibc or ())) == glibc, module
        assert list(info.needed) == needed, module


@needs_host_python
def test_a_tree_counts_the_libraries_it_ships_as_its_own(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    shutil.copy(HOST_PYTHON, tmp_path / "bin/python")
    info = elfinfo.read(HOST_PYTHON)
    assert info is not None
    shipped = info.needed[0]
    (tmp_path / "lib").mkdir()
    shutil.copy(HOST_PYTHON, tmp_path / "lib" / shipped)  # any ELF file under that name
    (tmp_path / "bin/script").write_text("#!/bin/sh\n")
    needs = elfinfo.requirements(tmp_path)
    assert needs.elf_files == 2
    assert shipped not in needs.external_libraries
    assert set(needs.external_libraries) == set(info.needed) - {shipped}
    assert needs.min_glibc == ".".join(map(str, info.glibc or ()))
    assert needs.min_glibc_required_by in {"bin/python", f"lib/{shipped}"}


def test_files_that_are_not_elf_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "text").write_text("hello")
    (tmp_path / "archive.a").write_bytes(b"!<arch>\n" + b"\0" * 64)
    (tmp_path / "truncated").write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 20)
    assert elfinfo.read(tmp_path / "text") is None
    assert elfinfo.read(tmp_path / "archive.a") is None
    assert elfinfo.read(tmp_path / "truncated") is None
    assert elfinfo.requirements(tmp_path).elf_files == 0
    with pytest.raises(elfinfo.NotElf):
        elfinfo.parse(b"\x7fELF\x09\x01" + b"\0" * 60)


def test_glibc_versions_compare_as_numbers() -> None:
    info = elfinfo.ElfFile(
        machine="x86_64",
        soname=None,
        needed=("libc.so.6",),
        versions=(("libc.so.6", "GLIBC_2.9"), ("libc.so.6", "GLIBC_2.38"), ("x", "GLIBC_PRIVATE")),
    )
    assert info.glibc == (2, 38)
