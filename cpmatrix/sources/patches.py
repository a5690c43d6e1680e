"""``patches/<minor>/series``: patches applied in order to an extracted tree.

The series lists one patch file per line (relative to its directory); blank lines and lines
starting with ``#`` are ignored. The patch set's digest covers the effective names and contents,
so it is part of the tree's identity.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cpmatrix.features import Version
from cpmatrix.matrix import layout
from cpmatrix.util import names
from cpmatrix.util.errors import EnvironmentProblem, SourceError

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


MAX_SERIES_BYTES = 64 * 1024


def _series_lines(series_file: Path) -> list[str]:
    """The series' lines: at most 64 KiB of UTF-8 text, or a SourceError naming it."""
    with series_file.open("rb") as stream:
        raw = stream.read(MAX_SERIES_BYTES + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SourceError(
            f"{series_file} is not UTF-8 text (byte {error.start})", hint="save it as UTF-8"
        ) from None
    if len(raw) > MAX_SERIES_BYTES or "\0" in text:
        raise SourceError(
            f"{series_file} is not a series file (over {MAX_SERIES_BYTES // 1024} KiB or binary)"
        )
    return text.splitlines()


def _patch(directory: Path, name: str, where: str) -> Path:
    """``directory/name``, a regular file reached through no link: a link could hand cpmatrix
    a patch from outside the repository."""
    parts = PurePosixPath(name).parts
    if PurePosixPath(name).is_absolute() or ".." in parts:
        raise SourceError(f"{where}: patch {name!r} must be a path inside {directory}")
    path = directory
    for part in parts:
        path = names.join(path, part, what=f"{where}: patch", error=SourceError)
        if path.is_symlink():
            raise SourceError(
                f"{where}: {path} is a symbolic link; patches are read only from files in "
                f"{directory}",
                hint="copy the patch into the directory instead of linking it",
            )
    if not path.is_file():
        raise SourceError(
            f"{where}: patch {name!r} does not exist",
            hint=f"add {path} or remove the line from the series",
        )
    return path


def load(directory: Path) -> PatchSet:
    """Read ``directory/series``; no directory or no series file is the empty set."""
    series_file = directory / "series"
    for path in (directory, series_file):
        if path.is_symlink():
            raise SourceError(
                f"{path} is a symbolic link; patches are read only from patches/ itself",
                hint="copy the files in instead of linking them",
            )
    patches: list[Patch] = []
    if series_file.is_file():
        for number, raw in enumerate(_series_lines(series_file), 1):
            name = raw.strip()
            if not name or name.startswith("#"):
                continue
            path = _patch(directory, name, f"{series_file}:{number}")
            patches.append(Patch(name=name, path=path, line=number))
    digest = hashlib.sha256(b"cpmatrix patch set 1\n")
    for patch in patches:
        content = hashlib.sha256(patch.path.read_bytes()).hexdigest()
        digest.update(f"{patch.name}\0{content}\n".encode())
    return PatchSet(directory=directory, patches=tuple(patches), digest=digest.hexdigest())


def check_tree(tree: Path, patch: Patch) -> None:
    """After a patch: what a source tarball may not hold, a patch may not add either. Every
    link stays relative and inside the tree; no file is set-uid or set-gid."""
    for directory, subdirs, files in os.walk(tree):
        for name in subdirs + files:
            path = Path(directory, name)
            found = path.lstat()
            where = f"patch {patch.name} leaves {path.relative_to(tree)}"
            if found.st_mode & (stat.S_ISUID | stat.S_ISGID):
                raise SourceError(f"{where} set-id; no source file may be")
            if stat.S_ISLNK(found.st_mode):
                target = str(path.readlink())
                if posixpath.isabs(target):
                    raise SourceError(f"{where} a link to an absolute path {target!r}")
                relative = path.parent.relative_to(tree).as_posix()
                inside = posixpath.normpath(posixpath.join(relative, target))
                if inside == ".." or inside.startswith("../"):
                    raise SourceError(f"{where} a link to {target!r}, outside the tree")


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
        if done.returncode == 0:
            check_tree(tree, patch)
        else:
            hunks = rejects.read_text(errors="replace") if rejects.is_file() else ""
            raise SourceError(
                f"patch {patch.name} ({patchset.directory / 'series'}:{patch.line}) does not "
                f"apply:\n{done.stdout.strip()}{done.stderr.strip()}"
                + (f"\nrejected hunk(s):\n{hunks.rstrip()}" if hunks else ""),
                hint=f"refresh {patch.path} against this release, or remove it from the series",
            )
