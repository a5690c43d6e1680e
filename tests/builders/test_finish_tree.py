"""The portable phase's script on real ELF files: bundling, RUNPATHs, sanitizing, debug split."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import elfkit
import pytest

from cpmatrix.builders import finish_tree, portable
from cpmatrix.util import elfinfo


@pytest.fixture
def built(tmp_path: Path) -> elfkit.ElfTree:
    return elfkit.make(tmp_path)


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}


def test_before_bundling_the_program_cannot_find_its_library(built: elfkit.ElfTree) -> None:
    done = subprocess.run([built.program], capture_output=True, text=True, env=clean_env())
    assert done.returncode != 0 and "libcpmx.so.1" in done.stderr


def test_bundle_copies_every_needed_library_and_the_program_runs_without_the_sysroot(
    built: elfkit.ElfTree,
) -> None:
    bundled = finish_tree.bundle(built.tree, built.sysroot)
    assert [entry["soname"] for entry in bundled] == ["libcpmx.so.1", "libcpmxdep.so.2"]
    libs = built.tree / finish_tree.BUNDLE_DIR
    assert sorted(p.name for p in libs.iterdir()) == ["libcpmx.so.1", "libcpmxdep.so.2"]
    program = elfinfo.read(built.program)
    module = elfinfo.read(built.module)
    library = elfinfo.read(libs / "libcpmx.so.1")
    assert program is not None and program.runpath == ("$ORIGIN/../lib/cpmatrix-libs",)
    assert module is not None and module.runpath == ("$ORIGIN/../../cpmatrix-libs",)
    assert library is not None and library.runpath == ("$ORIGIN",)
    moved = built.tree.rename(built.tree.parent / "elsewhere")
    done = subprocess.run(
        [moved / "bin/python3.13"], capture_output=True, text=True, env=clean_env(), check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "42"), done.stderr


def test_a_library_the_sysroot_lacks_stops_the_phase_with_its_name(
    built: elfkit.ElfTree,
) -> None:
    (built.sysroot / "usr/lib/x86_64-linux-gnu/libcpmxdep.so.2").unlink()
    with pytest.raises(SystemExit, match=r"needs libcpmxdep\.so\.2, not in"):
        finish_tree.bundle(built.tree, built.sysroot)


def test_host_libraries_are_never_bundled(built: elfkit.ElfTree) -> None:
    finish_tree.bundle(built.tree, built.sysroot)
    bundled = {p.name for p in (built.tree / finish_tree.BUNDLE_DIR).iterdir()}
    assert not bundled & finish_tree.HOST_LIBRARIES


def test_sanitize_removes_the_sysroot_from_what_extension_builds_read(tmp_path: Path) -> None:
    config = tmp_path / "lib/python3.13/_sysconfigdata__linux_x86_64-linux-gnu.py"
    config.parent.mkdir(parents=True)
    config.write_text(
        "build_time_vars = {'CC': 'gcc --sysroot=/opt/sysroot', "
        "'LIBFFI_CFLAGS': '-I/opt/sysroot/usr/include/x86_64-linux-gnu'}\n"
    )
    stale = config.parent / "__pycache__" / f"{config.stem}.cpython-313.pyc"
    stale.parent.mkdir()
    stale.write_bytes(b"stale")
    makefile = tmp_path / "lib/python3.13/config-3.13-x86_64-linux-gnu/Makefile"
    makefile.parent.mkdir()
    makefile.write_text("CC=\t\tgcc --sysroot=/opt/sysroot\nLDSHARED=$(CC) -shared\n")
    changed = finish_tree.sanitize(tmp_path, "/opt/sysroot")
    assert len(changed) == 2
    assert "sysroot" not in config.read_text() and "sysroot" not in makefile.read_text()
    assert "'CC': 'gcc'" in config.read_text()
    assert "-I/usr/include/x86_64-linux-gnu" in config.read_text()
    assert not stale.exists()


def test_split_debug_strips_and_keeps_debug_info_by_build_id(built: elfkit.ElfTree) -> None:
    assert finish_tree.has_debug_info(built.module)
    dbgsym = built.tree.parent / "dbgsym"
    written = finish_tree.split_debug(built.tree, dbgsym)
    assert {entry["file"] for entry in written} == {
        "bin/python3.13",
        built.module.relative_to(built.tree).as_posix(),
    }
    for entry in written:
        assert not finish_tree.has_debug_info(built.tree / entry["file"])
        debug = dbgsym / entry["debug"]
        assert entry["debug"].startswith(".build-id/") and finish_tree.has_debug_info(debug)
        assert entry["debug"] == (
            f".build-id/{entry['build_id'][:2]}/{entry['build_id'][2:]}.debug"
        )


def test_main_writes_its_report(built: elfkit.ElfTree, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    argv = [
        "--tree", str(built.tree), "--sysroot", str(built.sysroot),
        "--dbgsym", str(tmp_path / "dbg"), "--report", str(report),
    ]  # fmt: skip
    assert finish_tree.main(argv) == 0
    data = json.loads(report.read_text())
    assert [b["soname"] for b in data["bundled"]] == ["libcpmx.so.1", "libcpmxdep.so.2"]
    assert len(data["debug_files"]) == 4


def test_the_finish_command_runs_the_script_from_the_work_dir() -> None:
    command = portable.Sysroot().finish_command(
        work_dir="/build/work", tree="/build/stage/opt/x", dbgsym="/build/stage/dbgsym"
    )
    assert command[:2] == ("python3", f"/build/work/{portable.SCRIPT_NAME}")
    assert command[command.index("--sysroot") + 1] == portable.SYSROOT
    files = portable.script_files()
    assert files[portable.SCRIPT_NAME].startswith(b'"""Make a staged CPython install tree')
    assert files["cpmatrix/builders/relocate.py"].startswith(b'"""Make what a staged')


