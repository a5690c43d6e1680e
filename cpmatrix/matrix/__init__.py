"""The matrix model and its resolution into build cells (matrix.yaml is read by matrixfile).

A :class:`Cell` is the primary key of everything downstream (directories, artifacts, logs).
Its id is composed here once; nothing else builds or slices ids.
"""

from __future__ import annotations

import itertools
import platform as host
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from cpmatrix import features as fx
from cpmatrix.features import OS, Feature, Profile, Version
from cpmatrix.util.errors import ImpossibleCellError, UsageError, did_you_mean

BuilderKind = Literal["docker", "native", "windows"]
BUILDER_KINDS: tuple[BuilderKind, ...] = get_args(BuilderKind)
ALLOWED_BUILDERS: dict[OS, tuple[BuilderKind, ...]] = {
    "linux": ("docker", "native"),
    "macos": ("native",),
    "windows": ("windows",),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Signature:
    """How a release is signed: a PGP key (3.13 and older) or a Sigstore identity (3.14+)."""

    pgp_fingerprint: str | None = None
    sigstore_identity: str | None = None
    sigstore_issuer: str | None = None

    @property
    def kind(self) -> Literal["pgp", "sigstore", "none"]:
        if self.pgp_fingerprint:
            return "pgp"
        return "sigstore" if self.sigstore_identity else "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonRelease:
    series: Version
    release: Version
    url: str
    sha256: str
    signature: Signature
    llvm: int | None = None

    @property
    def tarball_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Variant:
    """A set of features. Its name is canonical: the same set always has the same name."""

    features: frozenset[Feature]

    @property
    def name(self) -> str:
        return fx.variant_name(self.features)

    @property
    def ordered(self) -> tuple[Feature, ...]:
        return fx.canonical_order(self.features)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, kw_only=True)
