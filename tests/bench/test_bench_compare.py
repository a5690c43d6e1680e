"""The comparison on real pyperf output recorded from Debian's python3.14 with PYTHON_JIT=0 and
=1 and python3.15 (tests/data/bench/, re-recorded by scripts/record_bench_data.py): every cell
must read exactly as pyperf's own `compare_to --table` prints it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cpmatrix.bench import compare
from cpmatrix.bench.compare import SuiteTable, table_rows
from cpmatrix.util.errors import UsageError

DATA = Path(__file__).parents[1] / "data" / "bench"
BASE, JIT, NEXT = "3.14_JIT_off", "3.14_JIT_on", "3.15_JIT_off"


def loaded(*names: str) -> dict[str, object]:
    return {name: compare.load(DATA / f"{name}.json") for name in names}


def compare_to_tables(base: str, other: str) -> dict[str, dict[str, list[str]]]:
    """pyperf compare_to's markdown tables, per tag: benchmark → cells; the benchmarks it hides
    as not significant are listed under the key "(hidden)"."""
    output = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to", "--table", "--table-format", "md",
         str(DATA / f"{base}.json"), str(DATA / f"{other}.json")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    tables: dict[str, dict[str, list[str]]] = {}
    tag = ""
    for line in output.splitlines():
        heading = re.match(r"Benchmarks with tag '(.+)':", line)
        hidden = re.match(r"Benchmark hidden because not significant \(\d+\): (.+)", line)
        if heading:
            tag = heading.group(1)
            tables[tag] = {}
        elif line.startswith("All benchmarks:"):
            tag = "all"
            tables[tag] = {}
        elif hidden and tag:
            tables[tag]["(hidden)"] = hidden.group(1).split(", ")
        elif line.startswith("|") and not line.startswith("|--") and tag:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if cells[0] != "Benchmark":
                tables[tag][cells[0]] = cells[1:]
    return tables


def by_tag(tables: list[SuiteTable]) -> dict[str, SuiteTable]:
    return {table.tag: table for table in tables}


@pytest.mark.parametrize("other", [JIT, NEXT])
def test_each_cell_reads_as_pyperf_compare_to_prints_it(other: str) -> None:
    ours = by_tag(compare.compare(loaded(BASE, other), BASE))
    theirs = compare_to_tables(BASE, other)
    assert set(ours) == {"single-thread", "scaling", "startup"}
    assert set(ours) <= set(theirs)
    matched = 0
    for tag, table in ours.items():
        headers, rows = table_rows(table)
        assert headers == ["Benchmark", BASE, other]
        printed = theirs[tag]
        for benchmark, baseline_text, cell in rows:
            if cell == "not significant":
                assert benchmark in printed["(hidden)"]
            elif benchmark == "Geometric mean" and benchmark not in printed:
                assert "(hidden)" in printed and len(printed) == 1  # no table, no mean
            else:
                assert printed[benchmark] == [baseline_text, cell]
                matched += 1
    assert matched >= 1  # real differences (JIT on, a newer CPython) are among the recordings


def test_ratio_and_significance_are_pyperfs() -> None:
    suites = loaded(BASE, JIT)
    (single,) = [t for t in compare.compare(suites, BASE) if t.tag == "single-thread"]
    row = next(r for r in single.rows if r.benchmark == "nbody")
    versus = row.versus[JIT]
    assert versus is not None
    base = suites[BASE].get_benchmark("nbody")  # type: ignore[attr-defined]
    jit = suites[JIT].get_benchmark("nbody")  # type: ignore[attr-defined]
    assert versus.ratio == pytest.approx(jit.mean() / base.mean())
    assert row.baseline_mean == pytest.approx(base.mean())
    assert versus.text in {"not significant", f"{1 / versus.ratio:.2f}x faster",
                           f"{versus.ratio:.2f}x slower"}  # fmt: skip


def test_three_columns_each_against_the_baseline_with_geometric_means() -> None:
    tables = by_tag(compare.compare(loaded(BASE, JIT, NEXT), BASE))
    single = tables["single-thread"]
    assert single.columns == (JIT, NEXT)
    _, rows = table_rows(single)
    assert rows[-1][:2] == ["Geometric mean", "(ref)"]
    for column in (JIT, NEXT):
        theirs = compare_to_tables(BASE, column)["single-thread"].get("Geometric mean")
        if theirs is not None:
            assert theirs[1] == single.geometric_text(column)
        ratios = [row.versus[column].ratio for row in single.rows]  # type: ignore[union-attr]
        product = 1.0
        for ratio in ratios:
            product *= ratio
        assert single.geometric_means[column] == pytest.approx(product ** (1 / len(ratios)))


def test_a_benchmark_one_column_lacks_is_shown_as_absent() -> None:
    """3.13 has no InterpreterPoolExecutor: its scaling suite has no interpreters rows."""
    import pyperf

    suites = loaded(BASE, NEXT)
    kept = [
        bench
        for bench in suites[NEXT]  # type: ignore[attr-defined]
        if not bench.get_name().startswith("scaling-interpreters")
    ]
    suites[NEXT] = pyperf.BenchmarkSuite(kept)
    scaling = by_tag(compare.compare(suites, BASE))["scaling"]
    _, rows = table_rows(scaling)
    absent = {row[0] for row in rows if row[2] == "—"}
    assert absent == {"scaling-interpreters-1", "scaling-interpreters-2"}


def test_an_unknown_baseline_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no column named"):
        compare.compare(loaded(BASE), "default")
