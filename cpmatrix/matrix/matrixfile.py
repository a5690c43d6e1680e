"""Reading matrix.yaml into a :class:`~cpmatrix.matrix.Matrix`, refusing anything inconsistent.

Every problem is a ConfigError at ``matrix.yaml:LINE:COL`` with what to change; nothing is built
from a matrix that does not validate.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import yaml

from cpmatrix.features import PROFILES, Feature, Profile, Version, toolchains
from cpmatrix.matrix import (
    ALLOWED_BUILDERS,
    Matrix,
    Pattern,
    Platform,
    PythonRelease,
    Selection,
    Signature,
    Variant,
)
from cpmatrix.matrix.yamlnodes import Doc
from cpmatrix.util import names
from cpmatrix.util.errors import ConfigError, Location, did_you_mean

SCHEMA = 1
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FINGERPRINT = re.compile(r"^[0-9A-F]{40}$")


DEFAULT_MATRIX = Path(__file__).resolve().parents[2] / "matrix.yaml"


def matrix_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("CPMATRIX_MATRIX", DEFAULT_MATRIX))


MAX_BYTES = 256 * 1024
"""A matrix file is a few KiB (the project's: 4); anything far larger is refused unread."""


def load(path: str | os.PathLike[str] | None = None) -> Matrix:
    """Read and validate matrix.yaml; any problem is a ConfigError at FILE:LINE:COL."""
    where = matrix_path(path)
    try:
        with where.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"cannot read {where}: {error.strerror}") from None
    return parse(decode(raw, where), where)


def _location(path: Path, before: str) -> Location:
    return Location(path, before.count("\n") + 1, len(before) - before.rfind("\n"))


