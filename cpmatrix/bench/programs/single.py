"""Single-thread suite: run by the interpreter under test with pyperf on its path."""

from __future__ import annotations

import json

import cpmatrix_bench_work as work
import pyperf  # type: ignore[import-not-found,unused-ignore]


def main() -> None:
    runner = pyperf.Runner(metadata={"tags": ["single-thread"]})
    document = work.json_document()
    text = json.dumps(document)
    runner.bench_func("nbody", work.nbody, 2_000)
    runner.bench_func("richards", work.richards, 4_000)
    runner.bench_func("float", work.floats, 20_000)
    runner.bench_func("json-dumps", work.json_dumps, document)
    runner.bench_func("json-loads", work.json_loads, text, inner_loops=1)
    runner.bench_func("generators", work.generators, 50_000)
    runner.bench_func("unpack-sequence", work.unpack_sequence, 20_000)


if __name__ == "__main__":
    main()
