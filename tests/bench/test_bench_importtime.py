"""Parsing `-X importtime` on real output recorded from Debian's python3.14 and python3.15
(tests/data/bench/*.importtime.json, re-recorded by scripts/record_bench_data.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cpmatrix.bench import importtime
from cpmatrix.bench.importtime import MODULES, ImportTimeError

DATA = Path(__file__).parents[1] / "data" / "bench"
RECORDINGS = ("3.14_JIT_off", "3.15_JIT_off")


def recorded(name: str) -> dict[str, list[str]]:
    runs: dict[str, list[str]] = json.loads((DATA / f"{name}.importtime.json").read_text())
    return runs


@pytest.mark.parametrize("name", RECORDINGS)
def test_every_line_of_a_real_run_parses(name: str) -> None:
    for module, outputs in recorded(name).items():
        for stderr in outputs:
            reported = [line for line in stderr.splitlines() if line.startswith("import time:")]
            lines = importtime.parse_lines(stderr)
            # everything but the header line ("self [us] | cumulative | imported package")
            assert len(lines) == len(reported) - 1
            assert all(line.cumulative_us >= line.self_us for line in lines)
            top = [line for line in lines if line.depth == 0]
            assert {"site", module} <= {line.module for line in top}


@pytest.mark.parametrize("name", RECORDINGS)
def test_cumulative_time_is_the_modules_top_level_line(name: str) -> None:
    """importtime prints a module after its imports (post-order): the module's cumulative time
    is its own time plus its direct children's cumulative times, to the microsecond rounding."""
    runs = recorded(name)
    assert set(runs) == set(MODULES)
    for module, outputs in runs.items():
        for stderr in outputs:
            lines = importtime.parse_lines(stderr)
            at = max(i for i, line in enumerate(lines) if line.depth == 0 and line.module == module)
            assert importtime.cumulative_seconds(stderr, module) == lines[at].cumulative_us / 1e6
            children = []
            for line in reversed(lines[:at]):
                if line.depth == 0:
                    break
                if line.depth == 1:
                    children.append(line)
            total = lines[at].self_us + sum(child.cumulative_us for child in children)
            assert abs(total - lines[at].cumulative_us) <= len(children) + 1
    asyncio = importtime.parse_lines(runs["asyncio"][0])
    assert any(line.module == "asyncio.events" and line.depth >= 1 for line in asyncio)


def test_a_module_without_an_import_line_has_no_benchmark() -> None:
    stderr = recorded("3.14_JIT_off")["string"][0]
    assert importtime.cumulative_seconds(stderr, "sys") is None  # set up before importtime
    encodings = importtime.cumulative_seconds(stderr, "encodings")  # imported during startup
    assert encodings is not None and encodings > 0
    benchmarks, unmeasured = importtime.benchmarks(
        {"string": recorded("3.14_JIT_off")["string"], "sys": [stderr, stderr]}
    )
    assert unmeasured == ["sys"]
    (bench,) = benchmarks
    assert bench.get_name() == "import-string"
    assert bench.get_unit() == "second"
    assert bench.get_metadata()["tags"] == ["startup"]
    assert bench.get_nvalue() == len(recorded("3.14_JIT_off")["string"])


def test_output_without_importtime_lines_is_an_error_with_the_output() -> None:
    with pytest.raises(ImportTimeError) as error:
        importtime.cumulative_seconds("Unknown option: -X\n", "string")
    assert "Unknown option" in (error.value.hint or "")
