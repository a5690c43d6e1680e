"""The portability gate every Linux artifact passes before it is published.

An artifact may take from the host only glibc's libraries, the loader and libgcc_s
(:data:`HOST_LIBRARIES`), and no glibc symbol version above the platform's declared floor
(``matrix.yaml``: ``platforms.<name>.glibc``). Every other library an ELF file needs must be in the
tree, where the file's own ``$ORIGIN``-relative RUNPATH finds it. python-build-standalone's
validator holds its archives to the same rule.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

from cpmatrix.features import arch as fa
from cpmatrix.features.portability import HOST_LIBRARIES
from cpmatrix.matrix import Cell
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util import elfinfo
from cpmatrix.util.errors import ArtifactError

ORIGIN = "$ORIGIN"


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """One ELF file asking the host for something it may not."""

    file: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.problem}"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _search_dirs(relative: str, info: elfinfo.ElfFile) -> tuple[list[str], list[str]]:
    """The tree-relative directories the file's RUNPATH names, and entries that leave it."""
    inside, outside = [], []
    here = posixpath.dirname(relative)
    for entry in info.runpath:
        if not entry.startswith(ORIGIN):
            outside.append(entry)
            continue
        resolved = posixpath.normpath(posixpath.join(here, entry[len(ORIGIN) :].lstrip("/")))
        if resolved == ".." or resolved.startswith("../"):
            outside.append(entry)
        else:
            inside.append(resolved)
    return inside, outside


def check_tree(root: Path, *, glibc_floor: str, arch: str | None = None) -> list[Violation]:
    """Every way the tree's ELF files reach beyond glibc, libgcc_s and the floor, every
    file the loader would map without the hardening python-build-standalone's validator asks
    for (:meth:`elfinfo.Hardening.problems`), and, given the platform's architecture, every
    ELF file built for another one (an x86_64 library bundled into an aarch64 tree)."""
    floor = _version(glibc_floor)
    files = {
        path.relative_to(root).as_posix(): info
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink() and (info := elfinfo.read(path)) is not None
    }
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    problems: list[Violation] = []
    problems.extend(wrong_machine(files, arch))
    for name, info in files.items():
        inside, outside = _search_dirs(name, info)
        for entry in outside:
            problems.append(Violation(file=name, problem=f"RUNPATH {entry} points outside it"))
        for library in info.needed:
            if library in HOST_LIBRARIES:
                continue
            if not any(posixpath.join(d, library) in present for d in inside):
                where = ", ".join(info.runpath) or "no RUNPATH"
                problems.append(
                    Violation(
                        file=name,
                        problem=f"needs {library}, which is not in the artifact ({where}) "
                        "and not allowed from the host",
                    )
                )
        hardening = info.hardening
        problems.extend(
            Violation(file=name, problem=problem)
            for problem in (hardening.problems() if hardening is not None else ())
        )
        glibc = info.glibc
        if glibc is not None and glibc > floor:
            wanted = ".".join(map(str, glibc))
            problems.append(
                Violation(file=name, problem=f"needs GLIBC_{wanted}, above the floor {glibc_floor}")
            )
    return problems


def wrong_machine(files: dict[str, elfinfo.ElfFile], arch: str | None) -> list[Violation]:
    """Every ELF file (object files and static archives' members aside) whose header's
    ``e_machine`` is not the architecture's (features.arch); nothing when arch is None."""
    expected = fa.arch_named(arch) if arch is not None else None
    if arch is not None and expected is None:
        return [Violation(file=".", problem=f"cpmatrix knows no architecture {arch!r}")]
    if expected is None:
        return []
    return [
        Violation(
            file=name,
            problem=f"is {fa.machine_name(info.e_machine)} (ELF e_machine {info.e_machine}), "
            f"not {expected.name} ({expected.elf_machine})",
        )
        for name, info in files.items()
        if info.e_machine != expected.elf_machine
    ]


def require_portable(
    root: Path, *, cell_id: str, glibc_floor: str, arch: str | None = None
) -> None:
    """Raise ArtifactError naming every file and library that breaks the rule."""
    problems = check_tree(root, glibc_floor=glibc_floor, arch=arch)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems[:40])
        more = f"\n  … and {len(problems) - 40} more" if len(problems) > 40 else ""
        raise ArtifactError(
            f"{cell_id} is not portable: {len(problems)} problem(s)\n{listed}{more}",
            hint="only glibc, the loader and libgcc_s may come from the host; "
            "the portable build phase bundles the rest (see build.log)",
        )


def gate(cell: Cell, paths: CellPaths) -> None:
    """A Linux tree that would not run on its platform's oldest glibc, or loads a library from
    outside the tree, is refused here."""
    floor = cell.platform.glibc_floor
    if cell.platform.os == "linux" and floor is not None:
        require_portable(paths.install, cell_id=cell.id, glibc_floor=floor, arch=cell.platform.arch)
