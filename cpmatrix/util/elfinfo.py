"""Where a Linux artifact can run, read from its ELF files with nothing but ``struct``.

Two facts answer "will this interpreter start on that host": the highest ``GLIBC_x.y`` symbol
version any file needs (from the ``.gnu.version_r`` verneed entries; a trixie build needs 2.38+
and dies on bookworm with ``GLIBC_2.38 not found``) and the shared libraries it loads that it
does not ship itself (``DT_NEEDED`` of the dynamic section). Reading them in Python keeps the
answer the same on any host, with no ``readelf``/``objdump`` needed.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
SHT_DYNAMIC = 6
SHT_GNU_VERNEED = 0x6FFFFFFE
DT_NULL, DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 14, 15, 29
DT_TEXTREL, DT_BIND_NOW, DT_FLAGS, DT_FLAGS_1 = 22, 24, 30, 0x6FFFFFFB
DF_TEXTREL, DF_BIND_NOW, DF_1_NOW = 0x4, 0x8, 0x1
PT_LOAD, PT_DYNAMIC, PT_GNU_STACK, PT_GNU_RELRO = 1, 2, 0x6474E551, 0x6474E552
PF_X, PF_W = 0x1, 0x2
MACHINES = {3: "x86", 40: "arm", 62: "x86_64", 183: "aarch64", 243: "riscv64"}
GLIBC_VERSION = re.compile(r"^GLIBC_(\d+(?:\.\d+)+)$")


class NotElf(ValueError):
    """The file is not a (well-formed) ELF file."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Hardening:
    """What the loader enforces for one file, as python-build-standalone's validator reads it:
    a stack that is not executable, read-only relocations, no text relocations, no segment
    both writable and executable; BIND_NOW (full RELRO) where the file was linked so."""

    executable_stack: bool
    relro: bool
    bind_now: bool
    text_relocations: bool
    writable_and_executable: bool

    def problems(self) -> tuple[str, ...]:
        """What the gate refuses (BIND_NOW is recorded, not required: CPython's own link
        does not ask for it)."""
        found = []
        if self.executable_stack:
            found.append("executable stack (PT_GNU_STACK missing or with PF_X)")
        if not self.relro:
            found.append("no RELRO segment (PT_GNU_RELRO)")
        if self.text_relocations:
            found.append("text relocations (DT_TEXTREL)")
        if self.writable_and_executable:
            found.append("a segment both writable and executable")
        return tuple(found)


@dataclass(frozen=True, slots=True, kw_only=True)
class ElfFile:
    """What one ELF file asks of the system that loads it."""

    machine: str
    soname: str | None
    needed: tuple[str, ...]
    versions: tuple[tuple[str, str], ...]  # (library, version name) from .gnu.version_r
    runpath: tuple[str, ...] = ()
    """DT_RUNPATH (or the older DT_RPATH) entries, ``$ORIGIN`` unexpanded."""
    hardening: Hardening | None = None
    """For files the loader maps (with program headers); None for object files."""
    e_machine: int = 0
    """The ELF header's ``e_machine`` as a number (EM_X86_64 = 62, EM_AARCH64 = 183): what the
    gate compares with the platform's architecture (features.arch)."""

    @property
    def glibc(self) -> tuple[int, ...] | None:
        """The highest ``GLIBC_x.y`` it needs, as a tuple (``(2, 38)``), or None."""
        found = [_glibc_tuple(name) for _, name in self.versions]
        numbers = [v for v in found if v is not None]
        return max(numbers) if numbers else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirements:
    """What a whole tree needs from the host."""

    machines: tuple[str, ...]
    min_glibc: str | None
    min_glibc_required_by: str | None
    external_libraries: tuple[str, ...]
    elf_files: int
    hardening: Mapping[str, int] = field(default_factory=dict)
    """Of the files the loader maps: how many have each property (:func:`hardening_counts`)."""

    def record(self) -> dict[str, object]:
        return {
            "machines": list(self.machines),
            "min_glibc": self.min_glibc,
            "min_glibc_required_by": self.min_glibc_required_by,
            "needed_libraries": list(self.external_libraries),
            "elf_files": self.elf_files,
            "hardening": dict(self.hardening),
        }


