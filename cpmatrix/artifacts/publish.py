"""Publishing into dist/ as a transaction: a crash leaves the previous dist/ or the new one.

Every new file (archive, manifest, ``index.json``, ``SHA256SUMS``) is written into
``dist/.publish-staging/`` and fsynced, with the order to apply them in. Renaming that
directory to ``.publish-committed`` is the commit point: one atomic rename, fsynced. Then each
file is renamed into dist/ (the index and SHA256SUMS last) and the directory is removed.

Whoever takes dist's lock calls :func:`recover` first: a staging directory (a crash before
the commit) is discarded, a committed one (a crash after) is finished. So once anything looks
at dist/ again (``invoke package``, ``invoke index``, ``invoke index --check``) it holds
exactly the old files or exactly the new, and SHA256SUMS and index.json describe them.
A write that fails (a full disk) removes the staging directory: nothing new is left.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from cpmatrix.artifacts.uvindex import UV_DIR
from cpmatrix.util import console, faults, names
from cpmatrix.util.errors import ArtifactError

STAGING = ".publish-staging"
COMMITTED = ".publish-committed"
ORDER = ".order"


def _fsync(path: Path) -> None:
    """Flush a file, or a directory's entries (POSIX only: Windows cannot open directories)."""
    if path.is_dir() and os.name != "posix":
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class Publication:
    """New files for dist/, staged under their final names; :meth:`commit` publishes them."""

    def __init__(self, dist: Path) -> None:
        self.dist = dist
        self.staging = dist / STAGING
        self.names: list[str] = []
        self.writing: Path | None = None

    def path(self, name: str) -> Path:
        """Where to write the file that will become ``dist/<name>``; applied in call order."""
        if name not in self.names:
            self.names.append(name)
        self.writing = self.dist / name
        (self.staging / name).parent.mkdir(parents=True, exist_ok=True)
        return self.staging / name

    def write_text(self, name: str, text: str) -> Path:
        path = self.path(name)
        with path.open("w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        path.chmod(0o644)
        return path

    def staged(self, suffix: str) -> dict[str, Path]:
        return {name: self.staging / name for name in self.names if name.endswith(suffix)}

    def commit(self) -> None:
        for name in self.names:
            _fsync(self.staging / name)
            faults.point(f"staged {name}")
        (self.staging / ORDER).write_text("".join(f"{n}\n" for n in self.names), "utf-8")
        _fsync(self.staging / ORDER)
        _fsync(self.staging)
        (self.staging).replace(self.dist / COMMITTED)
        _fsync(self.dist)
        faults.point("committed")
        _apply(self.dist)


MAX_JOURNAL_BYTES = 1 << 20


def refuse_link(path: Path) -> None:
    """dist/ holds files other jobs uploaded: a link in it is never written through or read."""
    if path.is_symlink():
        raise ArtifactError(
            f"{path} is a symbolic link; cpmatrix never writes through or follows links in dist/",
            hint=f"remove it (rm {path}) and run again",
        )


def journal_path(root: Path, name: str) -> Path:
    """``root/<name>`` or ``root/uv/<name>``: the only names a publication writes."""
    parts = name.split("/")
    if len(parts) == 2 and parts[0] == UV_DIR:
        return names.join(root, *parts, what="the publishing journal's entry", error=ArtifactError)
    return names.join(root, name, what="the publishing journal's entry", error=ArtifactError)


def _journal(committed: Path) -> list[str]:
    """The names a committed publication applies, each checked to be a file in dist/."""
    with (committed / ORDER).open("rb") as stream:
        raw = stream.read(MAX_JOURNAL_BYTES + 1)
    try:
        listed = raw.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        listed = None
    if listed is None or len(raw) > MAX_JOURNAL_BYTES:
        raise ArtifactError(
            f"the publishing journal {committed / ORDER} is not one cpmatrix wrote",
            hint=f"inspect and remove {committed}, then run again",
        )
    for name in filter(None, listed):
        journal_path(committed, name)
    return [name for name in listed if name]


def _apply(dist: Path) -> None:
    committed = dist / COMMITTED
    for name in _journal(committed):
        source, target = journal_path(committed, name), journal_path(dist, name)
        if source.is_symlink() or (source.exists() and not source.is_file()):
            raise ArtifactError(f"the publication's {source} is not a plain file; not applied")
        if source.exists():  # a finished rename is not repeated on recovery
            refuse_link(target.parent)
            target.parent.mkdir(parents=True, exist_ok=True)
            source.replace(target)
            faults.point(f"applied {name}")
    _fsync(dist)
    shutil.rmtree(committed)
    faults.point("published")


def recover(dist: Path) -> str | None:
    """Finish or discard what a killed publication left; what was done, for the log.

    Only for a caller that holds dist's lock (every writer does, so no publication is live).
    A journal directory that is a link was not made by cpmatrix: the link is removed, and
    nothing it points to is read.
    """
    for name in (COMMITTED, STAGING):
        if (dist / name).is_symlink():
            (dist / name).unlink()
            return f"removed {name}, a link cpmatrix did not make"
    if (dist / COMMITTED).is_dir():
        _apply(dist)
        return "finished a publication that was interrupted after its commit"
    if (dist / STAGING).exists():
        shutil.rmtree(dist / STAGING)
        return "discarded a publication that was interrupted before its commit"
    return None


@contextlib.contextmanager
def publication(dist: Path) -> Iterator[Publication]:
    """A Publication in dist/ (the caller holds dist's lock); discarded unless committed.

    An OSError while staging (a full disk, a read-only dist/) becomes an ArtifactError naming
    the path, after the staging directory is removed.
    """
    dist.mkdir(parents=True, exist_ok=True)
    done = recover(dist)
    if done is not None:
        console.warn(f"{dist}: {done}")
    staging = Publication(dist)
    staging.staging.mkdir()
    try:
        yield staging
    except OSError as error:
        where = staging.writing or error.filename or dist
        raise ArtifactError(
            f"cannot write {where}: {error.strerror or error}; nothing was published, "
            f"{dist} is as it was",
            hint="free space there (or point CPMATRIX_DIST_DIR elsewhere) and package again",
        ) from None
    finally:
        if staging.staging.exists():
            shutil.rmtree(staging.staging, ignore_errors=True)
