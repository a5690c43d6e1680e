"""``patches/<minor>/series``: patches applied in order to an extracted tree.

The series lists one patch file per line (relative to its directory); blank lines and lines
starting with ``#`` are ignored. The patch set's digest covers the effective names and contents,
so it is part of the tree's identity.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cpmatrix import layout
from cpmatrix.errors import EnvironmentProblem, SourceError
from cpmatrix.features import Version

PATCHES_ROOT = layout.PROJECT_ROOT / "patches"


@dataclass(frozen=True, slots=True, kw_only=True)
class Patch:
    name: str
    path: Path
    line: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchSet:
    directory: Path
    patches: tuple[Patch, ...]
    digest: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(patch.name for patch in self.patches)


def for_version(series: Version, root: Path | None = None) -> PatchSet:
    return load((root or PATCHES_ROOT) / series.minor_text)


def load(directory: Path) -> PatchSet:
    """Read ``directory/series``; no directory or no series file is the empty set."""
    series_file = directory / "series"
    patches: list[Patch] = []
    if series_file.is_file():
        for number, raw in enumerate(series_file.read_text(encoding="utf-8").splitlines(), 1):
            name = raw.strip()
            if not name or name.startswith("#"):
                continue
            where = f"{series_file}:{number}"
            if PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts:
                raise SourceError(f"{where}: patch {name!r} must be a path inside {directory}")
            path = directory / name
            if not path.is_file():
                raise SourceError(
                    f"{where}: patch {name!r} does not exist",
                    hint=f"add {path} or remove the line from the series",
                )
            patches.append(Patch(name=name, path=path, line=number))
    digest = hashlib.sha256(b"cpmatrix patch set 1\n")
    for patch in patches:
        content = hashlib.sha256(patch.path.read_bytes()).hexdigest()
        digest.update(f"{patch.name}\0{content}\n".encode())
    return PatchSet(directory=directory, patches=tuple(patches), digest=digest.hexdigest())


def apply(patchset: PatchSet, tree: Path, scratch: Path) -> None:
    """Apply every patch in order; the first that does not apply cleanly is a SourceError."""
    if not patchset.patches:
        return
    tool = shutil.which("patch")
    if tool is None:
        raise EnvironmentProblem(
            "GNU patch is needed to apply patches/ but is not installed",
            hint="apt-get install patch",
        )
    for patch in patchset.patches:
        rejects = scratch / f"{patch.path.name}.rej"
        argv = [tool, "-p1", "--forward", "--batch", "--fuzz=0", "--no-backup-if-mismatch"]
        argv += [f"--reject-file={rejects}", "-d", str(tree), "-i", str(patch.path)]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            hunks = rejects.read_text(errors="replace") if rejects.is_file() else ""
            raise SourceError(
                f"patch {patch.name} ({patchset.directory / 'series'}:{patch.line}) does not "
                f"apply:\n{done.stdout.strip()}{done.stderr.strip()}"
                + (f"\nrejected hunk(s):\n{hunks.rstrip()}" if hunks else ""),
                hint=f"refresh {patch.path} against this release, or remove it from the series",
            )
