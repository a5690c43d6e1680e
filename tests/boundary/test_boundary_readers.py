"""Every reader of issue 21's boundary, fed generated and mutated documents: each gives a
result or a cpmatrix error, never another exception.

Examples per reader: ``HYPOTHESIS_PROFILE=ci`` (the default, 40) keeps CI fast;
``HYPOTHESIS_PROFILE=thorough`` runs 1,000.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from artifactkit import build_record, jit_manifest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpmatrix.artifacts import index, manifest, packaging, publish
from cpmatrix.builders import record
from cpmatrix.matrix import matrixfile
from cpmatrix.matrix.layout import PROJECT_ROOT, CellPaths
from cpmatrix.sources import patches
from cpmatrix.util.errors import CpmatrixError

COMMON = {"deadline": None, "database": None, "suppress_health_check": list(HealthCheck)}
settings.register_profile("ci", max_examples=40, **COMMON)  # type: ignore[arg-type]
settings.register_profile("thorough", max_examples=1000, **COMMON)  # type: ignore[arg-type]
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CELL = "cpython-3.13.5-jit-linux-x86_64"

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["../x", "/etc/passwd", "uv/../x", CELL, f"{CELL}.tar.gz", "a\nb"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def spliced(base: bytes) -> st.SearchStrategy[bytes]:
    """``base`` with a slice replaced by random bytes: truncations, insertions, flips."""
    return st.tuples(st.integers(0, len(base)), st.integers(0, 64), st.binary(max_size=24)).map(
        lambda t: base[: t[0]] + t[2] + base[t[0] + t[1] :]
    )


def paths_of(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*prefix, key)
            yield from paths_of(value, (*prefix, key))
    elif isinstance(data, list):
        for number, value in enumerate(data):
            yield (*prefix, number)
            yield from paths_of(value, (*prefix, number))


def with_field(base: dict[str, Any], path: tuple[Any, ...], value: Any) -> bytes:
    data = json.loads(json.dumps(base))
    holder = data
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return json.dumps(data).encode()


def documents(base: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """A field of ``base`` replaced by any JSON value; ``base`` spliced; any JSON; any bytes."""
    fields = st.tuples(st.sampled_from(list(paths_of(base))), JSON).map(
        lambda t: with_field(base, *t)
    )
    raw = json.dumps(base).encode()
    return st.one_of(
        fields, spliced(raw), JSON.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)
    )


def survives(read: Callable[[], object]) -> None:
    """A result or a cpmatrix error; any other exception fails the test."""
    with contextlib.suppress(CpmatrixError):
        read()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("readers")


@pytest.fixture(scope="module", autouse=True)
def own_cache(scratch: Path) -> Iterator[None]:
    before = os.environ.get("CPMATRIX_CACHE")
    os.environ["CPMATRIX_CACHE"] = str(scratch / "cache")
    yield
    if before is None:
        del os.environ["CPMATRIX_CACHE"]
    else:
        os.environ["CPMATRIX_CACHE"] = before


MATRIX = (PROJECT_ROOT / "matrix.yaml").read_bytes()


@given(
    st.one_of(spliced(MATRIX), st.binary(max_size=300), JSON.map(lambda v: json.dumps(v).encode()))
)
def test_matrix_yaml(scratch: Path, data: bytes) -> None:
    path = scratch / "matrix.yaml"
    path.write_bytes(data)
    survives(lambda: matrixfile.load(path))


def a_manifest() -> dict[str, Any]:
    also = [{"role": "tests", "file": f"{CELL}-tests.tar.gz", "sha256": "b" * 64}]
    data = jit_manifest(b"abc", also=also)
    data["proven_on"] = [{"consumer": "trixie"}]
    return data


@given(documents(a_manifest()))
def test_manifests_and_the_index_made_from_them(scratch: Path, data: bytes) -> None:
    dist = scratch / "dist-manifest"
    shutil.rmtree(dist, ignore_errors=True)
    dist.mkdir()
    (dist / f"{CELL}.json").write_bytes(data)
    survives(lambda: manifest.load(dist / f"{CELL}.json"))
    survives(lambda: index.write_index(dist, base_url="https://example.org/d/"))


@given(documents(build_record(matrixfile.load().cell_by_id(CELL))))
def test_build_records(scratch: Path, data: bytes) -> None:
    path = scratch / "build.json"
    path.write_bytes(data)
    survives(lambda: record.load_ok(path))


@given(documents({"schema": 1, "passed": True, "install_sha256": "a" * 64, "checks": []}))
def test_verify_records(scratch: Path, data: bytes) -> None:
    paths = CellPaths.of(CELL, scratch / "build")
    paths.install.mkdir(parents=True, exist_ok=True)
    paths.verify_report.write_bytes(data)

    def read() -> None:
        report = packaging.verified_report(paths)
        packaging.unchanged_since_verification(paths, report)

    survives(read)


def published_dist(scratch: Path) -> Path:
    dist = scratch / "dist-check"
    shutil.rmtree(dist, ignore_errors=True)
    dist.mkdir()
    archive = dist / f"{CELL}.tar.gz"
    archive.write_bytes(b"abc")
    (dist / f"{CELL}.json").write_text(json.dumps(jit_manifest(b"abc")))
    index.write_index(dist, base_url="https://example.org/d/")
    return dist


SUMS = f"{'a' * 64}  {CELL}.tar.gz\n{'b' * 64}  {CELL}.json\n".encode()


@given(st.one_of(spliced(SUMS), st.binary(max_size=300)))
def test_sha256sums(scratch: Path, data: bytes) -> None:
    dist = published_dist(scratch)
    (dist / index.SUMS).write_bytes(data)
    survives(lambda: index.check(dist))


INDEX = {
    "schema": 1,
    "artifacts": [
        {
            "id": CELL,
            "file": f"{CELL}.tar.gz",
            "sha256": "a",
            "manifest": f"{CELL}.json",
            "manifest_sha256": "b",
            "also": [{"file": "x", "sha256": "c"}],
        }
    ],
}


@given(documents(INDEX))
def test_index_json(scratch: Path, data: bytes) -> None:
    dist = published_dist(scratch)
    (dist / index.INDEX).write_bytes(data)
    survives(lambda: index.check(dist))


JOURNAL = f"{CELL}.tar.gz\n{CELL}.json\nuv/jit.json\nindex.json\nSHA256SUMS\n".encode()


@given(st.one_of(spliced(JOURNAL), st.binary(max_size=200)))
def test_the_publishing_journal(scratch: Path, data: bytes) -> None:
    dist = scratch / "dist-journal"
    shutil.rmtree(dist, ignore_errors=True)
    committed = dist / publish.COMMITTED
    (committed / "uv").mkdir(parents=True)
    for name in (f"{CELL}.tar.gz", f"{CELL}.json", "uv/jit.json", "index.json"):
        (committed / name).write_text(name)
    (committed / publish.ORDER).write_bytes(data)
    survives(lambda: publish.recover(dist))
    outside = {p.name for p in scratch.iterdir()}
    assert "escaped" not in outside


SERIES = b"# comment\n\n01-a.patch\nsub/02-b.patch\n"


@given(st.one_of(spliced(SERIES), st.binary(max_size=200)))
def test_patch_series(scratch: Path, data: bytes) -> None:
    directory = scratch / "patches"
    shutil.rmtree(directory, ignore_errors=True)
    (directory / "sub").mkdir(parents=True)
    (directory / "01-a.patch").write_text("--- a/x\n+++ b/x\n")
    (directory / "sub" / "02-b.patch").write_text("--- a/y\n+++ b/y\n")
    (directory / "series").write_bytes(data)
    survives(lambda: patches.load(directory))
