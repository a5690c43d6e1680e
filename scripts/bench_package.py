"""Sizes and packaging time of built cells: the portable artifacts' targets, measured.

    python3 scripts/bench_package.py [--python 3.13] [--variants default,freethreaded,jit]

For each built cell under build/ (``invoke build … --no-verify`` builds one), stages its archives
the way publishing does (the portability gate, ``.tar.gz``, ``.tar.zst``, ``-tests.tar.gz``,
``-dbgsym.tar.gz``) and prints each file's size and the time it all took, next to the targets
from the issue: every stripped 3.13 Linux archive at most 30 MB as .tar.gz
(python-build-standalone's stripped 3.13: 35 MB) and packaging in at most 10 s. A benchmark,
not a test: nothing fails on a slow run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpmatrix.artifacts import stage  # noqa: E402
from cpmatrix.matrix import matrixfile  # noqa: E402
from cpmatrix.matrix.layout import CellPaths  # noqa: E402

TARGET_MB, TARGET_SECONDS = 30.0, 10.0


def tree_mb(root: Path) -> float:
    return (
        sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6
    )


def measure(python: str, variant: str) -> None:
    cell = matrixfile.load().cell(python=python, variant=variant)
    paths = CellPaths.of(cell.id)
    if not paths.install.is_dir():
        print(f"{cell.id}: not built (invoke build --python={python} --variant={variant})")
        return
    started = time.perf_counter()
    staged = stage.stage(cell, paths)
    seconds = time.perf_counter() - started
    size = staged.archive.written.size / 1e6
    files = ", ".join(f"{f.path.name} {f.written.size / 1e6:.1f} MB" for f in staged.files)
    verdict = "ok" if size <= TARGET_MB and seconds <= TARGET_SECONDS else "over target"
    print(
        f"{cell.id}: tree {tree_mb(paths.install):.1f} MB; {files}; staged in {seconds:.1f} s "
        f"(load average {os.getloadavg()[0]:.1f}) [{verdict}: .tar.gz <= {TARGET_MB:.0f} MB, "
        f"<= {TARGET_SECONDS:.0f} s]"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="3.13")
    parser.add_argument("--variants", default="default,freethreaded,jit")
    args = parser.parse_args()
    for variant in args.variants.split(","):
        measure(args.python, variant)
    return 0


if __name__ == "__main__":
    sys.exit(main())
