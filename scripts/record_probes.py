"""Re-record the probe observations that back tests/verify's fast tests, from real interpreters.

    python scripts/record_probes.py                 # Debian unstable's 3.14 + 3.15, and the
                                                    # 3.13.5 cells built under build/
    python scripts/record_probes.py --build-root DIR
    python scripts/record_probes.py --interpreter NAME=PATH   # any other interpreter, as NAME

Nothing in tests/data/probes is written by hand: every file is one real interpreter's answers,
stamped with the digest of each probe script that gave them (``probe_scripts``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpmatrix.engine.image import debian_image_with  # noqa: E402
from cpmatrix.features import debian  # noqa: E402
from cpmatrix.matrix import layout, matrixfile  # noqa: E402
from cpmatrix.util import console  # noqa: E402
from cpmatrix.util.fileio import write_text_atomic  # noqa: E402
from cpmatrix.verify import observe_target  # noqa: E402
from cpmatrix.verify.observe import probe_digests  # noqa: E402
from cpmatrix.verify.runner import Target, local_target  # noqa: E402

OUT = ROOT / "tests" / "data" / "probes"
CELLS = (
    ("default", "release"),
    ("freethreaded", "release"),
    ("jit", "release"),
    ("jit-off", "release"),
    ("jit-interpreter", "release"),
    ("default", "optimized"),
)


def targets(build_root: Path) -> dict[str, Target]:
    image = debian_image_with(debian.UNSTABLE_SUITE, debian.UNSTABLE_PACKAGES).tag
    found = {
        f"debian-sid-{debian.interpreter_package(series)}": Target(
            interpreter=debian.interpreter_path(series),
            image=image,
            description=f"Debian unstable {debian.interpreter_package(series)}",
        )
        for series in debian.UNSTABLE_SERIES
    }
    model = matrixfile.load()
    for variant, profile in CELLS:
        cell = model.cell(python="3.13", variant=variant, platform="linux-x86_64", profile=profile)
        paths = layout.CellPaths.of(cell.id, build_root)
        exe = paths.install / layout.interpreter_in_tree(
            cell.version, cell.features, cell.profile, cell.platform.os
        )
        if exe.is_file():
            found[cell.id] = local_target(exe, description=cell.id)
        else:
            console.warn(f"{cell.id} is not built under {build_root}; not recorded")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-root", type=Path, default=layout.build_root())
    parser.add_argument("--only", action="append", default=[], help="record only these names")
    parser.add_argument(
        "--interpreter",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="record this interpreter on the host as NAME (e.g. a build kept for its defect)",
    )
    args = parser.parse_args()
    chosen = targets(args.build_root)
    for given in args.interpreter:
        name, _, path = given.partition("=")
        chosen[name] = local_target(Path(path), description=name)
    for name, target in chosen.items():
        if args.only and name not in args.only:
            continue
        observation = observe_target(target)
        path = OUT / f"{name}.json"
        stamped = {"probe_scripts": probe_digests(), **observation.to_json()}
        write_text_atomic(path, json.dumps(stamped, indent=1, sort_keys=True) + "\n")
        console.info(f"recorded {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
