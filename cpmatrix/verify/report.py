"""Results of verification as values: each check, the expectation, the report and its files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from cpmatrix import console, treedigest
from cpmatrix import features as fx
from cpmatrix.features import OS, Feature, Profile, Version
from cpmatrix.fileio import write_text_atomic
from cpmatrix.matrix import Cell

Status = Literal["pass", "fail", "skip", "inconclusive"]
SCHEMA = 1


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
    """What an interpreter claims to be: its features, and its version when known."""

    features: frozenset[Feature]
    python: Version | None = None
    profile: Profile = fx.DEFAULT_PROFILE
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

    def table(self) -> str:
        rows = [
            [c.name, _clip(c.expected), _clip(c.observed), c.status.upper()] for c in self.checks
        ]
        return console.table(["check", "expected", "observed", "result"], rows)

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


def _clip(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
