"""Import times from ``python -X importtime -c "import MODULE"`` stderr, as pyperf benchmarks.

Each line reads ``import time: <self us> | <cumulative us> | <indent><module>``; the indent
(two spaces per level) says who imported whom. A module's import cost is the cumulative time on
its top-level line (the import during startup, when ``site`` already imported it). Modules
set up before ``-X importtime`` starts reporting (``sys``, ``builtins``) have no line at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyperf

from cpmatrix.util.errors import CpmatrixError

MODULES: tuple[str, ...] = (
    "string",
    "re",
    "subprocess",
    "tomllib",
    "threading",
    "typing",
    "asyncio",
)
"""Modules whose import cost CPython has worked on in recent releases."""

TAG = "startup"
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)\s*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportLine:
    self_us: int
    cumulative_us: int
    depth: int
    module: str


class ImportTimeError(CpmatrixError):
    """The -X importtime output could not be understood."""


def parse_lines(stderr: str) -> list[ImportLine]:
    """Every ``import time:`` line of one run (the header and other output are skipped)."""
    lines = []
    for text in stderr.splitlines():
        match = _LINE.match(text)
        if match is not None:
            self_us, cumulative_us, indent, module = match.groups()
            lines.append(
                ImportLine(
                    self_us=int(self_us),
                    cumulative_us=int(cumulative_us),
                    depth=len(indent) // 2,
                    module=module,
                )
            )
    return lines


def cumulative_seconds(stderr: str, module: str) -> float | None:
    """The cumulative import time of module as imported at the top level, or None when the
    run shows no line for it."""
    if "import time:" not in stderr:
        raise ImportTimeError(
            f"no `import time:` lines in the output of importing {module}",
            hint="the interpreter must support -X importtime (3.7+); its output was:\n"
            + stderr[-2000:],
        )
    found = [line for line in parse_lines(stderr) if line.depth == 0 and line.module == module]
    return found[-1].cumulative_us / 1e6 if found else None


def benchmarks(runs: Mapping[str, Sequence[str]]) -> tuple[list[Any], list[str]]:
    """pyperf benchmarks named ``import-<module>`` from each module's runs, and the modules
    without an import line (no benchmark for them)."""
    made: list[Any] = []
    unmeasured: list[str] = []
    for module, outputs in runs.items():
        values = [cumulative_seconds(stderr, module) for stderr in outputs]
        measured = [value for value in values if value is not None and value > 0]
        if not measured:
            unmeasured.append(module)
            continue
        metadata = {
            "name": f"import-{module}",
            "unit": "second",
            "loops": 1,
            "tags": [TAG],
            "description": f"cumulative -X importtime of `import {module}`",
        }
        run = pyperf.Run(measured, metadata=metadata, collect_metadata=False)
        made.append(pyperf.Benchmark([run]))
    return made, unmeasured
