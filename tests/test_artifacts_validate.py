"""The portability gate on real ELF files: bundled trees pass, a stray dependency fails."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import elfkit
import pytest

from cpmatrix.artifacts import validate
from cpmatrix.builders import finish_tree
from cpmatrix.errors import ArtifactError

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
