"""Built-cell directories for the fast artifact tests, made from real files of this host.

The install tree holds the host's real ``/usr/bin/python3`` (an ELF interpreter), a relative
symlink to it, and a real stdlib package; build.json and verify.json have the shape the
builders and the verification write. The slow tests use the real 3.13.5 builds instead.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from cpmatrix.artifacts import packaging, stage, validate
from cpmatrix.artifacts.cache import Artifact, ContentKey, content_key
from cpmatrix.matrix import Cell
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util import treedigest

HOST_PYTHON = Path("/usr/bin/python3").resolve()


def install_tree(into: Path) -> Path:
    """A small real install tree: an ELF interpreter, a symlink, a stdlib package."""
    (into / "bin").mkdir(parents=True)
    shutil.copy2(HOST_PYTHON if HOST_PYTHON.exists() else Path(sys.executable), into / "bin/py")
    (into / "bin/python3").symlink_to("py")
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    shutil.copytree(
        stdlib / "json", into / "lib/json", ignore=shutil.ignore_patterns("__pycache__")
    )
    (into / "share").mkdir()
    (into / "share/empty-dir").mkdir()
    return into


def build_record(cell: Cell) -> dict[str, Any]:
    return {
        "schema": 1,
        "cell": cell.record(),
        "source": {
            "sha256": cell.python.sha256,
            "origin": "debian: python3.13_3.13.5.orig.tar.xz",
            "provider": "debian",
            "signature": "verified (pgp 7169605F62C751356D054A26A821E680E5FA6305)",
            "git_commit": None,
            "patches": [],
            "patchset": "",
        },
        "where": {"builder": "docker", "image": {"tag": "cpmatrix-builder:x", "id": "sha256:x"}},
        "configure": {"argv": ["/src/configure", "--enable-option-checking=fatal"], "env": {}},
        "toolchain": {"cc": "cc (Debian 14.2.0-19) 14.2.0", "clang-18": "Debian clang 18.1.8"},
        "phases": {"preflight": 1.0, "configure": 20.5, "compile": 80.25, "install": 5.0},
        "result": "ok",
    }


def verify_report(passed: bool = True) -> dict[str, Any]:
    return {
        "schema": 1,
        "passed": passed,
        "checks": [
            {"name": "gil-disabled", "passed": passed, "detail": "Py_GIL_DISABLED=0"},
            {"name": "imports", "passed": True, "detail": "ssl, sqlite3, ctypes"},
        ],
        "tests": {"tier": "smoke", "ran": 44, "failed": 0 if passed else 2},
    }


def built_cell(root: Path, cell: Cell, *, passed: bool = True) -> CellPaths:
    """build/<cell-id>/ as a finished build leaves it."""
    paths = CellPaths.of(cell.id, root)
    install_tree(paths.install)
    paths.record.write_text(json.dumps(build_record(cell)), encoding="utf-8")
    record_verification(paths, passed=passed)
    return paths


def record_verification(paths: CellPaths, *, passed: bool = True) -> None:
    """verify.json as verification writes it, with the digest of the install tree it saw."""
    report = {**verify_report(passed), "install_sha256": treedigest.digest(paths.install)}
    paths.verify_report.write_text(json.dumps(report), encoding="utf-8")


def key_for(cell: Cell, image: str = "sha256:test-image") -> ContentKey:
    source = build_record(cell)["source"]
    return content_key(cell, toolchain={"builder": "docker", "image": image}, source=source)


def without_portability(cell: Cell) -> Cell:
    """The cell on a platform that declares no glibc floor and no consumer images.

    The fast packaging tests use the host's own python as the tree's ELF file: it is not
    portable, and proving it in bare images is the docker tests' job (test_portable_real.py).
    """
    return replace(cell, platform=replace(cell.platform, glibc_floor=None, consumers=()))


def matrix_without_portability(source: Path, into: Path) -> Path:
    """A copy of matrix.yaml whose platforms declare no glibc floor and no consumer images."""
    text = source.read_text(encoding="utf-8")
    text = re.sub(r"^\s+(glibc|consumers): .*\n", "", text, flags=re.MULTILINE)
    into.write_text(text, encoding="utf-8")
    return into


JIT_CELL_ID = "cpython-3.13.5-jit-linux-x86_64"


def jit_manifest(archive: bytes, **artifact: Any) -> dict[str, Any]:
    """The smallest manifest of the 3.13.5 JIT cell that manifest.load accepts, for an archive
    of these bytes (``artifact`` overrides fields of its artifact section)."""
    return {
        "schema": 1,
        "id": JIT_CELL_ID,
        "python": "3.13.5",
        "variant": "jit",
        "features": ["jit"],
        "platform": "linux-x86_64",
        "profile": "release",
        "cell": {"series": "3.13"},
        "runs_on": {"os": "linux", "arch": "x86_64"},
        "proven_on": [],
        "artifact": {
            "file": f"{JIT_CELL_ID}.tar.gz",
            "sha256": hashlib.sha256(archive).hexdigest(),
            "size": len(archive),
            **artifact,
        },
        "verification": {"passed": True},
        "cache": {"key": "k"},
    }


def package_unproven(
    cell: Cell,
    paths: CellPaths,
    *,
    key: ContentKey | None = None,
    dist: Path | None = None,
    on_entry: Callable[[int], None] = lambda count: None,
) -> Artifact:
    """The release without its consumer proofs (accept → gate → stage → publish), for small
    fake cells that no bare image could run; the real release is tested in the docker tests."""
    accepted = packaging.accept(cell, paths)
    validate.gate(cell, paths)
    staged = stage.stage(cell, paths, on_entry=on_entry)
    return packaging.package(cell, paths, key=key, dist=dist, accepted=accepted, staged=staged)
