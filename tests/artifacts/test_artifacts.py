"""Packaging, manifests, the index and the build cache, on real trees of this host.

The real 3.13.5 builds are packaged in test_artifacts_real.py; here the install trees hold the
host's own interpreter binary and stdlib files, and the records have the builders' shape.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from artifactkit import (
    build_record,
    built_cell,
    install_tree,
    key_for,
    matrix_without_portability,
    package_unproven,
    without_portability,
)

from cpmatrix import artifacts
from cpmatrix.artifacts import cache, index, manifest
from cpmatrix.artifacts.cache import ContentKey, content_key
from cpmatrix.matrix import Cell, Matrix, matrixfile
from cpmatrix.matrix.layout import PROJECT_ROOT, CellPaths
from cpmatrix.util.errors import ArtifactError, VerificationFailed
from cpmatrix.util.fileio import sha256_of


@pytest.fixture(scope="module")
def model() -> Matrix:
    return matrixfile.load()


@pytest.fixture
def jit(model: Matrix) -> Cell:
    return without_portability(model.cell(python="3.13", variant="jit", platform="linux-x86_64"))


@pytest.fixture
def freethreaded(model: Matrix) -> Cell:
    cell = model.cell(python="3.13", variant="freethreaded", platform="linux-x86_64")
    return without_portability(cell)


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPMATRIX_CACHE", str(tmp_path / "cache"))


def package(cell: Cell, build: Path, dist: Path, **options: object) -> artifacts.Artifact:
    paths = built_cell(build, cell)
    return package_unproven(cell, paths, key=key_for(cell), dist=dist, **options)


def test_package_writes_archive_manifest_and_index(tmp_path: Path, jit: Cell) -> None:
    dist = tmp_path / "dist"
    made = package(jit, tmp_path / "build", dist)
    assert made.archive == dist / f"{jit.id}.tar.gz" and not made.cached
    assert sorted(p.name for p in dist.iterdir()) == sorted(
        [
            f"{jit.id}.tar.gz",
            f"{jit.id}.tar.zst",
            f"{jit.id}-tests.tar.gz",
            f"{jit.id}.json",
            f"{jit.id}.cdx.json",
            "index.json",
            "SHA256SUMS",
            "uv",
        ]
    )
    assert made.sha256 == sha256_of(made.archive)
    assert index.check(dist) == []


def test_manifest_records_every_documented_field(tmp_path: Path, jit: Cell) -> None:
    made = package(jit, tmp_path / "build", tmp_path / "dist")
    data = manifest.load(made.manifest)
    assert data["schema"] == manifest.SCHEMA == 1
    assert (data["id"], data["python"], data["variant"], data["profile"], data["platform"]) == (
        jit.id,
        "3.13.5",
        "jit",
        "release",
        "linux-x86_64",
    )
    assert data["features"] == ["jit"] and data["cell"]["series"] == "3.13"
    assert data["artifact"]["sha256"] == made.sha256
    assert data["artifact"]["size"] == made.archive.stat().st_size
    assert data["artifact"]["top_directory"] == jit.id
    assert data["artifact"]["interpreter"] == "bin/python3.13"
    build = data["build"]
    assert build["command"]["argv"][-1] == "--enable-option-checking=fatal"
    assert build["compiler"].startswith("cc (Debian")
    assert build["llvm"] == "Debian clang 18.1.8"
    assert build["image"]["id"] == "sha256:x"
    assert build["duration_seconds"] == pytest.approx(106.75)
    source = data["source"]
    assert source["url"] == jit.python.url and source["sha256"] == jit.python.sha256
    assert source["signature"].startswith("verified") and source["patches"] == []
    verification = data["verification"]
    assert verification["passed"] is True and len(verification["checks"]) == 2
    assert verification["tests"]["ran"] == 44
    runs_on = data["runs_on"]
    assert runs_on["os"] == "linux" and runs_on["needed_libraries"]
    assert runs_on["min_glibc"] and runs_on["min_glibc_required_by"] == "bin/py"
    assert data["cache"]["key"] == key_for(jit).digest
    assert data["cpmatrix_version"]
    documented = (PROJECT_ROOT / "docs/manifest.md").read_text(encoding="utf-8")
    for field in flatten(data):
        assert f"`{field}`" in documented, f"docs/manifest.md does not document {field}"


OPAQUE = ("cell", "inputs", "toolchain", "phases", "env", "verification")
"""Objects documented as a whole: their keys come from elsewhere (cell, verify.json …)."""


def flatten(data: dict[str, object], prefix: str = "") -> list[str]:
    names = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        names.append(name)
        if isinstance(value, dict) and key not in OPAQUE:
            names += flatten(value, f"{name}.")
    return names


def test_index_lets_a_consumer_pick_by_version_variant_platform(
    tmp_path: Path, jit: Cell, freethreaded: Cell
) -> None:
    dist = tmp_path / "dist"
    package(jit, tmp_path / "build", dist)
    package(freethreaded, tmp_path / "build", dist)
    listing = json.loads((dist / "index.json").read_text())
    chosen = [
        a
        for a in listing["artifacts"]
        if (a["python"], a["variant"], a["platform"]) == ("3.13.5", "freethreaded", "linux-x86_64")
    ]
    assert len(chosen) == 1 and chosen[0]["file"] == f"{freethreaded.id}.tar.gz"
    assert chosen[0]["min_glibc"] and chosen[0]["verified"] is True
    assert chosen[0]["interpreter"] == "bin/python3.13t"
    done = subprocess.run(
        ["sha256sum", "--check", "--strict", "SHA256SUMS"],
        cwd=dist,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": OK") == 10  # per cell: .tar.gz, .tar.zst, -tests, SBOM, manifest


def run_index_check(dist: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "invoke", "index", "--check"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "CPMATRIX_DIST_DIR": str(dist)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_index_check_reports_a_tampered_file(tmp_path: Path, jit: Cell) -> None:
    dist = tmp_path / "dist"
    made = package(jit, tmp_path / "build", dist)
    clean = run_index_check(dist)
    assert clean.returncode == 0, clean.stderr
    with made.archive.open("ab") as archive:
        archive.write(b"\0")
    tampered = run_index_check(dist)
    assert tampered.returncode == ArtifactError.exit_code
    assert f"{jit.id}.tar.gz: sha256" in tampered.stderr and "does not match" in tampered.stderr
    problems = index.check(dist)
    assert {p.path.name for p in problems} == {made.archive.name}


def test_an_interrupted_repackaging_keeps_the_previous_artifact(tmp_path: Path, jit: Cell) -> None:
    dist = tmp_path / "dist"
    first = package(jit, tmp_path / "build", dist)
    before = {p.name: p.read_bytes() for p in dist.iterdir() if p.is_file()}

    def interrupt(count: int) -> None:
        if count == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        package(jit, tmp_path / "build2", dist, on_entry=interrupt)
    assert {p.name: p.read_bytes() for p in dist.iterdir() if p.is_file()} == before
    assert artifacts.find_cached(jit, key_for(jit), dist) is not None
    assert first.sha256 == sha256_of(dist / f"{jit.id}.tar.gz")


def test_a_failed_artifact_never_reaches_dist(tmp_path: Path, jit: Cell) -> None:
    build, dist = tmp_path / "build", tmp_path / "dist"
    paths = built_cell(build, jit, passed=False)
    with pytest.raises(VerificationFailed, match="failed verification") as caught:
        package_unproven(jit, paths, key=key_for(jit), dist=dist)
    assert str(paths.verify_report) in caught.value.render()
    assert not dist.exists() or not any(dist.iterdir())
    assert paths.install.is_dir() and paths.verify_report.is_file()
    paths.verify_report.unlink()
    with pytest.raises(ArtifactError, match="verification report"):
        package_unproven(jit, paths, key=key_for(jit), dist=dist)
    paths.incomplete_marker.write_text("")
    with pytest.raises(ArtifactError, match="did not complete"):
        package_unproven(jit, paths, key=key_for(jit), dist=dist)


def test_the_cache_hits_only_for_the_same_key_and_an_intact_artifact(
    tmp_path: Path, jit: Cell, freethreaded: Cell
) -> None:
    dist = tmp_path / "dist"
    made = package(jit, tmp_path / "build", dist)
    hit = artifacts.find_cached(jit, key_for(jit), dist)
    assert hit is not None and hit.cached and hit.sha256 == made.sha256
    assert artifacts.reusable(jit, key_for(jit), force=False, verify=True, dist=dist) == hit
    assert artifacts.reusable(jit, key_for(jit), force=True, verify=True, dist=dist) is None
    assert artifacts.reusable(jit, key_for(jit), force=False, verify=False, dist=dist) is None
    assert artifacts.find_cached(jit, key_for(jit, image="sha256:other"), dist) is None
    assert artifacts.find_cached(freethreaded, key_for(freethreaded), dist) is None
    dirty = content_key(
        jit,
        toolchain=key_for(jit).inputs["toolchain"],
        source={**key_for(jit).inputs["source"], "git_dirty": True},
    )
    paths = CellPaths.of(jit.id, tmp_path / "build")
    package_unproven(jit, paths, key=dirty, dist=tmp_path / "dirty-dist")
    assert artifacts.find_cached(jit, dirty, tmp_path / "dirty-dist") is None
    with made.archive.open("r+b") as archive:
        archive.seek(100)
        archive.write(b"X")
    assert artifacts.find_cached(jit, key_for(jit), dist) is None


def test_the_key_covers_every_input(model: Matrix, jit: Cell) -> None:
    source = {"sha256": jit.python.sha256, "patchset": "p", "git_commit": None}

    def key(cell: Cell = jit, **changed: Any) -> ContentKey:
        inputs: dict[str, Any] = {"toolchain": {"image": "a"}, "source": source, **changed}
        return content_key(cell, **inputs)

    assert key().digest == key().digest
    assert key().digest == key(source={**source, "path": "/elsewhere", "key": "x"}).digest
    variants = [
        key(toolchain={"image": "b"}),
        key(source={**source, "patchset": "q"}),
        key(source={**source, "sha256": "0" * 64}),
        key(source={**source, "git_commit": "abc"}),
        key(kind="native"),
        key(model.cell(python="3.13", variant="jit-off", platform="linux-x86_64")),
        key(model.cell(python="3.13", variant="jit", platform="linux-x86_64", profile="debug")),
    ]
    digests = {v.digest for v in variants}
    assert key().digest not in digests and len(digests) == len(variants)
    inputs = key().inputs
    assert "--enable-experimental-jit=yes" in inputs["arguments"]
    assert inputs["cpmatrix"] and inputs["source"]["sha256"] == jit.python.sha256


def test_the_key_of_a_finished_build_is_the_key_it_was_built_under(jit: Cell) -> None:
    record = build_record(jit)
    identity = {"builder": "docker", "image": "sha256:test-image"}
    before = artifacts.current_key(jit, source=record["source"], identity=identity)
    after = artifacts.current_key(jit, source=record["source"], kind="docker", identity=identity)
    assert before.digest == after.digest == key_for(jit).digest
    assert not cache.cacheable({"git_commit": "abc", "git_dirty": True})
    assert cache.matrix_source(jit)["sha256"] == jit.python.sha256


def test_package_all_skips_what_failed_and_says_so(
    tmp_path: Path, jit: Cell, freethreaded: Cell
) -> None:
    build = tmp_path / "build"
    built_cell(build, jit)
    built_cell(build, freethreaded, passed=False)
    (build / "not-a-cell").mkdir()
    matrix = matrix_without_portability(PROJECT_ROOT / "matrix.yaml", tmp_path / "matrix.yaml")
    env = {
        **os.environ,
        "CPMATRIX_BUILD_DIR": str(build),
        "CPMATRIX_DIST_DIR": str(tmp_path / "dist"),
        "CPMATRIX_CACHE": str(tmp_path / "cache"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "package", "--all", "--matrix", str(matrix)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == ArtifactError.exit_code, done.stderr
    assert f"{freethreaded.id} failed verification" in done.stderr
    assert "1 of 2 built cells were not packaged" in done.stderr
    names = sorted(p.name for p in (tmp_path / "dist").iterdir())
    expected = ["SHA256SUMS", "index.json", "uv", f"{jit.id}.json", f"{jit.id}.tar.gz"]
    extras = [f"{jit.id}.tar.zst", f"{jit.id}-tests.tar.gz", f"{jit.id}.cdx.json"]
    assert names == sorted([*expected, *extras])


def test_install_tree_helper_is_real(tmp_path: Path) -> None:
    tree = install_tree(tmp_path / "t")
    assert (tree / "bin/py").stat().st_size > 100_000


def test_index_check_reports_missing_and_unreadable_records(tmp_path: Path, jit: Cell) -> None:
    dist = tmp_path / "dist"
    made = package(jit, tmp_path / "build", dist)
    made.archive.unlink()
    made.manifest.write_text("{not json", encoding="utf-8")
    found = {(p.path.name, p.what.split(":")[0].split(",")[0]) for p in index.check(dist)}
    assert (made.archive.name, "missing") in found
    assert (made.manifest.name, "not a valid manifest") in found
    assert any(name == made.manifest.name and "sha256" in what for name, what in found)
