"""Regenerate cpmatrix/bench/pyperformance-lock.json (run by ``invoke bench-lock``).

pip resolves everything, from PyPI, on this host: the newest pip wheel is fetched first and
then runs from that wheel (``--isolated``: no local pip configuration takes part), so the lock
is made by the same pip that installs from it in the columns.

1. pyperformance's wheel (its data files are the benchmarks) and pip, setuptools, wheel.
2. Each chosen benchmark's pinned requirements, resolved with their dependencies.
3. Each resolved package, for every target interpreter kind (cp313, cp313t, cp314, cp315 on
   manylinux x86_64): the wheel pip would pick; where a target has none, the sdist too, and the
   sdist's build requirements as wheels for that target.
4. Every file's URL and sha256, as the index reports them.

Usage: python scripts/pyperformance_lock.py [--benchmarks nbody,float,...] [--output PATH]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import urllib.request
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cpmatrix.bench import pyperformance, wheelhouse

PYPERFORMANCE = "pyperformance==1.14.0"
TOOLS = ("pip", "setuptools", "wheel")
PLATFORM = "manylinux_2_31_x86_64"
TARGETS: dict[str, tuple[str, str]] = {
    "cp313": ("3.13", "cp313"),
    "cp313t": ("3.13", "cp313t"),
    "cp314": ("3.14", "cp314"),
    "cp315": ("3.15", "cp315"),
}
"""Interpreter kinds under test: our 3.13.5 builds (free-threaded apart) and Debian's 3.14/3.15."""
Found = dict[str, dict[str, str]]


class Pip:
    def __init__(self, wheel: Path, scratch: Path) -> None:
        self.wheel, self.scratch = wheel, scratch

    def report(self, *args: str) -> list[dict[str, object]] | None:
        """``pip install --dry-run --report``: what pip would install, or None if it cannot."""
        with tempfile.NamedTemporaryFile(suffix=".json", dir=self.scratch) as out:
            argv = [sys.executable, f"{self.wheel}/pip", "--isolated",
                    "--disable-pip-version-check", "install", "--dry-run", "--ignore-installed",
                    "--quiet", "--report", out.name, *args]  # fmt: skip
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"  pip {' '.join(args)}: {done.stderr.strip().splitlines()[-1:]}")
                return None
            return list(json.loads(Path(out.name).read_text())["install"])

    def target(
        self, tag: str, *requirements: str, deps: bool = False
    ) -> list[dict[str, object]] | None:
        version, abi = TARGETS[tag]
        flags = ["--only-binary=:all:", "--python-version", version, "--implementation", "cp",
                 "--abi", abi, "--platform", PLATFORM, "--target", f"{self.scratch}/t"]  # fmt: skip
        return self.report(*flags, *([] if deps else ["--no-deps"]), *requirements)


def entry(item: dict[str, object]) -> tuple[str, dict[str, str]]:
    info = item["download_info"]
    assert isinstance(info, dict)
    url = str(info["url"])
    sha256 = info["archive_info"]["hashes"]["sha256"]
    return url.rsplit("/", 1)[-1], {"url": url, "sha256": sha256}


def pinned(item: dict[str, object]) -> str:
    metadata = item["metadata"]
    assert isinstance(metadata, dict)
    return f"{metadata['name']}=={metadata['version']}"


def newest_pip(scratch: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "--isolated", "download", "--quiet", "--no-deps",
                    "--only-binary=:all:", "-d", str(scratch), "pip"], check=True)  # fmt: skip
    return next(scratch.glob("pip-*.whl"))


def build_requires(sdist: bytes) -> list[str]:
    """``[build-system] requires`` of a .tar.gz sdist; pip's fallback for a setup.py-only one."""
    fallback = ["setuptools>=40.8.0"]
    with tarfile.open(fileobj=io.BytesIO(sdist)) as archive:
        top = [n for n in archive.getnames() if n.count("/") == 1 and n.endswith("/pyproject.toml")]
        member = archive.extractfile(top[0]) if top else None
        if member is None:
            return fallback
        text = member.read().decode()
    return list(tomllib.loads(text).get("build-system", {}).get("requires", fallback))


