"""Runs ``python -X importtime -c "import MODULE"`` REPEAT times per module and writes every
run's stderr, untouched, to a JSON file; the host parses it.

usage: importtime.py OUTPUT REPEAT MODULE...
"""

from __future__ import annotations

import json
import subprocess
import sys


def main(argv: list[str]) -> None:
    output, repeat, modules = argv[0], int(argv[1]), argv[2:]
    runs: dict[str, list[str]] = {module: [] for module in modules}
    for _ in range(repeat):
        for module in modules:
            completed = subprocess.run(
                [sys.executable, "-X", "importtime", "-c", f"import {module}"],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[module].append(completed.stderr)
    with open(output, "w", encoding="utf-8") as stream:  # noqa: PTH123 (runs on any 3.x)
        json.dump(runs, stream)


if __name__ == "__main__":
    main(sys.argv[1:])