def decode(raw: bytes, path: Path) -> str:
    """The file's text, refusing one too large, not UTF-8, or holding a NUL byte."""
    if len(raw) > MAX_BYTES:
        raise ConfigError(
            f"{path} is larger than {MAX_BYTES // 1024} KiB; a matrix file is a few KiB",
            hint="is this the right file? (--matrix or $CPMATRIX_MATRIX)",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = raw[: error.start].decode("utf-8", "replace")
        raise ConfigError(
            f"not UTF-8 text: byte 0x{raw[error.start]:02x} cannot start or continue a character",
            location=_location(path, before),
            hint="save the file as UTF-8",
        ) from None
    if "\0" in text:
        raise ConfigError(
            "the file contains a NUL byte; YAML text cannot",
            location=_location(path, text[: text.index("\0")]),
        )
    return text


def parse(text: str, path: Path) -> Matrix:
    doc = Doc(path, text)
    top = doc.mapping(
        doc.root,
        "the matrix file",
        allowed=("schema", "pythons", "variants", "profiles", "platforms", "matrix"),
        required=("schema", "pythons", "variants", "profiles", "platforms", "matrix"),
    )
    _, schema_node = top["schema"]
    if doc.integer(schema_node, "schema") != SCHEMA:
        raise doc.error(schema_node, f"unsupported schema; this cpmatrix reads schema {SCHEMA}")
    pythons = _pythons(doc, top["pythons"][1])
    variants = _variants(doc, top["variants"][1])
    profiles = _profiles(doc, top["profiles"][1])
    platforms = _platforms(doc, top["platforms"][1])
    return _matrix_section(doc, top["matrix"][1], path, pythons, variants, profiles, platforms)


def _pythons(doc: Doc, node: yaml.Node) -> dict[Version, PythonRelease]:
    result: dict[Version, PythonRelease] = {}
    for minor, (key_node, value) in doc.mapping(node, "pythons").items():
        try:
            series = Version.parse(minor)
        except ValueError as error:
            raise doc.error(key_node, str(error)) from None
        if series.micro is not None:
            raise doc.error(key_node, f'pythons are keyed by minor (e.g. "3.13"), not {minor!r}')
        what = f"pythons.{minor}"
        entry = doc.mapping(
            value,
            what,
            allowed=("release", "url", "sha256", "llvm", "signature"),
            required=("release", "url", "sha256", "signature"),
        )
        release_node = entry["release"][1]
        try:
            release = Version.parse(doc.text(release_node, f"{what}.release"))
        except ValueError as error:
            raise doc.error(release_node, str(error)) from None
        if release.micro is None or release.series != series:
            raise doc.error(release_node, f"{what}.release must be a {minor}.N release")
        url = _url(doc, entry["url"][1], f"{what}.url")
        sha_node = entry["sha256"][1]
        sha256 = doc.text(sha_node, f"{what}.sha256").lower()
        if not _SHA256.match(sha256):
            raise doc.error(sha_node, f"{what}.sha256 must be 64 hex digits")
        llvm: int | None = None
        if "llvm" in entry:
            llvm_node = entry["llvm"][1]
            llvm = doc.integer(llvm_node, f"{what}.llvm")
            known = toolchains.SERIES.get((series.major, series.minor))
            expected = known.llvm if known is not None else None
            if expected is not None and llvm != expected:
                raise doc.error(
                    llvm_node,
                    f"CPython {minor}'s JIT is built with LLVM {expected} (Tools/jit), not {llvm}",
                    hint=f"set llvm: {expected}",
                )
        result[series] = PythonRelease(
            series=series,
            release=release,
            url=url,
            sha256=sha256,
            signature=_signature(doc, entry["signature"][1], f"{what}.signature"),
            llvm=llvm,
        )
    if not result:
        raise doc.error(node, "pythons lists no CPython version")
    return result


def _url(doc: Doc, node: yaml.Node, what: str) -> str:
    """An https URL whose last path component, the tarball's file name, is a valid name."""
    url = doc.text(node, what)
    if not url.startswith("https://"):
        raise doc.error(node, f"{what} must be an https URL")
    file_name = url.rsplit("/", 1)[-1]  # PythonRelease.tarball_name
    problem = names.problem(file_name)
    if problem is not None:
        raise doc.error(
            node,
            f"{what} must end in the tarball's file name, and {names.shown(file_name)} {problem}",
        )
    return url


def _signature(doc: Doc, node: yaml.Node, what: str) -> Signature:
    entry = doc.mapping(node, what, allowed=("pgp", "sigstore", "none"))
    if len(entry) != 1:
        raise doc.error(node, f"{what} needs exactly one of pgp, sigstore, none")
    kind, (_, value) = next(iter(entry.items()))
    if kind == "pgp":
        fingerprint = doc.text(value, f"{what}.pgp").replace(" ", "").upper()
        if not _FINGERPRINT.match(fingerprint):
            raise doc.error(value, f"{what}.pgp must be a 40-hex-digit key fingerprint")
        return Signature(pgp_fingerprint=fingerprint)
    if kind == "sigstore":
        fields = doc.mapping(
            value,
            f"{what}.sigstore",
            allowed=("identity", "issuer"),
            required=("identity", "issuer"),
        )
        return Signature(
            sigstore_identity=doc.text(fields["identity"][1], "identity"),
            sigstore_issuer=doc.text(fields["issuer"][1], "issuer"),
        )
    return Signature()


def _features(doc: Doc, node: yaml.Node, what: str) -> frozenset[Feature]:
    chosen: list[Feature] = []
    for item in doc.sequence(node, what):
        word = doc.text(item, f"a feature in {what}")
        try:
            feature = Feature(word)
        except ValueError:
            raise doc.error(
                item,
                f"unknown feature {word!r} in {what}",
                did_you_mean(word, [f.value for f in Feature]),
            ) from None
        if feature in chosen:
            raise doc.error(item, f"{what} names {feature} twice")
        chosen.append(feature)
    return frozenset(chosen)


def _variants(doc: Doc, node: yaml.Node) -> dict[str, Variant]:
    result: dict[str, Variant] = {}
    for name, (key_node, value) in doc.mapping(node, "variants").items():
        doc.name(key_node, "variant name")
        variant = Variant(_features(doc, value, f"variants.{name}"))
        spelled = name == "default" or all(w in Feature._value2member_map_ for w in name.split("+"))
        if spelled and name != variant.name:
            raise doc.error(
                key_node,
                f"variant {name!r} is spelled as features but lists {list(variant.ordered)}",
                hint=f"name it {variant.name!r}, or give the alias a name that is not a feature",
            )
        result[name] = variant
    return result


def _profiles(doc: Doc, node: yaml.Node) -> tuple[Profile, ...]:
    result: list[Profile] = []
    for name, item in doc.texts(node, "profiles"):
        match = [p for p in PROFILES if p == name]
        if not match:
            raise doc.error(item, f"unknown profile {name!r}", did_you_mean(name, PROFILES))
        if match[0] in result:
            raise doc.error(item, f"profiles names {name!r} twice")
        result.append(match[0])
    return tuple(result)


def _platforms(doc: Doc, node: yaml.Node) -> dict[str, Platform]:
    result: dict[str, Platform] = {}
    for name, (key_node, value) in doc.mapping(node, "platforms").items():
        what = f"platforms.{name}"
        doc.name(key_node, "platform name")
        os_name, _, arch = name.partition("-")
        if os_name not in ALLOWED_BUILDERS or not arch:
            raise doc.error(key_node, f"platform {name!r} must be <linux|macos|windows>-<arch>")
        entry = doc.mapping(
            value, what, allowed=("runner", "builder", "glibc", "consumers"), required=("builder",)
        )
        if "runner" not in entry:
            raise doc.error(
                value, f"{what} has no runner", hint="add runner: <GitHub runner label>"
            )
        runner = doc.text(entry["runner"][1], f"{what}.runner")
        builder_node = entry["builder"][1]
        builder = doc.text(builder_node, f"{what}.builder")
        allowed = ALLOWED_BUILDERS[os_name]
        kinds = [kind for kind in allowed if kind == builder]
        if not kinds:
            raise doc.error(
                builder_node,
                f"builder {builder!r} cannot build {name}",
                did_you_mean(builder, allowed),
            )
        floor, consumers = _portability(doc, entry, what, os_name)
        result[name] = Platform(
            name=name,
            os=os_name,
            arch=arch,
            runner=runner,
            builder=kinds[0],
            glibc_floor=floor,
            consumers=consumers,
        )
    return result


_GLIBC = re.compile(r"^2\.\d+$")


def _portability(
    doc: Doc, entry: dict[str, tuple[yaml.ScalarNode, yaml.Node]], what: str, os_name: str
) -> tuple[str | None, tuple[str, ...]]:
    """A Linux platform's glibc floor and consumer images; other systems have neither."""
    if os_name != "linux":
        for key in ("glibc", "consumers"):
            if key in entry:
                raise doc.error(entry[key][0], f"{what}.{key} applies to Linux platforms only")
        return None, ()
    floor = None
    if "glibc" in entry:
        floor = doc.text(entry["glibc"][1], f"{what}.glibc")
        if not _GLIBC.match(floor):
            raise doc.error(
                entry["glibc"][1],
                f'{what}.glibc must be a glibc version such as "2.31", not {floor!r}',
            )
    consumers: tuple[str, ...] = ()
    if "consumers" in entry:
        listed = doc.texts(entry["consumers"][1], f"{what}.consumers")
        consumers = tuple(dict.fromkeys(doc.name(item, "consumer") for _, item in listed))
    return floor, consumers


def _pattern(
    doc: Doc,
    node: yaml.Node,
    what: str,
    pythons: dict[Version, PythonRelease],
    variants: dict[str, Variant],
    profiles: tuple[Profile, ...],
    platforms: dict[str, Platform],
) -> Pattern:
    entry = doc.mapping(node, what, allowed=("python", "variant", "platform", "profile"))
    if not entry:
        raise doc.error(node, f"{what} is empty")

    def lookup(key: str, table: dict[str, object]) -> frozenset[object] | None:
        if key not in entry:
            return None
        found: set[object] = set()
        for name, item in doc.texts(entry[key][1], f"{what}.{key}"):
            if name not in table:
                raise doc.error(
                    item, f"unknown {key} {name!r} in {what}", did_you_mean(name, tuple(table))
                )
            found.add(table[name])
        return frozenset(found)

    return Pattern(
        pythons=lookup("python", {str(v): v for v in pythons}),  # type: ignore[arg-type]
        variants=lookup("variant", dict(variants)),  # type: ignore[arg-type]
        platforms=lookup("platform", {p: p for p in platforms}),  # type: ignore[arg-type]
        profiles=lookup("profile", {p: p for p in profiles}),  # type: ignore[arg-type]
    )


def _matrix_section(
    doc: Doc,
    node: yaml.Node,
    path: Path,
    pythons: dict[Version, PythonRelease],
    variants: dict[str, Variant],
    profiles: tuple[Profile, ...],
    platforms: dict[str, Platform],
) -> Matrix:
    section = doc.mapping(
        node,
        "matrix",
        allowed=("pythons", "variants", "platforms", "profiles", "include", "exclude"),
        required=("pythons", "variants", "platforms", "profiles"),
    )
    table: dict[str, dict[str, object]] = {
        "pythons": {str(v): v for v in pythons},
        "variants": dict(variants),
        "platforms": {p: p for p in platforms},
        "profiles": {p: p for p in profiles},
    }
    chosen: dict[str, list[object]] = {}
    for key, known in table.items():
        items: list[object] = []
        for name, item in doc.texts(section[key][1], f"matrix.{key}"):
            if name not in known:
                raise doc.error(
                    item, f"matrix.{key} names unknown {name!r}", did_you_mean(name, tuple(known))
                )
            if known[name] in items:
                raise doc.error(item, f"matrix.{key} names {name!r} twice")
            items.append(known[name])
        chosen[key] = items

    def patterns(key: str) -> list[tuple[Pattern, yaml.Node]]:
        if key not in section:
            return []
        return [
            (
                _pattern(doc, item, f"matrix.{key}[{i}]", pythons, variants, profiles, platforms),
                item,
            )
            for i, item in enumerate(doc.sequence(section[key][1], f"matrix.{key}"))
        ]

    include = patterns("include")
    for pattern, item in include:
        if None in (pattern.pythons, pattern.variants, pattern.platforms, pattern.profiles):
            raise doc.error(
                item, "an include names one cell: give python, variant, platform and profile"
            )
    matrix = Matrix(
        path=path,
        pythons=pythons,
        named_variants=variants,
        profiles=profiles,
        platforms=platforms,
        default_pythons=tuple(chosen["pythons"]),  # type: ignore[arg-type]
        default_variants=tuple(chosen["variants"]),  # type: ignore[arg-type]
        default_platforms=tuple(chosen["platforms"]),  # type: ignore[arg-type]
        default_profiles=tuple(chosen["profiles"]),  # type: ignore[arg-type]
        include=tuple(p for p, _ in include),
    )
    exclude = patterns("exclude")
    listed = matrix._combinations(Selection(), include_defaults=True)
    for pattern, item in exclude:
        if not any(pattern.matches(*combo) for combo in listed):
            raise doc.error(
                item,
                "this exclude matches no cell of the matrix",
                hint="remove it, or fix the names it uses",
            )
    return replace(matrix, exclude=tuple(p for p, _ in exclude))
