"""Linux architectures: the names each tool gives one CPU, and how this machine builds for it.

One row per architecture: the matrix's name (``linux-aarch64`` → ``aarch64``), the GNU triple
configure and clang take, Debian's architecture and multiarch directory, the ELF ``e_machine``
every file of an artifact carries, qemu-user's name, and uv's ``arch.family``. Whether a cell
builds natively, cross-builds or is refused on this host is a pure function of two rows.
Nothing here runs anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True, kw_only=True)
class Arch:
    """One CPU architecture of Linux artifacts."""

    name: str
    """The matrix's spelling (``linux-<name>``) and ``uname -m``'s."""
    triple: str
    """GNU triple as Debian's multiarch and clang's ``--target`` spell it."""
    debian: str
    """Debian's architecture (``dpkg --print-architecture``, ``debootstrap --arch``)."""
    elf_machine: int
    """ELF ``e_machine`` of every file built for it (EM_X86_64 = 62, EM_AARCH64 = 183)."""
    qemu: str
    """qemu-user's name (``qemu-<qemu>``, binfmt entry ``/proc/sys/fs/binfmt_misc/qemu-<qemu>``)."""
    loader: str
    """glibc's dynamic loader on it (what an ELF file's PT_INTERP names)."""

    @property
    def configure_host(self) -> str:
        """``--host``/``--build`` for configure: the triple itself, so that configure's
        host-prefixed tool search finds ``aarch64-linux-gnu-ar`` from Debian's cross binutils
        (config.sub still canonicalises ``$host`` to ``aarch64-unknown-linux-gnu``, which is what
        Tools/jit/build.py matches, ``aarch64-.*-linux-gnu``)."""
        return self.triple


X86_64 = Arch(
    name="x86_64",
    triple="x86_64-linux-gnu",
    debian="amd64",
    elf_machine=62,
    qemu="x86_64",
    loader="/lib64/ld-linux-x86-64.so.2",
)
AARCH64 = Arch(
    name="aarch64",
    triple="aarch64-linux-gnu",
    debian="arm64",
    elf_machine=183,
    qemu="aarch64",
    loader="/lib/ld-linux-aarch64.so.1",
)
ARCHES: dict[str, Arch] = {arch.name: arch for arch in (X86_64, AARCH64)}
MACHINE_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}
"""``uname -m`` / Docker's spellings of the same CPUs."""

CROSS_BUILDS: frozenset[tuple[str, str]] = frozenset({("x86_64", "aarch64")})
"""(host, target) pairs this project cross-builds: clang ``--target`` against the target's
Debian sysroot, Debian's cross binutils for ``ar``/``ld``/``strip``."""
EMULATED: frozenset[tuple[str, str]] = frozenset({("x86_64", "aarch64")})
"""(host, target) pairs whose artifacts are proven here under qemu-user (binfmt_misc, F flag)."""

How = Literal["native", "cross"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildPlan:
    """How this host builds a Linux architecture: natively, cross, or not at all (with why)."""

    host: Arch | None
    target: Arch | None
    how: How | None
    reason: str = ""

    @property
    def refused(self) -> bool:
        return self.how is None


def arch_named(name: str) -> Arch | None:
    """The row of an architecture by any of its spellings (``arm64``, ``aarch64``)."""
    lowered = name.lower()
    return ARCHES.get(MACHINE_ALIASES.get(lowered, lowered))


def build_plan(target: str, host_machine: str) -> BuildPlan:
    """Native when the host is the target, cross for a known pair, else refused with why."""
    host, wanted = arch_named(host_machine), arch_named(target)
    if wanted is None:
        known = ", ".join(sorted(ARCHES))
        return BuildPlan(
            host=host,
            target=None,
            how=None,
            reason=f"cpmatrix knows no Linux architecture {target!r} (known: {known})",
        )
    if host is not None and host.name == wanted.name:
        return BuildPlan(host=host, target=wanted, how="native")
    if host is not None and (host.name, wanted.name) in CROSS_BUILDS:
        return BuildPlan(host=host, target=wanted, how="cross")
    pairs = ", ".join(f"{h} → {t}" for h, t in sorted(CROSS_BUILDS))
    return BuildPlan(
        host=host,
        target=wanted,
        how=None,
        reason=(
            f"a {host_machine} machine neither runs nor cross-builds {wanted.name} "
            f"(cross builds: {pairs}); build it on a {wanted.name} runner"
        ),
    )


def emulated(target: str, host_machine: str) -> bool:
    """Whether ``target`` binaries run here only under qemu-user."""
    host, wanted = arch_named(host_machine), arch_named(target)
    if host is None or wanted is None:
        return False
    return (host.name, wanted.name) in EMULATED


def machine_name(e_machine: int) -> str:
    """``aarch64`` for 183: the architecture of an ELF ``e_machine``, or ``EM_<n>``."""
    for arch in ARCHES.values():
        if arch.elf_machine == e_machine:
            return arch.name
    return f"EM_{e_machine}"


CROSS_CONFIGURE_CACHE: tuple[tuple[str, str], ...] = (
    ("ac_cv_file__dev_ptmx", "yes"),
    ("ac_cv_file__dev_ptc", "no"),
    ("ac_cv_buggy_getaddrinfo", "no"),
)
"""What CPython's configure cannot find out when cross-compiling, for a Linux target: it stops
with "set ac_cv_file__dev_ptmx=yes/no in your CONFIG_SITE file when cross compiling" (Linux has
/dev/ptmx, no /dev/ptc), and without a run-time test it takes getaddrinfo for buggy and refuses
IPv6 ("You must get working getaddrinfo() function"); glibc's is not [src: configure.ac]."""


def sysroot_dir(target: Arch) -> str:
    """Where the builder image keeps the target's Debian sysroot (docker/Dockerfile.cross)."""
    return f"/opt/sysroot-{target.triple}"
