"""Re-record the real benchmark output the bench tests parse: tests/data/bench/.

Runs Debian unstable's python3.14 with PYTHON_JIT=0 and =1 and python3.15 (in the Debian sid
image that ``invoke bench --preset debian-jit`` uses) through cpmatrix's own runner with tiny
pyperf settings, and keeps, per column, the pyperf JSON, the interpreter probe and the raw
``-X importtime`` stderr. Needs a Docker engine; takes about three minutes.

usage: python3 scripts/record_bench_data.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from cpmatrix.bench import suites  # noqa: E402
from cpmatrix.bench.columns import PRESETS, Column  # noqa: E402
from cpmatrix.bench.places import python_path, target_for  # noqa: E402
from cpmatrix.bench.runner import run_columns  # noqa: E402
from cpmatrix.bench.suites import DEFAULT_SUITES, FAST  # noqa: E402
from cpmatrix.verify.runner import open_place  # noqa: E402

DATA = PROJECT / "tests" / "data" / "bench"
RECORD = replace(
    FAST, name="record", processes=3, values=3, import_repeat=3, scaling_iterations=200_000
)


def record_column(column: Column, work: Path) -> None:
    (result,) = run_columns([column], DEFAULT_SUITES, RECORD, work, max_workers=2)
    shutil.copy(result.results, DATA / f"{column.slug}.json")
    (DATA / f"{column.slug}.about.json").write_text(json.dumps(result.about, indent=2) + "\n")
    with open_place(target_for(column)) as place:
        raw = f"{place.scratch}/importtime.json"
        two = replace(RECORD, import_repeat=2)
        command = suites.importtime_command(column.interpreter, raw, two)
        env = {"PYTHONPATH": python_path(), **dict(column.env)}
        outcome = place.run(command, env=env, timeout=300)
        data = place.read(raw)
        if outcome.exit_code != 0 or data is None:
            raise SystemExit(f"importtime failed for {column.name}:\n{outcome.output}")
    (DATA / f"{column.slug}.importtime.json").write_bytes(data)


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    jit_off, jit_on, py315_off, _ = PRESETS["debian-jit"]
    with tempfile.TemporaryDirectory() as work:
        for column in (jit_off, jit_on, py315_off):
            record_column(column, Path(work))
    print(f"recorded into {DATA}")


if __name__ == "__main__":
    main()
