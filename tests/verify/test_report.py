"""The report: verdicts, the table, verify.json and JUnit XML written atomically."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from cpmatrix.features import Feature
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.verify.report import Check, Expectation, VerifyReport


def report(*statuses: str) -> VerifyReport:
    checks = tuple(
        Check(
            name=f"check {i}",
            group="g",
            expected="1",
            observed="0" if s == "fail" else "1",
            status=s,
            detail=f"detail {i}",  # type: ignore[arg-type]
        )
        for i, s in enumerate(statuses)
    )
    return VerifyReport(
        target="python3.13",
        expectation=Expectation(features=frozenset({Feature.JIT})),
        checks=checks,
    )


def test_a_report_passes_only_without_failures_and_lists_inconclusive_ones() -> None:
    assert report("pass", "skip", "inconclusive").passed
    assert [c.name for c in report("pass", "inconclusive").inconclusive] == ["check 1"]
    failing = report("pass", "fail")
    assert not failing.passed
    assert failing.summary().startswith("FAILED: python3.13 as jit")
    assert "failed: check 1" in failing.summary()


def test_the_table_shows_check_expected_observed_result() -> None:
    table, _, failures = report("pass", "fail").table().partition("\n\n")
    lines = table.splitlines()
    assert lines[0].split() == ["check", "expected", "observed", "result"]
    assert lines[-1].split()[-1] == "FAIL"
    assert failures.splitlines()[0] == "FAIL check 1"


def test_write_produces_verify_json_and_junit(tmp_path: Path) -> None:
    paths = CellPaths.of("cpython-3.13.5-jit-linux-x86_64", tmp_path)
    report("pass", "fail", "skip").write(paths)
    data = json.loads(paths.verify_report.read_text())
    assert data["passed"] is False
    assert [c["status"] for c in data["checks"]] == ["pass", "fail", "skip"]
    suite = ET.parse(paths.junit).getroot()
    assert suite.get("tests") == "3" and suite.get("failures") == "1"
    left = sorted(p.name for p in paths.dir.iterdir())
    assert left == sorted([paths.verify_report.name, paths.junit.name])  # no temporary files


def test_write_also_takes_the_two_paths(tmp_path: Path) -> None:
    report("pass").write(tmp_path / "v.json", tmp_path / "v.xml")
    assert json.loads((tmp_path / "v.json").read_text())["passed"] is True
    assert ET.parse(tmp_path / "v.xml").getroot().get("tests") == "1"