class Platform:
    name: str
    os: OS
    arch: str
    runner: str
    builder: BuilderKind
    glibc_floor: str | None = None
    """Linux: the newest glibc symbol version an artifact may need (``glibc`` in matrix.yaml)."""
    consumers: tuple[str, ...] = ()
    """Linux: the Debian releases whose bare images every artifact is proven on."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Cell:
    """One thing to build: a CPython release with a set of features, on a platform, a profile."""

    python: PythonRelease
    variant: Variant
    platform: Platform
    profile: Profile

    @property
    def id(self) -> str:
        suffix = "" if self.profile == fx.DEFAULT_PROFILE else f"-{self.profile}"
        return f"cpython-{self.python.release}-{self.variant.name}-{self.platform.name}{suffix}"

    @property
    def version(self) -> Version:
        return self.python.release

    @property
    def features(self) -> frozenset[Feature]:
        return self.variant.features

    def record(self) -> dict[str, Any]:
        """The cell as plain data: what build records, manifests and ``--format json`` share."""
        return {
            "id": self.id,
            "python": str(self.python.release),
            "series": self.python.series.minor_text,
            "variant": self.variant.name,
            "features": [str(f) for f in self.variant.ordered],
            "platform": self.platform.name,
            "os": self.platform.os,
            "arch": self.platform.arch,
            "profile": self.profile,
            "runner": self.platform.runner,
            "builder": self.platform.builder,
        }

    def __str__(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped:
    """A cell the matrix names but CPython cannot build, and why."""

    description: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    cells: tuple[Cell, ...]
    skipped: tuple[Skipped, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Pattern:
    """An include or exclude entry: each key is None (any) or a set of accepted names."""

    pythons: frozenset[Version] | None = None
    variants: frozenset[Variant] | None = None
    platforms: frozenset[str] | None = None
    profiles: frozenset[Profile] | None = None

    def matches(self, python: Version, variant: Variant, platform: str, profile: Profile) -> bool:
        return (
            (self.pythons is None or python in self.pythons)
            and (self.variants is None or variant in self.variants)
            and (self.platforms is None or platform in self.platforms)
            and (self.profiles is None or profile in self.profiles)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """Command-line filters; an empty tuple means everything the matrix lists."""

    pythons: tuple[Version, ...] = ()
    variants: tuple[Variant, ...] = ()
    platforms: tuple[str, ...] = ()
    profiles: tuple[Profile, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Matrix:
    path: Path
    pythons: dict[Version, PythonRelease]
    named_variants: dict[str, Variant]
    profiles: tuple[Profile, ...]
    platforms: dict[str, Platform]
    default_pythons: tuple[Version, ...]
    default_variants: tuple[Variant, ...]
    default_platforms: tuple[str, ...]
    default_profiles: tuple[Profile, ...]
    include: tuple[Pattern, ...] = field(default=())
    exclude: tuple[Pattern, ...] = field(default=())

    # -- looking up what a user typed -------------------------------------------------------

    @property
    def newest(self) -> PythonRelease:
        return self.pythons[max(self.pythons)]

    def python(self, text: str) -> PythonRelease:
        """``3.13`` or ``3.13.5`` → the matrix's release for that minor."""
        valid = sorted(str(v) for v in self.pythons) + sorted(
            str(p.release) for p in self.pythons.values()
        )
        try:
            wanted = Version.parse(text)
        except ValueError:
            raise UsageError(f"unknown --python {text!r}", hint=did_you_mean(text, valid)) from None
        release = self.pythons.get(wanted.series)
        if release is None or (wanted.micro is not None and wanted != release.release):
            raise UsageError(
                f"CPython {text} is not in {self.path.name}", hint=did_you_mean(text, valid)
            )
        return release

    def variant(self, text: str) -> Variant:
        """A name from the matrix, or features joined with ``+`` in any order."""
        if text in self.named_variants:
            return self.named_variants[text]
        valid = sorted(set(self.named_variants) | {f.value for f in Feature})
        words = text.split("+")
        chosen: list[Feature] = []
        for word in words:
            try:
                feature = Feature(word)
            except ValueError:
                raise UsageError(
                    f"unknown variant or feature {word!r} in {text!r}",
                    hint=did_you_mean(word, valid),
                ) from None
            if feature in chosen:
                raise UsageError(f"variant {text!r} names {feature} twice")
            chosen.append(feature)
        return Variant(frozenset(chosen))

    def platform(self, name: str) -> Platform:
        if name not in self.platforms:
            raise UsageError(
                f"unknown --platform {name!r}", hint=did_you_mean(name, tuple(self.platforms))
            )
        return self.platforms[name]

    def profile(self, name: str) -> Profile:
        for profile in self.profiles:
            if profile == name:
                return profile
        raise UsageError(f"unknown --profile {name!r}", hint=did_you_mean(name, self.profiles))

    def selection(
        self,
        *,
        python: str | None = None,
        variant: str | None = None,
        platform: str | None = None,
        profile: str | None = None,
    ) -> Selection:
        """Comma-separated command-line filters → a Selection (each value checked)."""

        def split(value: str | None) -> list[str]:
            return [part.strip() for part in value.split(",") if part.strip()] if value else []

        return Selection(
            pythons=tuple(self.python(p).series for p in split(python)),
            variants=tuple(self.variant(v) for v in split(variant)),
            platforms=tuple(self.platform(p).name for p in split(platform)),
            profiles=tuple(self.profile(p) for p in split(profile)),
        )

    # -- cells -------------------------------------------------------------------------------

    def make_cell(
        self, python: PythonRelease, variant: Variant, platform: Platform, profile: Profile
    ) -> Cell:
        """A cell CPython can build, or ImpossibleCellError saying why not."""
        reason = fx.why_impossible(python.release, variant.features, platform.os, profile)
        if reason is not None:
            what = f"{variant.name} for CPython {python.release} on {platform.name} ({profile})"
            raise ImpossibleCellError(f"cannot build {what}: {reason}")
        return Cell(python=python, variant=variant, platform=platform, profile=profile)

    def cell(
        self,
        *,
        python: str | None = None,
        variant: str = "default",
        platform: str | None = None,
        profile: str | None = None,
    ) -> Cell:
        """One explicitly requested cell; defaults: newest python, host platform, release."""
        return self.make_cell(
            self.newest if python is None else self.python(python),
            self.variant(variant),
            self.platform(platform or host_platform()),
            fx.DEFAULT_PROFILE if profile is None else self.profile(profile),
        )

    def cell_by_id(self, cell_id: str) -> Cell:
        for candidate in self.expand(Selection(), include_defaults=False).cells:
            if candidate.id == cell_id:
                return candidate
        raise UsageError(f"no cell {cell_id!r} in {self.path.name}")

    def expand(self, selection: Selection, *, include_defaults: bool = True) -> Resolution:
        """The cells of the matrix, narrowed or widened by command-line filters.

        An axis the selection names replaces the matrix's list for that axis (so
        ``--profile debug`` asks for debug builds even where the matrix lists only release);
        excludes still apply, and includes are kept where they match the selection. With
        include_defaults=False every combination of the file's values is considered.
        """
        cells: dict[str, Cell] = {}
        skipped: dict[str, Skipped] = {}
        for version, variant, platform_name, profile in self._combinations(
            selection, include_defaults
        ):
            python, platform = self.pythons[version], self.platforms[platform_name]
            reason = fx.why_impossible(python.release, variant.features, platform.os, profile)
            if reason is None:
                cell = Cell(python=python, variant=variant, platform=platform, profile=profile)
                cells.setdefault(cell.id, cell)
            else:
                description = f"{python.release} {variant.name} {platform_name} {profile}"
                skipped.setdefault(description, Skipped(description=description, reason=reason))
        return Resolution(cells=tuple(cells.values()), skipped=tuple(skipped.values()))

    def _combinations(
        self, selection: Selection, include_defaults: bool
    ) -> list[tuple[Version, Variant, str, Profile]]:
        if not include_defaults:
            axes = (
                tuple(self.pythons),
                tuple(dict.fromkeys(self.named_variants.values())),
                tuple(self.platforms),
                self.profiles,
            )
            return [combo for combo in itertools.product(*axes) if _selected(selection, *combo)]
        combos = [
            combo
            for combo in itertools.product(
                selection.pythons or self.default_pythons,
                selection.variants or self.default_variants,
                selection.platforms or self.default_platforms,
                selection.profiles or self.default_profiles,
            )
            if not any(pattern.matches(*combo) for pattern in self.exclude)
        ]
        for pattern in self.include:
            combos.extend(
                combo
                for combo in itertools.product(
                    sorted(pattern.pythons or ()),
                    sorted(pattern.variants or (), key=lambda v: v.name),
                    sorted(pattern.platforms or ()),
                    sorted(pattern.profiles or ()),
                )
                if _selected(selection, *combo)
            )
        return combos


def _selected(
    selection: Selection, version: Version, variant: Variant, platform: str, profile: Profile
) -> bool:
    return (
        (not selection.pythons or version in selection.pythons)
        and (not selection.variants or variant in selection.variants)
        and (not selection.platforms or platform in selection.platforms)
        and (not selection.profiles or profile in selection.profiles)
    )


def host_platform() -> str:
    """This machine's platform name, e.g. ``linux-x86_64``."""
    system = {"Linux": "linux", "Darwin": "macos", "Windows": "windows"}.get(host.system(), "")
    machine = host.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64" if system == "linux" else "arm64"}.get(
        machine, machine
    )
    if system == "windows":
        arch = {"x86_64": "x64", "aarch64": "arm64"}.get(arch, arch)
    return f"{system}-{arch}"


def describe_features(features: Iterable[Feature]) -> Sequence[str]:
    return [f"{f}: {fx.describe(f)}" for f in fx.canonical_order(features)]
