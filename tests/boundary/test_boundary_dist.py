"""Class 2 of issue 21: dist/ is assembled from files others wrote. Every manifest is validated
before use, journal and SHA256SUMS names are plain names inside dist/, and links in dist/ are
refused or replaced, never written through or followed."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from artifactkit import built_cell, key_for, package_unproven, without_portability

from cpmatrix.artifacts import index, manifest, publish
from cpmatrix.matrix import Cell
from cpmatrix.util.errors import ArtifactError

CELL_ID = "cpython-3.13.5-jit-linux-x86_64"


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One packaged dist/ for the module; each test gets a copy (``dist``)."""
    from cpmatrix.matrix import matrixfile

    cell: Cell = without_portability(
        matrixfile.load().cell(python="3.13", variant="jit", platform="linux-x86_64")
    )
    root = tmp_path_factory.mktemp("packaged")
    paths = built_cell(root / "build", cell)
    package_unproven(cell, paths, key=key_for(cell), dist=root / "dist")
    return root / "dist"


@pytest.fixture
def dist(packaged: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "dist"
    shutil.copytree(packaged, copy, symlinks=True)
    yield copy


def state(root: Path) -> dict[str, str]:
    """Every path under ``root`` (links not followed) and its content's sha256."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file() and not p.is_symlink()
        else "other"
        for p in sorted(root.rglob("*"))
    }


def rewrite(dist: Path, change: Any) -> None:
    path = dist / f"{CELL_ID}.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "variant", ["../../outside", "jit/../../x", "nonsense", "tailcall+jit", "jit\n"]
)
def test_a_manifest_variant_never_decides_where_a_file_goes(
    dist: Path, tmp_path: Path, variant: str
) -> None:
    rewrite(dist, lambda data: data.update(variant=variant))
    before = state(tmp_path)
    with pytest.raises(ArtifactError, match="canonical"):
        index.write_index(dist)
    assert state(tmp_path) == before


@pytest.mark.parametrize(
    "file", ["../../../../etc/passwd", "/etc/passwd", "other.tar.gz", f"{CELL_ID}.tar.gz/.."]
)
def test_a_manifest_archive_name_is_the_cells_own(dist: Path, file: str) -> None:
    rewrite(dist, lambda data: data["artifact"].update(file=file))
    sums = (dist / index.SUMS).read_text()
    with pytest.raises(ArtifactError, match="names an archive other than"):
        index.write_index(dist)
    assert (dist / index.SUMS).read_text() == sums
    assert any("not a valid manifest" in str(p) for p in index.check(dist))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda data: data.update(id="cpython-3.13.5-default-linux-x86_64"), "describes"),
        (lambda data: data.update(id="../x"), "no valid 'id'"),
        (lambda data: data["artifact"].update(size=float("nan")), "refused: NaN"),
        (lambda data: data["artifact"].update(size=-1), "no size"),
        (lambda data: data["artifact"].update(sha256="x" * 64), "sha256"),
        (lambda data: data.update(python="3.13.5.1"), "no CPython release"),
        (lambda data: data["runs_on"].update(os="plan9"), "runs_on.os"),
        (lambda data: data["artifact"]["also"].append({"role": "x", "file": "../y"}), "beside"),
        (lambda data: data.update(features=5), "'features'"),
    ],
)
def test_a_manifest_is_validated_before_use(dist: Path, change: Any, words: str) -> None:
    rewrite(dist, change)
    with pytest.raises(ArtifactError, match=words):
        manifest.load(dist / f"{CELL_ID}.json")


def test_dist_uv_as_a_link_is_never_written_through(dist: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "jit.json").write_text("precious\n")
    shutil.rmtree(dist / "uv")
    (dist / "uv").symlink_to(outside)
    with pytest.raises(ArtifactError, match="link"):
        index.write_index(dist)
    assert (outside / "jit.json").read_text() == "precious\n"


def test_a_planted_journal_moves_nothing_out_of_dist(dist: Path, tmp_path: Path) -> None:
    committed = dist / publish.COMMITTED
    committed.mkdir()
    (committed / "payload").write_text("planted\n")
    (committed / publish.ORDER).write_text("../escaped\n/tmp/escaped-abs\n")
    (dist / f"{CELL_ID}.json").rename(committed / "victim")
    (committed / publish.ORDER).write_text("../escaped\nvictim/../../escaped2\n")
    with pytest.raises(ArtifactError, match="journal"):
        index.check(dist)
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "escaped2").exists()


def test_a_journal_directory_that_is_a_link_is_not_followed(dist: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "moved-in").write_text("not yours\n")
    (elsewhere / publish.ORDER).write_text("moved-in\n")
    (dist / publish.COMMITTED).symlink_to(elsewhere)
    index.check(dist)
    assert (elsewhere / "moved-in").read_text() == "not yours\n"
    assert not (dist / "moved-in").exists()


@pytest.mark.parametrize("name", ["/etc/hostname", "../outside", "uv/../../outside"])
def test_sha256sums_names_only_files_inside_dist(dist: Path, tmp_path: Path, name: str) -> None:
    (tmp_path / "outside").write_text("secret\n")
    secret = hashlib.sha256(Path("/etc/hostname").read_bytes()).hexdigest()
    with (dist / index.SUMS).open("a") as sums:
        sums.write(f"{'0' * 64}  {name}\n")
    problems = [str(p) for p in index.check(dist)]
    assert any("not a plain file name in dist" in p for p in problems), problems
    assert not any(secret in p for p in problems)
    assert not any(hashlib.sha256(b"secret\n").hexdigest() in p for p in problems), problems


def test_a_manifest_that_is_a_link_is_not_followed(dist: Path, tmp_path: Path) -> None:
    real = dist / f"{CELL_ID}.json"
    moved = tmp_path / "elsewhere.json"
    real.rename(moved)
    real.symlink_to(moved)
    with pytest.raises(ArtifactError, match="link"):
        index.write_index(dist)
    assert any("link" in str(p) for p in index.check(dist))


def test_index_json_entries_name_plain_files(dist: Path) -> None:
    data = json.loads((dist / index.INDEX).read_text())
    data["artifacts"][0]["file"] = "/etc/hostname"
    (dist / index.INDEX).write_text(json.dumps(data))
    problems = [str(p) for p in index.check(dist)]
    assert any("not a plain file name in dist" in p for p in problems), problems


def test_the_packaged_dist_passes_its_own_check(dist: Path) -> None:
    assert index.check(dist) == []
    index.write_index(dist)
    assert index.check(dist) == []


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>x</script>",
        "https://example.org/\nX-Injected: 1",
        "https://example.org/a b",
        "ftp://example.org/",
        "https://",
        "example.org/dist",
    ],
)
def test_a_base_url_is_https_http_or_file_without_control_characters(
    dist: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cpmatrix.util.errors import UsageError

    uv_files = state(dist / "uv")
    with pytest.raises(UsageError, match="base URL"):
        index.write_index(dist, base_url=url)
    monkeypatch.setenv("CPMATRIX_UV_BASE_URL", url)
    with pytest.raises(UsageError, match="CPMATRIX_UV_BASE_URL"):
        index.write_index(dist)
    assert state(dist / "uv") == uv_files


@pytest.mark.parametrize(
    "url", ["https://example.org/python/", "http://10.0.0.1:8080/d", "file:///srv/dist"]
)
def test_good_base_urls_are_used(dist: Path, url: str) -> None:
    index.write_index(dist, base_url=url)
    downloads = json.loads((dist / "uv" / "jit.json").read_text())
    assert all(d["url"].startswith(url.rstrip("/") + "/") for d in downloads.values())


def test_an_archive_that_is_a_link_is_no_cache_hit(dist: Path, tmp_path: Path) -> None:
    from cpmatrix.artifacts.cache import find_cached
    from cpmatrix.matrix import matrixfile

    cell = without_portability(matrixfile.load().cell_by_id(CELL_ID))
    assert find_cached(cell, key_for(cell), dist) is not None
    archive = dist / f"{CELL_ID}.tar.gz"
    archive.rename(tmp_path / "elsewhere.tar.gz")
    archive.symlink_to(tmp_path / "elsewhere.tar.gz")
    assert find_cached(cell, key_for(cell), dist) is None