def lock_package(pip: Pip, package: str, files: Found) -> list[str]:
    """The files one pinned package needs across the targets (wheels, else sdist + build deps)."""
    names: list[str] = []
    lacking = []
    for tag in TARGETS:
        got = pip.target(tag, package)
        if got:
            name, info = entry(got[0])
            files[name] = info
            names.append(name)
        else:
            lacking.append(tag)
    if lacking:
        got = pip.report("--no-deps", "--no-binary=:all:", package)
        if not got:
            print(f"  {package}: no sdist either; {lacking} cannot install it")
            return names
        name, info = entry(got[0])
        files[name] = info
        names.append(name)
        with urllib.request.urlopen(info["url"], timeout=60) as response:
            requires = build_requires(response.read())
        print(f"  {package}: no wheel for {lacking}; sdist {name} builds with {requires}")
        for tag in lacking:
            deps = pip.target(tag, *requires, deps=True) or []
            for item in deps:
                dep_name, dep_info = entry(item)
                files[dep_name] = dep_info
                names.append(dep_name)
    return list(dict.fromkeys(names))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = ",".join(
        dict.fromkeys((*pyperformance.DEFAULT_BENCHMARKS, *pyperformance.CI_BENCHMARKS))
    )
    parser.add_argument("--benchmarks", default=default)
    parser.add_argument("--output", type=Path, default=wheelhouse.LOCK_FILE)
    options = parser.parse_args(argv)
    files: Found = {}
    with tempfile.TemporaryDirectory(prefix="pyperformance-lock-") as temp:
        scratch = Path(temp)
        pip = Pip(newest_pip(scratch), scratch)
        tools = pip.report("--only-binary=:all:", "--no-deps", PYPERFORMANCE, *TOOLS)
        assert tools, "pip could not resolve pyperformance and the tools"
        for item in tools:
            name, info = entry(item)
            files[name] = info
        pyperformance_wheel = next(n for n in files if n.startswith("pyperformance-"))
        tool_wheels = sorted(n for n in files if n != pyperformance_wheel)
        with urllib.request.urlopen(files[pyperformance_wheel]["url"], timeout=60) as response:
            (scratch / pyperformance_wheel).write_bytes(response.read())
        data = scratch / "data"
        with zipfile.ZipFile(scratch / pyperformance_wheel) as archive:
            archive.extractall(data)
        known = pyperformance.catalog(data / "pyperformance" / "data-files" / "benchmarks")
        chosen = [b.strip() for b in options.benchmarks.split(",") if b.strip()]
        unknown = [b for b in chosen if b not in known]
        if unknown:
            parser.error(f"not pyperformance benchmarks: {unknown}")
        closures: dict[str, list[str]] = {}
        for name in chosen:
            requirements = known[name].requirements
            resolved = pip.report(*requirements) if requirements else []
            if resolved is None:
                parser.error(f"{name}: pip cannot resolve {requirements}")
            closures[name] = [pinned(item) for item in resolved]
            print(f"{name}: {closures[name] or 'standard library only'}")
        packages = sorted({p for closure in closures.values() for p in closure})
        with ThreadPoolExecutor(max_workers=4) as pool:
            per_package = dict(
                zip(
                    packages, pool.map(lambda p: lock_package(pip, p, files), packages), strict=True
                )
            )
    lock = {
        "schema": wheelhouse.SCHEMA,
        "generated_by": "invoke bench-lock (scripts/pyperformance_lock.py)",
        "platform": PLATFORM,
        "targets": list(TARGETS),
        "pyperformance": pyperformance_wheel,
        "tools": tool_wheels,
        "benchmarks": {
            name: {
                "requirements": list(known[name].requirements),
                "packages": closures[name],
                "files": sorted({f for p in closures[name] for f in per_package[p]}),
            }
            for name in sorted(chosen)
        },
        "files": {name: files[name] for name in sorted(files)},
    }
    options.output.write_text(json.dumps(lock, indent=1) + "\n")
    print(f"wrote {options.output}: {len(chosen)} benchmarks, {len(files)} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
