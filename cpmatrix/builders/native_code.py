"""Step 4 of the portable phase (:mod:`cpmatrix.builders.finish_tree`): machine code where an LTO
build left LLVM bitcode. Standard library only; shipped beside the finish script.

``--with-lto`` compiles every object to bitcode and links the interpreter with LTO; ``make
install`` installs the static libpython and ``config-3.X/python.o`` as that bitcode, which a
team's gcc and GNU ld cannot read ("libpython3.13.a: error adding symbols: file format not
recognized", embedding the first optimized 3.13.5 artifact on bullseye, 2026-12-05). Each bitcode
member is compiled by the build's own clang; the IR keeps the target, the PIC level and the
profile's branch weights, so the machine code is what the PGO build would have made of it
without cross-module inlining.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BITCODE_MAGIC = b"BC\xc0\xde"
AR_MAGIC = b"!<arch>\n"
AR_HEADER = 60


def archive_members(path: Path) -> list[bytes]:
    """The first bytes of each member of a static archive (``ar``), its symbol and name tables
    left out."""
    heads = []
    with path.open("rb") as handle:
        if handle.read(len(AR_MAGIC)) != AR_MAGIC:
            return []
        while len(header := handle.read(AR_HEADER)) == AR_HEADER:
            name, size = header[:16].strip(), int(header[48:58].strip() or 0)
            body = handle.read(size + size % 2)
            if name not in (b"/", b"//", b"/SYM64/"):
                heads.append(body[:4])
    return heads


def is_bitcode(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(BITCODE_MAGIC)) == BITCODE_MAGIC


def compile_bitcode(compiler: str, path: Path) -> None:
    """One LLVM bitcode object to a machine-code one, in place (the IR keeps the target, the
    PIC level and the profile's branch weights)."""
    subprocess.run([compiler, "-c", "-O3", "-x", "ir", str(path), "-o", str(path)], check=True)


def native_static_code(tree: Path, compiler: str, ar: str = "ar") -> list[str]:
    """The static libpython (its ``config-3.X/`` copy too) and ``config-3.X/*.o`` as
    machine code where the build left bitcode; the files it rewrote."""
    changed = []
    for archive in sorted(tree.glob("lib/libpython*.a")):
        if archive.is_symlink() or BITCODE_MAGIC not in archive_members(archive):
            continue
        copies = [
            c for c in tree.glob(f"lib/python3*/config-*/{archive.name}") if _same(c, archive)
        ]
        listed = subprocess.run([ar, "t", str(archive)], capture_output=True, text=True, check=True)
        names = listed.stdout.split()
        if len(set(names)) != len(names):
            raise SystemExit(f"{archive}: members share a name; cannot rebuild it member by member")
        with tempfile.TemporaryDirectory(dir=tree.parent, prefix=".native-") as temporary:
            scratch = Path(temporary)
            subprocess.run([ar, "x", str(archive.resolve())], cwd=scratch, check=True)
            members = [scratch / name for name in names]
            with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                list(pool.map(lambda m: _native(compiler, m), members))
            archive.unlink()
            subprocess.run(
                [ar, "rcs", str(archive.resolve()), *names],
                cwd=scratch,
                check=True,
            )
        for copy in copies:
            shutil.copyfile(archive, copy)
        changed += [str(p.relative_to(tree)) for p in (archive, *copies)]
    for obj in sorted(tree.glob("lib/python3*/config-*/*.o")):
        if not obj.is_symlink() and is_bitcode(obj):
            compile_bitcode(compiler, obj)
            changed.append(str(obj.relative_to(tree)))
    return changed


def _native(compiler: str, member: Path) -> None:
    if is_bitcode(member):
        compile_bitcode(compiler, member)


def _same(one: Path, other: Path) -> bool:
    return not one.is_symlink() and one.read_bytes() == other.read_bytes()
