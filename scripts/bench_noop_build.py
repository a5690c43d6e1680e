"""How long a no-op ``invoke build`` takes when the cell's verified artifact is cached.

    python3 scripts/bench_noop_build.py [--python 3.13] [--variant default] [--repeat 5]

The cell must already be packaged in dist/ (one ``invoke build …`` does it). Prints the wall
time of each whole ``invoke build`` (process start included), their median, and what the
cache check itself costs in-process: resolving the content key and finding the artifact.
The target is about a second; this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpmatrix import artifacts, builders  # noqa: E402
from cpmatrix.matrix import matrixfile  # noqa: E402
from cpmatrix.sources import prepare  # noqa: E402


def timed_build(argv: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"invoke build failed (exit {done.returncode}):\n{done.stderr}")
    return seconds, done.stderr + done.stdout


def in_process(python: str, variant: str, platform: str) -> dict[str, float]:
    cell = matrixfile.load().cell(python=python, variant=variant, platform=platform)
    spent: dict[str, float] = {}
    started = time.perf_counter()
    tree = prepare(cell.python)
    spent["source (cached tree)"] = time.perf_counter() - started
    started = time.perf_counter()
    builder = builders.builder_for(cell.platform.builder)
    key = artifacts.current_key(
        cell, source=tree.record(), kind=builder.kind, identity=builder.identity()
    )
    spent["content key"] = time.perf_counter() - started
    started = time.perf_counter()
    found = artifacts.find_cached(cell, key)
    spent["find + re-hash artifact"] = time.perf_counter() - started
    if found is None:
        sys.exit(f"{cell.id} has no cached verified artifact in dist/; run invoke build once")
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="3.13")
    parser.add_argument("--variant", default="default")
    parser.add_argument("--platform", default="linux-x86_64")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    argv = [sys.executable, "-m", "invoke", "build", "--python", args.python]
    argv += ["--variant", args.variant, "--platform", args.platform]
    for name, seconds in in_process(args.python, args.variant, args.platform).items():
        print(f"  {name:<26} {seconds * 1000:8.1f} ms")
    runs = []
    for number in range(1, args.repeat + 1):
        seconds, output = timed_build(argv)
        if "cache hit" not in output:
            sys.exit(f"run {number} was not a cache hit:\n{output}")
        runs.append(seconds)
        print(f"  no-op invoke build, run {number}: {seconds:.2f} s")
    print(f"median no-op invoke build: {statistics.median(runs):.2f} s (target: about 1 s)")


if __name__ == "__main__":
    main()
