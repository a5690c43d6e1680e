#!/usr/bin/env python3
"""How much does `invoke build` cost over doing it by hand, and what does a warm ccache save?

One run, three real builds of one cell (default: CPython 3.13 default, linux-x86_64):

1. by hand: the same configure / make / install, typed as a person would, in a container of
   the same builder image, with an empty ccache;
2. `invoke build --force` with an empty ccache (a fresh cache dir; the source cache is shared);
3. `invoke build --force` again: ccache is now warm.

Reports overhead = (2) / (1) and warm = (3) / (2) as ratios, and writes them as JSON. It also
reports the tool's own time (wall time minus the configure/make/install phases it records in
build.json: image and source checks, container start, preflight, version queries, promotion),
which other load on the machine hardly disturbs, unlike the ratio of two separate builds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpmatrix import sources  # noqa: E402
from cpmatrix.builders import base  # noqa: E402
from cpmatrix.engine.image import builder_image  # noqa: E402
from cpmatrix.matrix import layout, matrixfile  # noqa: E402


def by_hand(cell_variant: str, python: str, jobs: int, scratch: Path) -> float:
    """configure/make/install in the builder image, as a person would type it."""
    model = matrixfile.load()
    cell = model.cell(python=python, variant=cell_variant, platform="linux-x86_64")
    tree = sources.prepare(cell.python)
    steps = base.commands(cell, source_dir="/src", destdir="/b/stage", jobs=jobs)
    script = " && ".join(
        [
            "cd /b/work",
            base.shell_line(steps.configure, dict(steps.configure_env)),
            base.shell_line(steps.make),
            base.shell_line(steps.install),
        ]
    )
    for name in ("work", "stage", "ccache"):
        (scratch / name).mkdir(parents=True)
    command = [
        "docker", "run", "--rm", "--network", "none", "--user", f"{os.getuid()}:{os.getgid()}",
        "-e", "HOME=/home/build", "-e", "CCACHE_DIR=/b/ccache",
        "-e", "PATH=/usr/lib/ccache:/usr/local/bin:/usr/bin:/bin",
        "-v", f"{tree.path}:/src:ro", "-v", f"{scratch}:/b",
        builder_image().tag, "sh", "-c", script,
    ]  # fmt: skip
    started = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def with_tool(
    variant: str, python: str, jobs: int, cache: Path, build_dir: Path
) -> tuple[float, float]:
    """Wall time of `invoke build`, and the part of it spent in CPython's own three steps."""
    env = {**os.environ, "CPMATRIX_CACHE": str(cache), "CPMATRIX_BUILD_DIR": str(build_dir)}
    command = [
        sys.executable, "-m", "invoke", "build", f"--variant={variant}", f"--python={python}",
        f"--jobs={jobs}", "--force", "--no-verify",
    ]  # fmt: skip
    started = time.monotonic()
    subprocess.run(command, check=True, cwd=ROOT, env=env, capture_output=True)
    total = time.monotonic() - started
    (record,) = build_dir.glob("*/build.json")
    phases = json.loads(record.read_text())["phases"]
    return total, sum(phases[name] for name in ("configure", "compile", "install"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="3.13")
    parser.add_argument("--variant", default="default")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--output", type=Path, default=layout.build_root() / "bench-build.json")
    args = parser.parse_args()

    builder_image()
    with tempfile.TemporaryDirectory(prefix="cpmatrix-bench-build-") as scratch_dir:
        scratch = Path(scratch_dir)
        cache = scratch / "cache"
        cache.mkdir()
        (cache / "sources").symlink_to(layout.cache_dir() / "sources")
        hand = by_hand(args.variant, args.python, args.jobs, scratch / "hand")
        print(f"by hand (cold ccache):          {hand:7.1f} s", flush=True)
        cold, cold_steps = with_tool(args.variant, args.python, args.jobs, cache, scratch / "b")
        print(f"invoke build (cold ccache):     {cold:7.1f} s", flush=True)
        warm, warm_steps = with_tool(args.variant, args.python, args.jobs, cache, scratch / "b")
        print(f"invoke build (warm ccache):     {warm:7.1f} s", flush=True)
    result = {
        "cell": f"{args.python} {args.variant} linux-x86_64 release",
        "jobs": args.jobs,
        "seconds": {
            "by_hand": round(hand, 1),
            "tool_cold": round(cold, 1),
            "tool_warm": round(warm, 1),
        },
        "overhead_ratio": round(cold / hand, 3),
        "own_overhead_seconds": {
            "cold": round(cold - cold_steps, 1),
            "warm": round(warm - warm_steps, 1),
        },
        "own_overhead_fraction": round((cold - cold_steps) / cold, 3),
        "warm_ccache_ratio": round(warm / cold, 3),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"overhead (tool / by hand):      {result['overhead_ratio']:.3f}")
    print(
        f"time outside configure/make/install (cold, warm): "
        f"{cold - cold_steps:.1f} s, {warm - warm_steps:.1f} s "
        f"({result['own_overhead_fraction']:.1%} of the cold build)"
    )
    print(f"warm ccache (warm / cold):      {result['warm_ccache_ratio']:.3f}")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
