"""Benchmarks refuse interpreters that would run under qemu-user.

An aarch64 interpreter on an x86_64 machine runs through qemu-user (verify.emulation): its
timings measure the emulator, not the build, and no ratio against a native column means
anything. Every column's architecture is read before anything is timed (the ELF header of an
interpreter on this machine, the manifest of a published archive, ``uname -m`` in a given
image); one emulated column refuses the run with what to do instead. On a native runner of
that architecture nothing is emulated and nothing is refused.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from pathlib import Path

from cpmatrix.bench.columns import Artifact, Column, HostOrBuilder
from cpmatrix.features import arch as fa
from cpmatrix.util import elfinfo
from cpmatrix.util.errors import UsageError


def file_arch(path: Path) -> str | None:
    """The architecture of an ELF file on this machine, None for anything else."""
    try:
        info = elfinfo.read(path)
    except (OSError, elfinfo.NotElf):
        return None
    return fa.machine_name(info.e_machine) if info is not None else None


def artifact_arch(archive: Path) -> str | None:
    """``aarch64`` from the platform (``linux-aarch64``) of the manifest beside the archive."""
    beside = archive.with_name(archive.name.removesuffix(".tar.gz") + ".json")
    try:
        data = json.loads(beside.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = str(data.get("platform", "")) if isinstance(data, dict) else ""
    return name.partition("-")[2] or None


def image_arch(tag: str) -> str | None:
    """``uname -m`` in a throwaway container of the image (an imported image's metadata says
    the host's architecture whatever its files are)."""
    from cpmatrix.engine.containers import engine

    try:
        output = engine().containers.run(tag, ["uname", "-m"], remove=True, network_disabled=True)
    except Exception:  # no engine, no image, no uname: the run itself will say so
        return None
    return bytes(output).decode(errors="replace").strip() or None


def column_arch(column: Column) -> str | None:
    match column.image:
        case None | HostOrBuilder():
            return file_arch(Path(column.interpreter))
        case Artifact(archive=archive):
            return artifact_arch(archive)
        case str() as tag:
            return image_arch(tag)
        case _:
            return None  # Debian's own packages, installed for this machine


def refuse_emulated(columns: Sequence[Column], machine: str | None = None) -> None:
    """UsageError naming every column that would be timed under qemu-user."""
    host = machine or platform.machine()
    emulated = [
        (column, arch)
        for column in columns
        if (arch := column_arch(column)) is not None and fa.emulated(arch, host)
    ]
    if emulated:
        listed = ", ".join(f"{column.name} ({arch})" for column, arch in emulated)
        raise UsageError(
            f"refusing to time {listed} on this {host} machine: it would run under qemu-user, "
            "whose timings measure the emulator, not the interpreter, and compare with nothing",
            hint="benchmark it on a native runner of its architecture (ubuntu-24.04-arm for "
            "aarch64); here it is proven, not timed",
        )
