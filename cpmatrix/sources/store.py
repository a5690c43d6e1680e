"""The source cache: verified tarballs, extracted trees, locks and temp space.

Layout under ``layout.cache_dir()/sources``::

    tarballs/<sha256>/<name>          a tarball whose sha256 is its directory name
    tarballs/<sha256>/<name>.asc      upstream's detached signature, when one came with it
    tarballs/<sha256>/signing-key.asc the public key that came with it (Debian ships one)
    tarballs/<sha256>/origin.json     where the bytes came from
    trees/<key>/                      extracted + patched, read-only
    listings/<key>.json               what each tree held when made (checked on every use)
    locks/  tmp/  apt/

Only complete things ever carry a final name: every write goes to ``tmp/`` first and is renamed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from cpmatrix.matrix import layout
from cpmatrix.sources.model import ProviderFailed, ProviderName, Tarball
from cpmatrix.util import jsonfile, locks
from cpmatrix.util.errors import SourceError
from cpmatrix.util.fileio import sha256_of

STALE_SECONDS = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class SourceCache:
    root: Path

    @classmethod
    def default(cls) -> SourceCache:
        return cls(layout.cache_dir() / "sources")

    @property
    def tarballs(self) -> Path:
        return self.root / "tarballs"

    @property
    def trees(self) -> Path:
        return self.root / "trees"

    @property
    def apt(self) -> Path:
        return self.root / "apt"

    @property
    def tmp(self) -> Path:
        return self._made(self.root / "tmp")

    def sweep(self, older_than: float = STALE_SECONDS) -> None:
        """Remove scratch files a killed run left behind (never trusted; only taking space)."""
        limit = time.time() - older_than
        for entry in self.tmp.iterdir():
            with contextlib.suppress(OSError):
                if entry.lstat().st_mtime < limit:
                    remove_tree(entry)

    def slot(self, sha256: str) -> Path:
        return self.tarballs / sha256

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Held by one process at a time across every run sharing this cache (one per release,
        tree, or private apt directory); waiting is reported, and gives up after an hour."""

        def gave_up(message: str) -> SourceError:
            return SourceError(
                message,
                hint="another cpmatrix run is still fetching or extracting; if none is, "
                "remove the lock file",
            )

        path = self.root / "locks" / f"{name}.lock"
        with locks.held(path, purpose="fetching or extracting", gave_up=gave_up):
            yield

    @contextlib.contextmanager
    def temp_dir(self, prefix: str) -> Iterator[Path]:
        """A scratch directory in the cache, removed on exit (also on Ctrl-C)."""
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=self.tmp))
        try:
            yield path
        finally:
            remove_tree(path)

    @contextlib.contextmanager
    def temp_file(self, suffix: str) -> Iterator[Path]:
        """A scratch file name in the cache; whatever is left at that name is removed on exit."""
        handle, name = tempfile.mkstemp(prefix="part-", suffix=suffix, dir=self.tmp)
        os.close(handle)
        path = Path(name)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    @staticmethod
    def _made(path: Path) -> Path:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path

    def open(self) -> SourceCache:
        """The cache, made private (0700, marked as cpmatrix's) if new; refused when another
        user owns it or can write it, since a tree in it is handed out as the verified one."""
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise SourceError(
                f"cannot make the source cache {self.root}: {error.strerror or error}",
                hint="point CPMATRIX_CACHE at a directory of your own",
            ) from None
        for directory in (self.root, self.tarballs, self.trees, self.root / "listings"):
            if directory.exists():
                refuse_shared(directory)
        marker = self.root / MARKER
        if not marker.exists():
            marker.write_text(MARKER_TEXT, encoding="utf-8")
        return self

    @property
    def marked(self) -> bool:
        """Made by cpmatrix: holds the marker :meth:`open` writes."""
        marker = self.root / MARKER
        if marker.is_symlink() or not marker.is_file():
            return False
        with marker.open("rb") as stream:
            return stream.read(len(MARKER_TEXT) + 1) == MARKER_TEXT.encode()


MARKER = "CACHEDIR.TAG"
MARKER_TEXT = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# cpmatrix's source cache (https://bford.info/cachedir/); invoke clean --sources removes it\n"
)


def refuse_shared(path: Path) -> None:
    """A directory cpmatrix trusts must be yours and writable by you alone (as checkouts are
    refused when another uid owns them): another user could plant a tree with its own
    ``configure`` there."""
    if os.name != "posix":
        return
    found = path.stat()
    if found.st_uid != os.geteuid():
        raise SourceError(
            f"{path} is owned by uid {found.st_uid}, not by you (uid {os.geteuid()}); "
            "cpmatrix does not trust what another user left in a cache",
            hint="use a cache of your own: set CPMATRIX_CACHE to a directory you own",
        )
    if found.st_mode & 0o022:
        raise SourceError(
            f"{path} is writable by group or others (mode {stat.S_IMODE(found.st_mode):o}); "
            "another user could put a source tree there",
            hint=f"chmod go-w {path}, or set CPMATRIX_CACHE to a directory of your own",
        )


