"""Evidence in the interpreter's own binaries, read INSIDE the place it runs (stdlib only).

    python -I binary.py            # the running interpreter's executable and libpython

A tail-call build (``--with-tail-call-interp``, 3.14+) compiles every bytecode instruction
into a C function of its own: ``TARGET(op)`` expands to ``PyObject *_TAIL_CALL_##op(...)``
(``Python/ceval_macros.h``), and ``Tools/cases_generator`` emits one such function per
instruction and label, reached through a table of function pointers. The computed-goto and
switch interpreters compile the same instructions as labels inside
``_PyEval_EvalFrameDefault``: no ``_TAIL_CALL_`` symbol exists. The functions are ``static``,
so their names live only in ``.symtab`` and are gone once the binary is stripped; then the
count is None and a count recorded at build time must stand in.

Like probe.py this file is shipped on its own, so it reads ELF with nothing but ``struct``
(``cpmatrix.elfinfo`` answers other questions, on the host side). It prints one JSON object.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from pathlib import Path
from typing import Any

TAIL_CALL_PREFIX = b"_TAIL_CALL_"
SHT_SYMTAB = 2
ELF_MAGIC = b"\x7fELF"


def tail_call_functions(data: bytes) -> int | None:
    """``_TAIL_CALL_*`` symbols in an ELF file's ``.symtab``; None when it has no symtab."""
    if data[:4] != ELF_MAGIC or data[4] not in (1, 2) or data[5] not in (1, 2):
        raise ValueError("not an ELF file")
    is64, order = data[4] == 2, "<" if data[5] == 1 else ">"
    shoff = struct.unpack_from(order + ("Q" if is64 else "I"), data, 0x28 if is64 else 0x20)[0]
    entsize, count = struct.unpack_from(order + "HH", data, 0x3A if is64 else 0x2E)
    layout = order + ("IIQQQQIIQQ" if is64 else "IIIIIIIIII")
    sections = [struct.unpack_from(layout, data, shoff + i * entsize) for i in range(count)]
    symtabs = [s for s in sections if s[1] == SHT_SYMTAB]
    if not symtabs:
        return None
    found = 0
    for _, _, _, _, offset, size, link, _, _, symsize in symtabs:
        strtab = sections[link][4]
        for at in range(offset, offset + size, symsize):
            name = struct.unpack_from(order + "I", data, at)[0]
            if data.startswith(TAIL_CALL_PREFIX, strtab + name):
                found += 1
    return found


def interpreter_files() -> list[str]:
    """The running executable and every libpython it mapped."""
    files = [os.path.realpath(sys.executable)]
    try:
        maps = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return files
    for line in maps.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and "/libpython" in fields[5]:
            real = os.path.realpath(fields[5].strip())
            if real not in files:
                files.append(real)
    return files


def evidence(files: list[str]) -> dict[str, Any]:
    """Per file, and in total: None when no file has a symbol table (stripped)."""
    per_file: dict[str, Any] = {}
    for path in files:
        try:
            per_file[path] = tail_call_functions(Path(path).read_bytes())
        except (OSError, ValueError, struct.error) as error:
            per_file[path] = f"unreadable: {type(error).__name__}: {error}"
    counts = [n for n in per_file.values() if isinstance(n, int)]
    return {"files": per_file, "tail_call_functions": sum(counts) if counts else None}


def source() -> str:
    """This file's text, to ship into a container or another machine."""
    return Path(__file__).read_text(encoding="utf-8")


if __name__ == "__main__":
    try:
        outcome = evidence(interpreter_files())
    except BaseException as error:
        outcome = {"error": f"{type(error).__name__}: {error}"}
    sys.stdout.write("\n" + json.dumps(outcome) + "\n")
