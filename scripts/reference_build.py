#!/usr/bin/env python3
"""A reference CPython build, configured as CPython's own documentation says, to benchmark ours
against (issue #25: where does the free-threaded overhead come from?).

Hand-started heavy work (a PGO + LTO build takes 10-15 minutes here), never part of the tests.
One Docker image per (release, compiler, variant, profile): Debian trixie, the build
dependencies CPython's devguide lists for Debian, the unpatched release tarball from
cpmatrix's source cache (sha256 checked against matrix.yaml), and

    ./configure --prefix=/opt/reference --enable-optimizations --with-lto [--disable-gil]
    make -j N && make install

with the system's libraries (no sysroot) and gcc (Debian's default ``cc``) or clang (clang-N
with its LLVM tools first on PATH, as CPython's CI uses clang). The interpreter is
``/opt/reference/bin/python3.X[t]``; benchmark it as a column:

    invoke bench --fast --suites pyperformance --python=3.13 --variants default \\
        --column "name=ref-gcc,image=TAG,interpreter=/opt/reference/bin/python3.13"

Prints the image tag and the build's wall time; ``--json FILE`` writes them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpmatrix import features as fx  # noqa: E402
from cpmatrix.engine.image import base_image  # noqa: E402
from cpmatrix.matrix import matrixfile  # noqa: E402
from cpmatrix.sources.store import SourceCache  # noqa: E402
from cpmatrix.util.fileio import sha256_of  # noqa: E402

PREFIX = "/opt/reference"
SUITE = "trixie"
DEVGUIDE_PACKAGES = (
    "build-essential gdb lcov pkg-config libbz2-dev libffi-dev libgdbm-dev libgdbm-compat-dev "
    "liblzma-dev libncurses-dev libreadline-dev libsqlite3-dev libssl-dev tk-dev "
    "uuid-dev zlib1g-dev libzstd-dev xz-utils"
)
"""The devguide's "Install dependencies" list for Debian/Ubuntu, in trixie's package names."""
CLANG_MAJOR = 19
CLANG_PACKAGES = f"clang-{CLANG_MAJOR} llvm-{CLANG_MAJOR} libclang-rt-{CLANG_MAJOR}-dev"


def configure_line(variant: str, profile: str) -> str:
    """The documented configure line: the profile's switches and the variant's feature switch
    from features/ (not our ALWAYS_CONFIGURE nor --with-mimalloc: the docs give neither)."""
    profiles: dict[str, tuple[str, ...]] = {p: fx.PROFILE_CONFIGURE[p] for p in fx.PROFILES}
    features = variant_features(variant)
    switches = [*profiles[profile], *(s for f in features for s in fx.SPECS[f].configure)]
    return " ".join(["./configure", f"--prefix={PREFIX}", *switches])


def variant_features(variant: str) -> tuple[fx.Feature, ...]:
    return (fx.Feature.FREETHREADED,) if variant == "freethreaded" else ()


def dockerfile(base: str, tarball: str, *, compiler: str, variant: str, profile: str) -> str:
    """The whole reference build as one Dockerfile: what a person following the docs types."""
    packages = f"{DEVGUIDE_PACKAGES} {CLANG_PACKAGES}"  # one dependency layer for both
    env = (
        f'ENV PATH="/usr/lib/llvm-{CLANG_MAJOR}/bin:$PATH" CC=clang\n'
        if compiler == "clang"
        else "ENV CC=gcc\n"
    )
    source = tarball.removesuffix(".tar.xz")
    return (
        f"FROM {base} AS deps\n"
        "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
        f"--no-install-recommends {packages} && rm -rf /var/lib/apt/lists/*\n"
        "FROM deps\n"
        f"{env}"
        f"COPY {tarball} /build/\n"
        f"WORKDIR /build\nRUN tar -xf {tarball}\nWORKDIR /build/{source}\n"
        f"RUN {configure_line(variant, profile)} && make -j$(nproc) && make install\n"
        f'RUN {PREFIX}/bin/python3 -VV && {PREFIX}/bin/python3 -c "import ssl, ctypes, sqlite3"\n'
    )


def image_tag(release: str, compiler: str, variant: str, profile: str, text: str) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"cpmatrix-reference:{release}-{compiler}-{variant}-{profile}-{digest}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default="3.13")
    parser.add_argument("--compiler", choices=("gcc", "clang"), default="gcc")
    parser.add_argument("--variant", choices=("default", "freethreaded"), default="default")
    parser.add_argument("--profile", choices=("optimized", "release"), default="optimized")
    parser.add_argument("--json", type=Path, help="write the tag and time here")
    parser.add_argument(
        "--cpu-shares", type=int, help="docker's CPU weight (2: yield to other work on the machine)"
    )
    args = parser.parse_args()
    python = matrixfile.load().python(args.python)
    slot = SourceCache.default().slot(python.sha256)
    tarball = slot / python.tarball_name
    if not tarball.is_file() or sha256_of(tarball) != python.sha256:
        print(f"no verified {python.tarball_name} in {slot}: run `invoke source` first")
        return 1
    base = base_image(SUITE).tag
    text = dockerfile(
        base, tarball.name, compiler=args.compiler, variant=args.variant, profile=args.profile
    )
    tag = image_tag(str(python.release), args.compiler, args.variant, args.profile, text)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cpmatrix-reference-") as context:
        shutil.copy2(tarball, Path(context) / tarball.name)
        (Path(context) / "Dockerfile").write_text(text)
        weight = ["--cpu-shares", str(args.cpu_shares)] if args.cpu_shares else []
        command = ["docker", "build", "--network=host", *weight, "-t", tag, context]
        done = subprocess.run(command, check=False)
    seconds = round(time.monotonic() - started, 1)
    if done.returncode != 0:
        print(f"reference build failed after {seconds} s (exit {done.returncode})")
        return done.returncode
    print(f"{tag}: built in {seconds} s")
    if args.json is not None:
        args.json.write_text(json.dumps({"tag": tag, "seconds": seconds, "configure": text}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