def admit(
    cache: SourceCache,
    candidate: Path,
    *,
    name: str,
    expected: str | None,
    release_sha256: str,
    origin: str,
    provider: ProviderName,
    extras: dict[str, Path] | None = None,
) -> Tarball:
    """Move a fetched file into the cache, but only if its sha256 is the expected one.

    ``expected`` is None for a tarball that does not claim to be the matrix's release; it is
    the matrix release anyway when its sha256 equals ``release_sha256``.
    On a mismatch the file is deleted and the provider fails with both digests and the origin.
    ``extras`` (``.asc``, signing key) are copied beside it; the tarball is renamed in last, so
    its presence means the slot is complete.
    """
    actual = sha256_of(candidate)
    if expected is not None and actual != expected:
        candidate.unlink(missing_ok=True)
        raise ProviderFailed(
            f"checksum mismatch for {name} from {origin}: expected sha256 {expected} "
            f"(matrix.yaml), got {actual}; the file was removed",
            alarming=True,
        )
    slot = cache.slot(actual)
    slot.mkdir(parents=True, exist_ok=True)
    record = {"name": name, "origin": origin, "provider": provider}
    _write_atomic(slot / "origin.json", json.dumps(record, indent=2).encode(), cache)
    for target_name, source in (extras or {}).items():
        _write_atomic(slot / target_name, source.read_bytes(), cache)
    candidate.replace(slot / name)
    return cached_tarball(cache, actual, name, matrix_release=actual == release_sha256)


def cached_tarball(
    cache: SourceCache, sha256: str, name: str, *, matrix_release: bool, reused: bool = False
) -> Tarball:
    """The Tarball value for a complete slot (its sha256 already checked by the caller).

    ``reused``: served from the cache rather than just fetched; the record says both.
    """
    slot = cache.slot(sha256)
    origin, provider = _recorded_origin(slot)
    if reused:
        origin, provider = f"first fetched by {provider} from {origin}", "cache"
    asc, key = slot / f"{name}.asc", slot / "signing-key.asc"
    return Tarball(
        path=slot / name,
        sha256=sha256,
        origin=origin,
        provider=provider,
        matrix_release=matrix_release,
        signature_file=asc if asc.is_file() else None,
        key_file=key if key.is_file() else None,
    )


def _recorded_origin(slot: Path) -> tuple[str, ProviderName]:
    """Where a cached tarball came from, as its origin.json says (anything odd: unknown)."""
    try:
        recorded = jsonfile.read(slot / "origin.json", what="origin record", error=SourceError)
    except SourceError:
        recorded = {}
    origin, provider = recorded.get("origin"), recorded.get("provider")
    for known in get_args(ProviderName):
        if isinstance(origin, str) and provider == known:
            return origin, known
    return "unknown (no origin.json)", "cache"


def _write_atomic(target: Path, data: bytes, cache: SourceCache) -> None:
    with cache.temp_file(target.suffix) as temp:
        temp.write_bytes(data)
        temp.replace(target)


def make_read_only(root: Path) -> None:
    """chmod a-w on a tree (directories last, so the walk can still list them)."""
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if not path.is_symlink():
            path.chmod(stat.S_IMODE(path.lstat().st_mode) & ~0o222)
    root.chmod(stat.S_IMODE(root.stat().st_mode) & ~0o222)


def remove_tree(path: Path) -> None:
    """Remove a tree even where it was made read-only."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
        return
    for directory, _, _ in os.walk(path):
        Path(directory).chmod(stat.S_IMODE(Path(directory).stat().st_mode) | stat.S_IRWXU)
    shutil.rmtree(path)


def clean(cache: SourceCache) -> int:
    """Remove the source cache if cpmatrix made it (its marker is there); the bytes freed.

    A directory without the marker is refused, whatever CPMATRIX_CACHE says: clean removes
    only what cpmatrix made.
    """
    if not cache.root.exists():
        return 0
    if not cache.marked:
        raise SourceError(
            f"{cache.root} was not made by cpmatrix (it has no {MARKER} of cpmatrix's); "
            "it is not removed",
            hint="check CPMATRIX_CACHE; remove the directory yourself if it is a cache",
        )
    refuse_shared(cache.root)
    size = sum(p.lstat().st_size for p in cache.root.rglob("*") if not p.is_symlink())
    remove_tree(cache.root)
    return size
