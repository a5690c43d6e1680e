"""Run the free-threading witness many times on real interpreters, quiet or saturated.

    python scripts/measure_witness.py [--runs 20] [--busy N] [--env PYTHON_GIL=1] INTERPRETER...

Each run starts the interpreter once with the probe's behaviour script (``witness``) and judges
the outcome as the verifier does, claimed as freethreaded. ``--busy N`` keeps N CPU-bound
processes running meanwhile (0: quiet). Prints, per interpreter, the outcomes, the verdicts and
the witness's wall and CPU seconds (information: no verdict reads them).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpmatrix.verify import behaviour  # noqa: E402
from cpmatrix.verify.checks import threads_check  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from loadkit import saturated  # noqa: E402


def one_run(interpreter: Path, script: Path, env: dict[str, str]) -> dict[str, object]:
    argv = [str(interpreter), "-s", str(script), "witness"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env, check=True)
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes meanwhile")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("interpreters", nargs="+", type=Path)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(item.split("=", 1) for item in args.env)
    with tempfile.TemporaryDirectory() as scratch, saturated(args.busy) as busy:
        script = Path(scratch) / "behaviour.py"
        script.write_text(behaviour.source(), encoding="utf-8")
        print(f"{args.runs} runs each, {busy} busy processes, load {os.getloadavg()[0]:.1f}")
        for interpreter in args.interpreters:
            runs = [one_run(interpreter, script, env) for _ in range(args.runs)]
            outcomes = Counter(str(run["outcome"]) for run in runs)
            verdicts = Counter(threads_check({"witness": run}, True).status for run in runs)
            for label, key in (("wall s", "seconds"), ("CPU s", "cpu_seconds")):
                values = [float(str(run[key])) for run in runs]
                print(
                    f"{interpreter} {label}: min {min(values):.3f}, median "
                    f"{statistics.median(values):.3f}, max {max(values):.3f}"
                )
            waits = [max(map(float, run["longest_wait_cpu"])) for run in runs]  # type: ignore[call-overload]
            print(f"{interpreter} longest wait for the other thread: {max(waits):.4f} CPU s")
            print(f"{interpreter} outcomes {dict(outcomes)}; as freethreaded {dict(verdicts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