def test_object_files_are_not_bundled_but_lose_their_debug_info(built: elfkit.ElfTree) -> None:
    """make install puts python.o into config-3.X/: patchelf refuses it ("wrong ELF type")."""
    config = built.tree / "lib/python3.13/config-3.13-x86_64-linux-gnu"
    config.mkdir(parents=True)
    source = built.tree.parent / "src" / "obj.c"
    source.write_text("int cpmx_object(void) { return 7; }\n")
    elfkit.cc("-g", "-c", "-o", config / "python.o", source)
    assert finish_tree.elf_type(config / "python.o") == 1 and not finish_tree.is_elf(
        config / "python.o"
    )
    finish_tree.bundle(built.tree, built.sysroot)
    finish_tree.split_debug(built.tree, built.tree.parent / "dbgsym")
    assert not finish_tree.has_debug_info(config / "python.o")


def test_an_lto_builds_bitcode_objects_are_left_as_they_are(
    built: elfkit.ElfTree, tmp_path: Path
) -> None:
    """--with-lto installs python.o and libpython3.13.a holding LLVM bitcode: strip cannot read
    them ("file format not recognized", the optimized 3.13.5 build's portable phase, 2026-12-02)
    and they carry no DWARF, so the phase leaves them untouched."""
    import subprocess

    config = built.tree / "lib/python3.13/config-3.13-x86_64-linux-gnu"
    config.mkdir(parents=True)
    bitcode = b"BC\xc0\xde" + bytes(range(256)) * 4
    (config / "python.o").write_bytes(bitcode)
    member = tmp_path / "token.o"
    member.write_bytes(bitcode)
    subprocess.run(["ar", "rcs", str(config / "libpython3.13.a"), str(member)], check=True)
    before = (config / "libpython3.13.a").read_bytes()
    assert not finish_tree.holds_elf_objects(config / "python.o")
    assert not finish_tree.holds_elf_objects(config / "libpython3.13.a")
    finish_tree.split_debug(built.tree, built.tree.parent / "dbgsym")
    assert (config / "python.o").read_bytes() == bitcode
    assert (config / "libpython3.13.a").read_bytes() == before


def test_a_static_archive_of_elf_objects_is_still_stripped(
    built: elfkit.ElfTree, tmp_path: Path
) -> None:
    import subprocess

    config = built.tree / "lib/python3.13/config-3.13-x86_64-linux-gnu"
    config.mkdir(parents=True)
    source = tmp_path / "obj.c"
    source.write_text("int cpmx_archived(void) { return 3; }\n")
    elfkit.cc("-g", "-c", "-o", tmp_path / "obj.o", source)
    archive = config / "libpython3.13.a"
    subprocess.run(["ar", "rcs", str(archive), str(tmp_path / "obj.o")], check=True)
    assert finish_tree.holds_elf_objects(archive)
    before = archive.stat().st_size
    finish_tree.split_debug(built.tree, built.tree.parent / "dbgsym")
    assert archive.stat().st_size < before
