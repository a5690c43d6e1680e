"""Measure the free-threading behaviour check's speed-up on real builds, to choose thresholds.

    python scripts/measure_thread_speedup.py [--runs 5] INTERPRETER...

Runs the probe's ``threads`` section (best of 3 rounds: serial vs threaded CPU-bound work on 2
threads, and the same work in 2 processes, the machine's capacity right now) several times per
interpreter, where it runs (the builder image for trixie builds), and prints the speed-ups, the
capacities and the CPU seconds per wall second of the threaded phase that the checks judge.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cpmatrix.verify.observe import Prober
from cpmatrix.verify.runner import local_target, open_place


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("interpreters", nargs="+", type=Path)
    args = parser.parse_args()
    for interpreter in args.interpreters:
        target = local_target(interpreter)
        with open_place(target) as place:
            prober = Prober(place, target)
            speedups, capacities, parallelism = [], [], []
            for _ in range(args.runs):
                found = prober.section("threads", "2")
                speedups.append(float(found["speedup"]))
                capacities.append(float(found["capacity"]))
                parallelism.append(float(found["parallelism"]))
        for label, values in (
            ("thread speed-up", speedups),
            ("process capacity", capacities),
            ("threaded CPU s per wall s", parallelism),
        ):
            shown = ", ".join(f"{s:.2f}" for s in values)
            print(
                f"{interpreter} {label}: {shown}  (min {min(values):.2f}, median "
                f"{statistics.median(values):.2f}, max {max(values):.2f})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