def hardening_counts(files: Iterable[ElfFile]) -> dict[str, int]:
    """How many of the files the loader maps have each hardening property."""
    found = [f.hardening for f in files if f.hardening is not None]
    return {
        "mapped_files": len(found),
        "non_executable_stack": sum(not h.executable_stack for h in found),
        "relro": sum(h.relro for h in found),
        "bind_now": sum(h.bind_now for h in found),
        "text_relocations": sum(h.text_relocations for h in found),
        "writable_and_executable": sum(h.writable_and_executable for h in found),
    }


def _glibc_tuple(name: str) -> tuple[int, ...] | None:
    match = GLIBC_VERSION.match(name)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


class _Reader:
    """Field access in the file's own class (32/64-bit) and byte order."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 52 or data[:4] != ELF_MAGIC:
            raise NotElf("no ELF header")
        ei_class, ei_data = data[4], data[5]
        if ei_class not in (1, 2) or ei_data not in (1, 2):
            raise NotElf(f"unknown ELF class {ei_class} or byte order {ei_data}")
        self.data = data
        self.is64 = ei_class == 2
        self.order = "<" if ei_data == 1 else ">"
        self.addr = "Q" if self.is64 else "I"

    def unpack(self, layout: str, offset: int) -> tuple[int, ...]:
        fmt = self.order + layout.replace("A", self.addr)
        try:
            return struct.unpack_from(fmt, self.data, offset)
        except struct.error:
            raise NotElf(f"truncated at offset {offset}") from None

    def string(self, table_offset: int, index: int) -> str:
        start = table_offset + index
        end = self.data.find(b"\0", start)
        if start >= len(self.data) or end < 0:
            raise NotElf(f"string {index} lies outside the file")
        return self.data[start:end].decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class _Section:
    type: int
    offset: int
    size: int
    link: int
    info: int
    entsize: int


def _sections(elf: _Reader) -> list[_Section]:
    # e_machine at 18; e_shoff, e_shentsize, e_shnum after the three address-sized fields
    shoff_at = 0x28 if elf.is64 else 0x20
    (shoff,) = elf.unpack("A", shoff_at)
    shentsize, shnum = elf.unpack("HH", 0x3A if elf.is64 else 0x2E)
    layout = "IIQQQQIIQQ" if elf.is64 else "IIIIIIIIII"
    sections = []
    for index in range(shnum):
        fields = elf.unpack(layout, shoff + index * shentsize)
        _, kind, _, _, offset, size, link, info, _, entsize = fields
        sections.append(_Section(kind, offset, size, link, info, entsize))
    return sections


@dataclass(frozen=True, slots=True)
class _Dynamic:
    soname: str | None
    needed: tuple[str, ...]
    runpath: tuple[str, ...]
    bind_now: bool = False
    text_relocations: bool = False


def _segments(elf: _Reader) -> list[tuple[int, int]]:
    """(p_type, p_flags) of every program header."""
    (phoff,) = elf.unpack("A", 0x20 if elf.is64 else 0x1C)
    phentsize, phnum = elf.unpack("HH", 0x36 if elf.is64 else 0x2A)
    found = []
    for index in range(phnum if phoff else 0):
        at = phoff + index * phentsize
        if elf.is64:
            kind, flags = elf.unpack("II", at)
        else:
            (kind,), (flags,) = elf.unpack("I", at), elf.unpack("I", at + 24)
        found.append((kind, flags))
    return found


def _hardening(segments: list[tuple[int, int]], dynamic: _Dynamic) -> Hardening | None:
    if not segments:
        return None
    stacks = [flags for kind, flags in segments if kind == PT_GNU_STACK]
    return Hardening(
        executable_stack=not stacks or bool(stacks[0] & PF_X),
        relro=any(kind == PT_GNU_RELRO for kind, _ in segments),
        bind_now=dynamic.bind_now,
        text_relocations=dynamic.text_relocations,
        writable_and_executable=any(
            kind == PT_LOAD and flags & PF_W and flags & PF_X for kind, flags in segments
        ),
    )


def _dynamic(elf: _Reader, section: _Section, strtab: int) -> _Dynamic:
    entry = "qQ" if elf.is64 else "iI"
    step = 16 if elf.is64 else 8
    soname: str | None = None
    needed: list[str] = []
    runpath: list[str] = []
    bind_now = text_relocations = False
    for offset in range(section.offset, section.offset + section.size, step):
        tag, value = elf.unpack(entry, offset)
        if tag == DT_NULL:
            break
        if tag == DT_NEEDED:
            needed.append(elf.string(strtab, value))
        elif tag == DT_SONAME:
            soname = elf.string(strtab, value)
        elif tag in (DT_RUNPATH, DT_RPATH):
            runpath.extend(p for p in elf.string(strtab, value).split(":") if p)
        bind_now |= tag == DT_BIND_NOW or (tag == DT_FLAGS and bool(value & DF_BIND_NOW))
        bind_now |= tag == DT_FLAGS_1 and bool(value & DF_1_NOW)
        text_relocations |= tag == DT_TEXTREL or (tag == DT_FLAGS and bool(value & DF_TEXTREL))
    return _Dynamic(soname, tuple(needed), tuple(runpath), bind_now, text_relocations)


def _verneed(elf: _Reader, section: _Section, strtab: int) -> Iterator[tuple[str, str]]:
    """Walk Elf_Verneed (vn_version, vn_cnt, vn_file, vn_aux, vn_next) and their Vernaux."""
    offset = section.offset
    for _ in range(section.info):  # sh_info holds the number of Verneed entries
        _, count, file_name, aux, following = elf.unpack("HHIII", offset)
        library = elf.string(strtab, file_name)
        aux_offset = offset + aux
        for _ in range(count):
            _, _, _, name, aux_next = elf.unpack("IHHII", aux_offset)
            yield library, elf.string(strtab, name)
            aux_offset += aux_next
        if following == 0:
            break
        offset += following


def parse(data: bytes) -> ElfFile:
    """The loader-relevant facts of one ELF file; NotElf for anything else."""
    elf = _Reader(data)
    (machine,) = elf.unpack("H", 18)
    sections = _sections(elf)
    dynamic = _Dynamic(None, (), ())
    versions: list[tuple[str, str]] = []
    for section in sections:
        if section.type not in (SHT_DYNAMIC, SHT_GNU_VERNEED):
            continue
        if section.link >= len(sections):
            raise NotElf("section links to a string table that does not exist")
        strtab = sections[section.link].offset
        if section.type == SHT_DYNAMIC:
            dynamic = _dynamic(elf, section, strtab)
        else:
            versions.extend(_verneed(elf, section, strtab))
    return ElfFile(
        machine=MACHINES.get(machine, f"e_machine {machine}"),
        soname=dynamic.soname,
        needed=dynamic.needed,
        versions=tuple(versions),
        runpath=dynamic.runpath,
        hardening=_hardening(_segments(elf), dynamic),
        e_machine=machine,
    )


def read(path: Path) -> ElfFile | None:
    """An ELF file's facts, or None for a file that is not ELF (scripts, data, ``.a``)."""
    with path.open("rb") as handle:
        if handle.read(4) != ELF_MAGIC:
            return None
    try:
        return parse(path.read_bytes())
    except NotElf:
        return None


def requirements(root: Path, files: Iterable[Path] | None = None) -> Requirements:
    """What the ELF files under root need from a host; libraries it ships count as its own."""
    found: dict[str, ElfFile] = {}
    paths = sorted(files) if files is not None else sorted(root.rglob("*"))
    for path in paths:
        if path.is_file() and not path.is_symlink():
            info = read(path)
            if info is not None:
                found[path.relative_to(root).as_posix()] = info
    shipped = {Path(name).name for name in found} | {f.soname for f in found.values() if f.soname}
    shipped |= {p.name for p in paths if p.is_symlink()}
    external = sorted({lib for f in found.values() for lib in f.needed} - shipped)
    highest: tuple[tuple[int, ...], str] | None = None
    for name, info in found.items():
        glibc = info.glibc
        if glibc is not None and (highest is None or glibc > highest[0]):
            highest = (glibc, name)
    return Requirements(
        machines=tuple(sorted({f.machine for f in found.values()})),
        min_glibc=".".join(map(str, highest[0])) if highest else None,
        min_glibc_required_by=highest[1] if highest else None,
        external_libraries=tuple(external),
        elf_files=len(found),
        hardening=hardening_counts(found.values()),
    )
