"""The values the source step produces: the prepared tree, a verified tarball, provider attempts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cpmatrix.features import Version

ProviderName = Literal["cache", "explicit", "url", "debian"]
DEFAULT_PROVIDERS: tuple[ProviderName, ...] = ("cache", "url", "debian")


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceTree:
    """An extracted, patched, read-only CPython tree that variants build from out of tree."""

    path: Path
    release: Version
    sha256: str | None
    origin: str
    provider: str
    signature: str
    git_commit: str | None
    patches: tuple[str, ...]
    key: str
    git_dirty: bool | None = None
    patchset: str = ""

    def record(self) -> dict[str, object]:
        """The tree as plain data, for build records."""
        return {
            "path": str(self.path),
            "release": str(self.release),
            "sha256": self.sha256,
            "sha256_note": None if self.sha256 else "a checkout: no sha256 applies",
            "origin": self.origin,
            "provider": self.provider,
            "signature": self.signature,
            "git_commit": self.git_commit,
            "git_dirty": self.git_dirty,
            "patches": list(self.patches),
            "patchset": self.patchset,
            "key": self.key,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Tarball:
    """A tarball in the cache whose sha256 was just computed (and matched, if one was expected)."""

    path: Path
    sha256: str
    origin: str
    provider: ProviderName
    matrix_release: bool
    signature_file: Path | None = None
    key_file: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    provider: ProviderName
    outcome: str

    def __str__(self) -> str:
        return f"{self.provider}: {self.outcome}"


class ProviderFailed(Exception):
    """One provider could not supply the source; the next one is tried.

    ``alarming``: bytes were not what they claimed (a checksum mismatch), always shown.
    """

    def __init__(self, reason: str, *, alarming: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.alarming = alarming
