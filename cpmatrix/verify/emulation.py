"""Running another architecture's artifacts here: qemu-user through binfmt_misc.

With qemu-user-static registered for an architecture with the F (fix-binary) flag, the kernel
itself hands that architecture's ELF files to qemu, also inside containers (the interpreter is
opened at registration, so a container needs no qemu of its own). :func:`require` checks that
before any container starts and refuses with what to do; it never waits on anything.
Verdicts under emulation stay witness-based: only timeouts are longer.
"""

from __future__ import annotations

import platform
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cpmatrix.features import arch as fa
from cpmatrix.util.errors import EnvironmentProblem

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
SETUP_HINT = "run scripts/setup.sh as root (installs qemu-user-static, registers it with F)"
TIMEOUT_FACTOR = 6.0
"""How much longer each command may take under qemu-user (a generous bound, never a verdict)."""
_VERSION = re.compile(r"version (\d+\.\d+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Emulation:
    """How this machine runs a foreign architecture: qemu-user of one version."""

    arch: str
    qemu_version: str

    @property
    def words(self) -> str:
        """What the manifest's ``proven_on`` says: ``emulated (qemu-user 7.2)``."""
        return f"emulated (qemu-user {self.qemu_version})"


@dataclass(frozen=True, slots=True, kw_only=True)
class BinfmtEntry:
    enabled: bool
    flags: str
    interpreter: str


def parse_entry(text: str) -> BinfmtEntry:
    """``/proc/sys/fs/binfmt_misc/qemu-aarch64`` as read."""
    fields = dict(line.split(" ", 1) for line in text.splitlines()[1:] if " " in line)
    return BinfmtEntry(
        enabled=text.startswith("enabled"),
        flags=fields.get("flags:", "").strip(),
        interpreter=fields.get("interpreter", "").strip(),
    )


def entry_problem(target: fa.Arch, binfmt: Path = BINFMT_DIR) -> str | None:
    """Why binfmt_misc does not run the target's binaries here (with F), or None."""
    if not (binfmt / "register").exists():
        return f"binfmt_misc is not mounted at {binfmt} (or this machine may not mount it)"
    path = binfmt / f"qemu-{target.qemu}"
    if not path.exists():
        return f"no qemu-{target.qemu} entry in {binfmt}: {target.name} binaries cannot run"
    entry = parse_entry(path.read_text(encoding="utf-8", errors="replace"))
    if not entry.enabled:
        return f"{path} is disabled"
    if "F" not in entry.flags:
        return (
            f"{path} lacks the F (fix-binary) flag (flags: {entry.flags or 'none'}): "
            "containers would need qemu inside them"
        )
    return None


def qemu_version(output: str) -> str | None:
    """``7.2`` from ``qemu-aarch64 version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)``."""
    found = _VERSION.search(output)
    return found.group(1) if found else None


def needed(arch: str, machine: str | None = None) -> bool:
    """Whether binaries of ``arch`` run here only under emulation."""
    return fa.emulated(arch, machine or platform.machine())


def require(arch: str, *, binfmt: Path = BINFMT_DIR) -> Emulation:
    """The emulation of ``arch`` on this machine, or EnvironmentProblem saying what to do."""
    target = fa.arch_named(arch)
    if target is None or not needed(arch):
        raise EnvironmentProblem(f"{arch} binaries are not emulated on {platform.machine()}")
    problem = entry_problem(target, binfmt)
    if problem is not None:
        raise EnvironmentProblem(
            f"cannot prove {target.name} artifacts here: {problem}", hint=SETUP_HINT
        )
    binary = f"qemu-{target.qemu}-static"
    try:
        done = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise EnvironmentProblem(f"{binary} does not answer: {error}", hint=SETUP_HINT) from None
    version = qemu_version(done.stdout)
    if version is None:
        raise EnvironmentProblem(f"{binary} --version said {done.stdout[:80]!r}", hint=SETUP_HINT)
    return Emulation(arch=target.name, qemu_version=version)
