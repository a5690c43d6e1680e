"""The portability gate on real ELF files: bundled trees pass, a stray dependency fails."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import elfkit
import pytest

from cpmatrix.artifacts import validate
from cpmatrix.builders import finish_tree
from cpmatrix.util import elfinfo
from cpmatrix.util.errors import ArtifactError

HOST_GLIBC = (os.confstr("CS_GNU_LIBC_VERSION") or "glibc 2.36").split()[1]
"""What this host's compiler links against; the floor of the trees these tests compile."""


def bundled_tree(tmp_path: Path) -> Path:
    built = elfkit.make(tmp_path)
    finish_tree.bundle(built.tree, built.sysroot)
    return built.tree


def test_a_bundled_tree_passes(tmp_path: Path) -> None:
    assert validate.check_tree(bundled_tree(tmp_path), glibc_floor=HOST_GLIBC) == []


def test_an_elf_file_needing_an_outside_library_is_named_with_the_library(
    tmp_path: Path,
) -> None:
    tree = bundled_tree(tmp_path)
    stray = tree / "lib/python3.13/lib-dynload/_stray.so"
    shutil.copy2(tmp_path / "sysroot/usr/lib/x86_64-linux-gnu/libcpmx.so.1", stray)
    problems = validate.check_tree(tree, glibc_floor=HOST_GLIBC)
    assert [str(p) for p in problems] == [
        "lib/python3.13/lib-dynload/_stray.so: needs libcpmxdep.so.2, which is not in the "
        "artifact (no RUNPATH) and not allowed from the host"
    ]
    with pytest.raises(ArtifactError, match=r"_stray\.so: needs libcpmxdep\.so\.2"):
        validate.require_portable(tree, cell_id="cpython-x", glibc_floor=HOST_GLIBC)


def test_a_runpath_outside_the_tree_is_refused(tmp_path: Path) -> None:
    built = elfkit.make(tmp_path)
    finish_tree.run("patchelf", "--set-rpath", str(built.sysroot), str(built.program))
    problems = [str(p) for p in validate.check_tree(built.tree, glibc_floor=HOST_GLIBC)]
    assert any("RUNPATH" in p and "outside" in p for p in problems)


def test_a_glibc_version_above_the_floor_is_named(tmp_path: Path) -> None:
    tree = bundled_tree(tmp_path)
    highest = max(
        info.glibc
        for path in tree.rglob("*")
        if path.is_file() and (info := validate.elfinfo.read(path)) and info.glibc
    )
    below = ".".join(map(str, (highest[0], highest[1] - 1)))
    problems = [str(p) for p in validate.check_tree(tree, glibc_floor=below)]
    assert problems and all(f"above the floor {below}" in p for p in problems)


def hardened_module(tree: Path, name: str, *flags: str) -> Path:
    """A shared object in lib-dynload, linked with these extra flags."""
    source = tree.parent / f"{name}.c"
    source.write_text("int cpmx_hardening(void) { return 1; }\n")
    out = tree / "lib/python3.13/lib-dynload" / f"{name}.so"
    elfkit.cc("-shared", "-fPIC", "-o", out, source, *flags)
    return out


def test_the_gate_refuses_a_tree_with_an_executable_stack_elf_file(tmp_path: Path) -> None:
    tree = bundled_tree(tmp_path)
    hardened_module(tree, "_execstack", "-Wl,-z,execstack")
    problems = [str(p) for p in validate.check_tree(tree, glibc_floor=HOST_GLIBC)]
    assert problems == [
        "lib/python3.13/lib-dynload/_execstack.so: "
        "executable stack (PT_GNU_STACK missing or with PF_X)"
    ]
    with pytest.raises(ArtifactError, match="executable stack"):
        validate.require_portable(tree, cell_id="cpython-x", glibc_floor=HOST_GLIBC)


def test_the_gate_refuses_no_relro_and_records_bind_now(tmp_path: Path) -> None:
    tree = bundled_tree(tmp_path)
    hardened_module(tree, "_norelro", "-Wl,-z,norelro")
    hardened_module(tree, "_now", "-Wl,-z,relro,-z,now")
    problems = [str(p) for p in validate.check_tree(tree, glibc_floor=HOST_GLIBC)]
    assert problems == ["lib/python3.13/lib-dynload/_norelro.so: no RELRO segment (PT_GNU_RELRO)"]
    record = elfinfo.requirements(tree).record()["hardening"]
    assert isinstance(record, dict) and record["mapped_files"] == 6
    assert (record["relro"], record["bind_now"], record["non_executable_stack"]) == (5, 1, 6)
    assert record["text_relocations"] == record["writable_and_executable"] == 0
