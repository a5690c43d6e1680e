"""Real ELF files for the portability tests, compiled with this host's C compiler.

A "sysroot" holds a shared library ``libcpmx.so.1`` (and ``libcpmxdep.so.2``, which it needs);
an install tree holds a program and an extension-like shared object that link it, as an
interpreter's ``lib-dynload`` modules link OpenSSL or libffi.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

CC = "cc"


def cc(*argv: str | Path) -> None:
    subprocess.run([CC, *map(str, argv)], check=True, capture_output=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class ElfTree:
    sysroot: Path
    tree: Path
    program: Path
    module: Path


def make(base: Path) -> ElfTree:
    """A sysroot with two chained libraries, and a tree whose files need them."""
    sysroot, tree, src = base / "sysroot", base / "tree", base / "src"
    libdir = sysroot / "usr/lib/x86_64-linux-gnu"
    for directory in (libdir, tree / "bin", tree / "lib/python3.13/lib-dynload", src):
        directory.mkdir(parents=True, exist_ok=True)
    (src / "dep.c").write_text("int cpmx_dep(void) { return 40; }\n")
    (src / "lib.c").write_text(
        "int cpmx_dep(void);\nint cpmx_value(void) { return cpmx_dep() + 2; }\n"
    )
    (src / "main.c").write_text(
        "#include <stdio.h>\nint cpmx_value(void);\n"
        'int main(void) { printf("%d\\n", cpmx_value()); return 0; }\n'
    )
    cc(
        "-g",
        "-shared",
        "-fPIC",
        "-Wl,-soname,libcpmxdep.so.2",
        "-o",
        libdir / "libcpmxdep.so.2",
        src / "dep.c",
    )
    cc(
        "-g",
        "-shared",
        "-fPIC",
        "-Wl,-soname,libcpmx.so.1",
        "-o",
        libdir / "libcpmx.so.1",
        src / "lib.c",
        f"-L{libdir}",
        "-l:libcpmxdep.so.2",
    )
    program = tree / "bin/python3.13"
    cc(
        "-g",
        "-o",
        program,
        src / "main.c",
        f"-L{libdir}",
        "-l:libcpmx.so.1",
        "-Wl,--allow-shlib-undefined",
    )
    module = tree / "lib/python3.13/lib-dynload/_cpmx.cpython-313-x86_64-linux-gnu.so"
    cc("-g", "-shared", "-fPIC", "-o", module, src / "lib.c", f"-L{libdir}", "-l:libcpmxdep.so.2")
    return ElfTree(sysroot=sysroot, tree=tree, program=program, module=module)
