"""Startup suite: ``python -c pass`` as pyperf measures commands. Import times are measured
separately (``importtime.py``) because they are parsed from ``-X importtime``."""

from __future__ import annotations

import sys

import pyperf  # type: ignore[import-not-found,unused-ignore]


def main() -> None:
    runner = pyperf.Runner(metadata={"tags": ["startup"]})
    runner.bench_command("startup-c-pass", [sys.executable, "-c", "pass"])


if __name__ == "__main__":
    main()
