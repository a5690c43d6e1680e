"""Results of verification as values: each check, the expectation, the report and its files."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from cpmatrix import features as fx
from cpmatrix.features import OS, Feature, Profile, Version
from cpmatrix.matrix import Cell
from cpmatrix.util import console, treedigest
from cpmatrix.util.fileio import write_text_atomic
from cpmatrix.verify import hints

Status = Literal["pass", "fail", "skip", "inconclusive"]
SCHEMA = 1
TABLE_WIDTH = 100
NAME_WIDTH = 44
DETAIL_LINES = 6
_GAP = "  "


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One claim tested: what was expected, what was seen, and the verdict."""

    name: str
    group: str
    expected: str
    observed: str
    status: Status
    detail: str = ""

    def record(self) -> dict[str, str]:
        return {
            "name": self.name,
            "group": self.group,
            "expected": self.expected,
            "observed": self.observed,
            "status": self.status,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectation:
    """What an interpreter claims to be: its features, and its version and build profile when
    known (a cell's; an interpreter cpmatrix did not build claims no profile)."""

    features: frozenset[Feature]
    python: Version | None = None
    profile: Profile | None = None
    os: OS = "linux"

    @classmethod
    def of_cell(cls, cell: Cell) -> Expectation:
        return cls(
            features=cell.features,
            python=cell.version,
            profile=cell.profile,
            os=cell.platform.os,
        )

    @property
    def name(self) -> str:
        return fx.variant_name(self.features)

    def record(self) -> dict[str, Any]:
        return {
            "variant": self.name,
            "features": [str(f) for f in fx.canonical_order(self.features)],
            "python": None if self.python is None else str(self.python),
            "profile": self.profile,
            "os": self.os,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyReport:
    target: str
    expectation: Expectation
    checks: tuple[Check, ...]
    seconds: float = 0.0
    observation: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """No check failed. Inconclusive checks do not fail a report but are listed."""
        return not self.failed

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "fail")

    @property
    def inconclusive(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "inconclusive")

    def summary(self) -> str:
        counts = {s: sum(c.status == s for c in self.checks) for s in _STATUSES}
        verdict = "PASSED" if self.passed else "FAILED"
        parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        line = f"{verdict}: {self.target} as {self.expectation.name} ({parts})"
        if self.failed:
            line += "; failed: " + ", ".join(c.name for c in self.failed)
        if self.inconclusive:
            line += "; inconclusive: " + ", ".join(c.name for c in self.inconclusive)
        return line

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "target": self.target,
            "expectation": self.expectation.record(),
            "passed": self.passed,
            "seconds": round(self.seconds, 1),
            "checks": [c.record() for c in self.checks],
            "observation": self.observation,
        }

    def table(self, width: int = TABLE_WIDTH) -> str:
        """The checks in ``width`` columns (texts clipped), then a few lines per failed check
        with its whole expectation, observation, detail and what is missing; verify.json has
        everything."""
        results = [c.status.upper() for c in self.checks]
        room = width - max(len("result"), *map(len, results)) - 3 * len(_GAP)
        name_width = min(NAME_WIDTH, max(len(c.name) for c in self.checks) if self.checks else 0)
        expected_width, observed_width = _split(
            room - name_width,
            max((len(c.expected) for c in self.checks), default=0),
            max((len(c.observed) for c in self.checks), default=0),
        )
        rows = [
            [
                _clip(c.name, name_width),
                _clip(c.expected, expected_width),
                _clip(c.observed, observed_width),
                result,
            ]
            for c, result in zip(self.checks, results, strict=True)
        ]
        table = console.table(["check", "expected", "observed", "result"], rows)
        failures = [self._failure_lines(c, width) for c in self.checks if c.status == "fail"]
        return "\n\n".join([table, *failures])

    def _failure_lines(self, check: Check, width: int) -> str:
        version = self.expectation.python or _observed_version(self.observation)
        missing = hints.missing_piece(f"{check.observed}\n{check.detail}", version)
        parts = [("expected", check.expected), ("observed", check.observed)]
        parts += [("detail", check.detail), ("missing", missing or "")]
        lines = [f"FAIL {check.name}"]
        for label, text in parts:
            wrapped = textwrap.wrap(" ".join(text.split()), width - 12)
            if len(wrapped) > DETAIL_LINES:
                wrapped = [*wrapped[:DETAIL_LINES], "… (the whole text is in verify.json)"]
            lines += [f"  {label if i == 0 else '':<9} {line}" for i, line in enumerate(wrapped)]
        return "\n".join(lines)

    def junit(self) -> str:
        suite = ET.Element(
            "testsuite",
            name=f"cpmatrix-verify {self.target} as {self.expectation.name}",
            tests=str(len(self.checks)),
            failures=str(len(self.failed)),
            skipped=str(sum(c.status in ("skip", "inconclusive") for c in self.checks)),
            time=f"{self.seconds:.1f}",
        )
        for check in self.checks:
            case = ET.SubElement(suite, "testcase", classname=check.group, name=check.name)
            message = f"expected {check.expected}; observed {check.observed}"
            if check.status == "fail":
                ET.SubElement(case, "failure", message=message).text = check.detail
            elif check.status in ("skip", "inconclusive"):
                ET.SubElement(case, "skipped", message=f"{check.status}: {check.detail}")
        return ET.tostring(suite, encoding="unicode")

    def write(self, paths: ReportPaths | Path, junit: Path | None = None) -> None:
        """verify.json and the JUnit XML, each written atomically: ``write(cell_paths)`` or
        ``write(json_path, junit_path)``."""
        if isinstance(paths, Path):
            json_path, junit_path = paths, junit or paths.with_suffix(".junit.xml")
        else:
            json_path, junit_path = paths.verify_report, paths.junit
        data = {**self.to_json(), **installed_tree(paths)}
        text = json.dumps(data, indent=2, default=str) + "\n"
        write_text_atomic(json_path, text)
        write_text_atomic(
            junit_path, '<?xml version="1.0" encoding="utf-8"?>\n' + self.junit() + "\n"
        )


def installed_tree(paths: object) -> dict[str, str]:
    """``install_sha256``: the digest of the built cell's install tree that was verified, so
    packaging can refuse a tree changed since (nothing for an interpreter outside a cell)."""
    install = getattr(paths, "install", None)
    if isinstance(install, Path) and install.is_dir():
        return {"install_sha256": treedigest.digest(install)}
    return {}


class ReportPaths(Protocol):
    """Where a report goes (``layout.CellPaths`` is one)."""

    @property
    def verify_report(self) -> Path: ...

    @property
    def junit(self) -> Path: ...


_STATUSES: tuple[Status, ...] = ("pass", "fail", "inconclusive", "skip")


def _split(room: int, expected: int, observed: int) -> tuple[int, int]:
    """Share ``room`` between the expected and observed columns; neither takes more than it
    needs, and what one leaves goes to the other."""
    half = room // 2
    if expected <= half:
        return expected, min(observed, room - expected)
    if observed <= half:
        return min(expected, room - observed), observed
    return half, room - half


def _observed_version(observation: dict[str, Any]) -> Version | None:
    facts = observation.get("facts")
    text = facts.get("version") if isinstance(facts, dict) else None
    try:
        return Version.parse(str(text)) if text else None
    except ValueError:
        return None


def _clip(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(0, width - 1)] + "…"
