"""matrix.yaml's ``matrix:`` section: the lists whose product is the matrix, the cells it
includes and the patterns it excludes, each checked against what the other sections define."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from cpmatrix.features import Profile, Version
from cpmatrix.matrix import Matrix, Pattern, Platform, PythonRelease, Selection, Variant
from cpmatrix.matrix.yamlnodes import Doc
from cpmatrix.util.errors import did_you_mean

KEYS = ("pythons", "variants", "platforms", "profiles")
"""The lists of the section; an include or exclude names one of each in the singular."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Defined:
    """What the file's other sections define, for the ``matrix:`` section to pick from."""

    pythons: dict[Version, PythonRelease]
    variants: dict[str, Variant]
    profiles: tuple[Profile, ...]
    platforms: dict[str, Platform]

    def by_name(self) -> dict[str, dict[str, object]]:
        """Each list's values by the name the file gives them, keyed like :data:`KEYS`."""
        return {
            "pythons": {str(v): v for v in self.pythons},
            "variants": dict(self.variants),
            "platforms": {p: p for p in self.platforms},
            "profiles": {p: p for p in self.profiles},
        }


def matrix_section(doc: Doc, node: yaml.Node, path: Path, defined: Defined) -> Matrix:
    section = doc.mapping(node, "matrix", allowed=(*KEYS, "include", "exclude"), required=KEYS)
    tables = defined.by_name()
    chosen = {key: _listed(doc, section[key][1], key, tables[key]) for key in KEYS}
    include = _patterns(doc, section, "include", tables)
    for pattern, item in include:
        if None in (pattern.pythons, pattern.variants, pattern.platforms, pattern.profiles):
            raise doc.error(
                item, "an include names one cell: give python, variant, platform and profile"
            )
    matrix = Matrix(
        path=path,
        pythons=defined.pythons,
        named_variants=defined.variants,
        profiles=defined.profiles,
        platforms=defined.platforms,
        default_pythons=tuple(chosen["pythons"]),  # type: ignore[arg-type]
        default_variants=tuple(chosen["variants"]),  # type: ignore[arg-type]
        default_platforms=tuple(chosen["platforms"]),  # type: ignore[arg-type]
        default_profiles=tuple(chosen["profiles"]),  # type: ignore[arg-type]
        include=tuple(p for p, _ in include),
    )
    exclude = _patterns(doc, section, "exclude", tables)
    listed = matrix._combinations(Selection(), include_defaults=True)
    for pattern, item in exclude:
        if not any(pattern.matches(*combo) for combo in listed):
            raise doc.error(
                item,
                "this exclude matches no cell of the matrix",
                hint="remove it, or fix the names it uses",
            )
    return replace(matrix, exclude=tuple(p for p, _ in exclude))


def _listed(doc: Doc, node: yaml.Node, key: str, known: dict[str, object]) -> list[object]:
    """One of the section's lists: known names, each once."""
    items: list[object] = []
    for name, item in doc.texts(node, f"matrix.{key}"):
        if name not in known:
            raise doc.error(
                item, f"matrix.{key} names unknown {name!r}", did_you_mean(name, tuple(known))
            )
        if known[name] in items:
            raise doc.error(item, f"matrix.{key} names {name!r} twice")
        items.append(known[name])
    return items


def _patterns(
    doc: Doc,
    section: dict[str, tuple[yaml.ScalarNode, yaml.Node]],
    key: str,
    tables: dict[str, dict[str, object]],
) -> list[tuple[Pattern, yaml.Node]]:
    if key not in section:
        return []
    return [
        (_pattern(doc, item, f"matrix.{key}[{i}]", tables), item)
        for i, item in enumerate(doc.sequence(section[key][1], f"matrix.{key}"))
    ]


def _pattern(doc: Doc, node: yaml.Node, what: str, tables: dict[str, dict[str, object]]) -> Pattern:
    entry = doc.mapping(node, what, allowed=("python", "variant", "platform", "profile"))
    if not entry:
        raise doc.error(node, f"{what} is empty")

    def lookup(key: str) -> frozenset[object] | None:
        if key not in entry:
            return None
        table = tables[f"{key}s"]
        found: set[object] = set()
        for name, item in doc.texts(entry[key][1], f"{what}.{key}"):
            if name not in table:
                raise doc.error(
                    item, f"unknown {key} {name!r} in {what}", did_you_mean(name, tuple(table))
                )
            found.add(table[name])
        return frozenset(found)

    return Pattern(
        pythons=lookup("python"),  # type: ignore[arg-type]
        variants=lookup("variant"),  # type: ignore[arg-type]
        platforms=lookup("platform"),  # type: ignore[arg-type]
        profiles=lookup("profile"),  # type: ignore[arg-type]
    )
