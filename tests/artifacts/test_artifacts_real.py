"""The real 3.13.5 builds become artifacts: archives, manifests, index, and a cache hit.

Uses the session's real builds as conftest publishes them (``published``: verified, staged,
proven in the bare consumer images, then into a temporary dist/), and runs an extracted archive
from a fresh directory elsewhere.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from artifactkit import package_unproven
from conftest import PUBLISHED_VARIANTS

from cpmatrix import artifacts, pipeline
from cpmatrix.artifacts import index, manifest
from cpmatrix.builders import finish_tree
from cpmatrix.matrix.layout import PROJECT_ROOT
from cpmatrix.util import elfinfo
from cpmatrix.util.fileio import sha256_of

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def verified(verified_cells: dict[str, object]) -> dict[str, object]:
    """The published cells (conftest's PUBLISHED_VARIANTS), verified."""
    return {name: verified_cells[name] for name in PUBLISHED_VARIANTS}


@pytest.fixture(scope="module")
def dist(published: Path) -> Path:
    return published


def test_three_real_cells_give_three_archives_manifests_and_an_index(
    dist: Path, verified: dict[str, object]
) -> None:
    ids = sorted(built.cell.id for built in verified.values())
    suffixes = (".tar.gz", ".tar.zst", "-tests.tar.gz", "-dbgsym.tar.gz", ".json", ".cdx.json")
    expected = {f"{i}{suffix}" for i in ids for suffix in suffixes}
    assert {p.name for p in dist.iterdir()} == expected | {"index.json", "SHA256SUMS", "uv"}
    listing = json.loads((dist / "index.json").read_text())
    assert sorted(entry["id"] for entry in listing["artifacts"]) == ids
    assert {e["variant"] for e in listing["artifacts"]} == {"default", "freethreaded", "jit"}
    assert index.check(dist) == []
    done = subprocess.run(
        ["sha256sum", "--check", "--strict", "SHA256SUMS"],
        cwd=dist,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.count(": OK") == 18, done.stdout


def test_manifests_say_where_each_real_build_can_run(
    dist: Path, verified: dict[str, object]
) -> None:
    for built in verified.values():
        cell, paths = built.cell, built.paths
        data = manifest.load(dist / f"{cell.id}.json")
        interpreter = paths.install / data["artifact"]["interpreter"]
        oracle = subprocess.run(
            ["readelf", "-V", "-W", str(interpreter)], capture_output=True, text=True, check=True
        ).stdout
        highest = max(
            tuple(map(int, v.split("."))) for v in re.findall(r"GLIBC_(\d+(?:\.\d+)+)", oracle)
        )
        found = elfinfo.read(interpreter)
        assert found is not None and found.glibc is not None
        runs_on = data["runs_on"]
        assert tuple(map(int, runs_on["min_glibc"].split("."))) >= highest
        assert highest <= (2, 31)  # the platform's glibc floor: bullseye
        assert set(runs_on["needed_libraries"]) <= finish_tree.HOST_LIBRARIES
        assert not any(lib.startswith("libpython") for lib in runs_on["needed_libraries"])
        assert data["verification"]["passed"] is True and data["verification"]["checks"]
        assert data["build"]["image"]["id"].startswith("sha256:")
        assert data["source"]["sha256"] == cell.python.sha256
        assert "--enable-option-checking=fatal" in data["build"]["command"]["argv"]
        assert data["cache"]["inputs"]["toolchain"]["image"] == data["build"]["image"]["id"]


def test_the_same_real_install_tree_packs_to_the_same_bytes(
    dist: Path, verified: dict[str, object], tmp_path: Path
) -> None:
    built = verified["default"]
    again = package_unproven(built.cell, built.paths, dist=tmp_path)
    first = dist / again.archive.name
    assert again.sha256 == sha256_of(first)
    assert again.archive.read_bytes() == first.read_bytes()


def test_an_extracted_archive_runs_and_verifies_from_elsewhere(
    dist: Path, verified: dict[str, object], tmp_path: Path
) -> None:
    cell = verified["jit"].cell
    data = manifest.load(dist / f"{cell.id}.json")
    top = artifacts.extract(dist / data["artifact"]["file"], tmp_path / "somewhere" / "else")
    assert top.name == cell.id
    interpreter = top / data["artifact"]["interpreter"]
    argv = [sys.executable, "-m", "invoke", "verify", "--interpreter", str(interpreter)]
    done = subprocess.run(
        [*argv, "--expect", cell.variant.name, "--tier", "none"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "PASSED" in done.stdout


def test_rebuilding_an_unchanged_cell_is_a_cache_hit(
    dist: Path, verified: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    built = verified["default"]
    cell, paths = built.cell, built.paths
    monkeypatch.setenv("CPMATRIX_DIST_DIR", str(dist))
    before = {p.name: p.stat().st_mtime_ns for p in dist.iterdir()}
    [outcome] = pipeline.run([cell], pipeline.Options(build_root=paths.root))
    assert outcome.status is pipeline.Status.UP_TO_DATE, outcome.reason
    assert outcome.artifact == dist / f"{cell.id}.tar.gz"
    assert {p.name: p.stat().st_mtime_ns for p in dist.iterdir()} == before
