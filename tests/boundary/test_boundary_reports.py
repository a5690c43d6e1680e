"""Class 8 of issue 21: names are escaped for each format they enter (Markdown, the chart),
and a chart that cannot be drawn never loses what was measured."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from bench.test_bench_report import recorded_results

from cpmatrix.bench import Request, finish
from cpmatrix.bench.suites import FAST, Suite
from cpmatrix.util import console

HOSTILE = ("<img src=x onerror=alert(1)>", "left|right", "$\\alpha^{$")


def test_markdown_cells_are_escaped() -> None:
    table = console.markdown_table(["a|b", "<b>"], [["x|y", "<script>&"], ["a\nb", "`c`"]])
    assert "<" not in table and "<script>" not in table
    for line in table.splitlines():
        assert line.replace("\\|", "").count("|") == 3, line


@pytest.mark.parametrize("hostile", HOSTILE, ids=["html", "pipe", "mathtext"])
def test_hostile_column_names_are_escaped_and_lose_nothing(tmp_path: Path, hostile: str) -> None:
    results = list(recorded_results(tmp_path))
    renamed = dataclasses.replace(results[1].column, name=hostile)
    results[1] = dataclasses.replace(results[1], column=renamed)
    request = Request(
        title=f"title {hostile}",
        columns=tuple(r.column for r in results),
        suites=tuple(Suite),
        settings=FAST,
        out_dir=tmp_path,
    )
    outputs = finish(request, tuple(results), results[0].column.name, 60.0)
    text = (tmp_path / "report.md").read_text()
    assert "<img" not in text and "<script" not in text
    header = next(line for line in text.splitlines() if line.startswith("| Benchmark |"))
    assert header.replace("\\|", "").count("|") == 5, header
    assert hostile in json.loads((tmp_path / "report.json").read_text())["baseline"] + "".join(
        c["name"] for c in json.loads((tmp_path / "report.json").read_text())["columns"]
    )
    assert (tmp_path / "chart.svg").is_file() and outputs.charts
