"""Sizes and packaging time of built cells: the portable artifacts' targets, measured.

    python3 scripts/bench_package.py [--python 3.13] [--variants default,freethreaded,jit]

For each built cell under build/ (``invoke build … --no-verify`` builds one), stages its archives
the way publishing does (the portability gate, ``.tar.gz``, ``.tar.zst``, ``-dbgsym.tar.gz``) and
prints each file's size and the time each took, next to the targets from the issue: every
stripped 3.13 Linux archive at most 30 MB as .tar.gz (python-build-standalone's stripped 3.13:
35 MB) and packaging in at most 10 s. A benchmark, not a test: nothing fails on a slow run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpmatrix import matrixfile  # noqa: E402
from cpmatrix.artifacts import stage, validate  # noqa: E402
from cpmatrix.artifacts.archive import source_date_epoch, write_tar_gz  # noqa: E402
from cpmatrix.layout import CellPaths  # noqa: E402

TARGET_MB, TARGET_SECONDS = 30.0, 10.0


def tree_mb(root: Path) -> float:
    return (
        sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6
    )


def measure(python: str, variant: str, scratch: Path) -> None:
    cell = matrixfile.load().cell(python=python, variant=variant)
    paths = CellPaths.of(cell.id)
    if not paths.install.is_dir():
        print(f"{cell.id}: not built (invoke build --python={python} --variant={variant})")
        return
    started = time.perf_counter()
    validate.check_tree(paths.install, glibc_floor=cell.platform.glibc_floor or "9.99")
    gate = time.perf_counter() - started
    started = time.perf_counter()
    gz = scratch / stage.gz_name(cell.id)
    size = write_tar_gz(paths.install, gz, top=cell.id).size / 1e6
    gz_seconds = time.perf_counter() - started
    started = time.perf_counter()
    zst = stage.write_tar_zst(
        paths.install, scratch / stage.zst_name(cell.id), top=cell.id, mtime=source_date_epoch()
    )
    zst_seconds = time.perf_counter() - started
    debug = tree_mb(paths.dbgsym) if paths.dbgsym.is_dir() else 0.0
    total = gate + gz_seconds + zst_seconds
    verdict = "ok" if size <= TARGET_MB and total <= TARGET_SECONDS else "over target"
    print(
        f"{cell.id}: tree {tree_mb(paths.install):.1f} MB, .tar.gz {size:.1f} MB "
        f"({gz_seconds:.1f} s), .tar.zst {zst.size / 1e6:.1f} MB ({zst_seconds:.1f} s), "
        f"gate {gate:.1f} s, debug info {debug:.1f} MB; packaging {total:.1f} s "
        f"[{verdict}: <= {TARGET_MB:.0f} MB, <= {TARGET_SECONDS:.0f} s]"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="3.13")
    parser.add_argument("--variants", default="default,freethreaded,jit")
    args = parser.parse_args()
    scratch = ROOT / "build" / "bench-package"
    scratch.mkdir(parents=True, exist_ok=True)
    for variant in args.variants.split(","):
        measure(args.python, variant, scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
