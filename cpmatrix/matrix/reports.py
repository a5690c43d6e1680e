"""Renderers for resolved matrices: a table for people, JSON for programs."""

from __future__ import annotations

import json
from typing import Literal, assert_never, get_args

from cpmatrix.matrix import Resolution, ci
from cpmatrix.util import console
from cpmatrix.util.errors import UsageError, did_you_mean

Format = Literal["table", "json", "github", "github-shards"]
FORMATS: tuple[Format, ...] = get_args(Format)


def parse_format(text: str) -> Format:
    for known in FORMATS:
        if known == text:
            return known
    raise UsageError(f"unknown --format {text!r}", hint=did_you_mean(text, FORMATS))


def render(resolution: Resolution, format: Format, shard: ci.Shard | None = None) -> str:
    """The resolved matrix in one of ``invoke matrix``'s formats."""
    match format:
        case "table":
            return matrix_table(resolution)
        case "json":
            return matrix_json(resolution)
        case "github":
            return github_json(resolution, shard)
        case "github-shards":
            return github_shards_json(resolution)
        case _:
            assert_never(format)


def matrix_table(resolution: Resolution) -> str:
    rows = [
        [c.id, str(c.python.release), c.variant.name, c.platform.name, c.profile, c.platform.runner]
        for c in resolution.cells
    ]
    text = console.table(["cell", "python", "variant", "platform", "profile", "runner"], rows)
    text += f"\n\n{len(resolution.cells)} cells"
    if resolution.skipped:
        text += f"; {len(resolution.skipped)} skipped because CPython cannot build them:\n"
        text += "\n".join(f"  {s.description}: {s.reason}" for s in resolution.skipped)
    return text


def matrix_json(resolution: Resolution) -> str:
    data = {
        "cells": [c.record() for c in resolution.cells],
        "skipped": [{"cell": s.description, "reason": s.reason} for s in resolution.skipped],
    }
    return json.dumps(data, indent=2)


def github_json(resolution: Resolution, shard: ci.Shard | None) -> str:
    return json.dumps(ci.github_matrix(resolution.cells, shard), separators=(",", ":"))


def github_shards_json(resolution: Resolution) -> str:
    return json.dumps(ci.github_shards(resolution.cells), separators=(",", ":"))
