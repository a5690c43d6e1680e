"""The words every other part of ``features`` and of cpmatrix uses: a feature, a version, a
profile, an OS. Below the toolchain table, which is written in them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import total_ordering
from typing import Literal


class Feature(StrEnum):
    """The one vocabulary for features: matrix, cell ids, ``--variant``, ``--expect``, manifests.

    Declaration order is the canonical order of a variant name (``freethreaded+tailcall``).
    """

    FREETHREADED = "freethreaded"
    JIT = "jit"
    JIT_OFF = "jit-off"
    JIT_INTERPRETER = "jit-interpreter"
    TAILCALL = "tailcall"
    NOREMOTEDEBUG = "noremotedebug"


JIT_MODES: frozenset[Feature] = frozenset({Feature.JIT, Feature.JIT_OFF, Feature.JIT_INTERPRETER})

OS = Literal["linux", "macos", "windows"]
Profile = Literal["release", "optimized", "debug"]
PROFILES: tuple[Profile, ...] = ("release", "optimized", "debug")
DEFAULT_PROFILE: Profile = "release"


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    """A CPython release (``3.13.5``) or a minor series (``3.13``, micro is None)."""

    major: int
    minor: int
    micro: int | None = None

    _PATTERN = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")

    @classmethod
    def parse(cls, text: str) -> Version:
        match = cls._PATTERN.match(text.strip())
        if match is None:
            raise ValueError(f"not a CPython version: {text!r} (expected e.g. 3.13 or 3.13.5)")
        micro = match.group(3)
        return cls(int(match.group(1)), int(match.group(2)), int(micro) if micro else None)

    @property
    def series(self) -> Version:
        return Version(self.major, self.minor)

    @property
    def minor_text(self) -> str:
        return f"{self.major}.{self.minor}"

    def at_least(self, major: int, minor: int) -> bool:
        return (self.major, self.minor) >= (major, minor)

    def _key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, -1 if self.micro is None else self.micro)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __str__(self) -> str:
        base = f"{self.major}.{self.minor}"
        return base if self.micro is None else f"{base}.{self.micro}"


def canonical_order(features: Iterable[Feature]) -> tuple[Feature, ...]:
    chosen = set(features)
    return tuple(feature for feature in Feature if feature in chosen)


def variant_name(features: Iterable[Feature]) -> str:
    ordered = canonical_order(features)
    return "+".join(ordered) if ordered else "default"


def jit_mode(features: Iterable[Feature]) -> Feature | None:
    modes = [feature for feature in features if feature in JIT_MODES]
    return modes[0] if modes else None


def needs_llvm(features: Iterable[Feature]) -> bool:
    """The interpreter-only JIT mode emits no machine code, so it needs no stencils."""
    mode = jit_mode(features)
    return mode is not None and mode is not Feature.JIT_INTERPRETER
