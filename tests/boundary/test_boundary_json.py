"""Class 7 of issue 21: one bounded, typed reader for every JSON document cpmatrix reads."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest
from artifactkit import built_cell, key_for, package_unproven, without_portability

from cpmatrix.builders import record
from cpmatrix.matrix import Cell
from cpmatrix.util import jsonfile
from cpmatrix.util.errors import ArtifactError


@pytest.fixture
def jit(jit: Cell) -> Cell:
    return without_portability(jit)


DEEP = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (DEEP, "nests more than"),
        (b'{"schema": 1, "phases": {"configure": NaN}}', "NaN"),
        (b'{"schema": 1, "phases": {"configure": Infinity}}', "Infinity"),
        (b'{"schema": 1, "phases": {"configure": 1e999}}', "too large to be finite"),
        (b'{"schema": 1, "result": "\\ud800"}', "not text"),
        (b'{"schema": 1, "jobs": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ],
    ids=["deep", "nan", "infinity", "1e999", "lone surrogate", "5000 digits"],
)
def test_a_hostile_build_record_is_a_record_error(
    raw: bytes, words: str, tmp_path: Path, jit: Cell
) -> None:
    paths = built_cell(tmp_path / "build", jit)
    paths.record.write_bytes(raw)
    with pytest.raises(ArtifactError) as refused:
        package_unproven(jit, paths, key=key_for(jit), dist=tmp_path / "dist")
    assert words in refused.value.message
    assert str(paths.record) in refused.value.message


@pytest.mark.parametrize("raw", [DEEP, b'{"passed": true, "x": NaN}'], ids=["deep", "nan"])
def test_a_hostile_verify_report_is_an_artifact_error(
    raw: bytes, tmp_path: Path, jit: Cell
) -> None:
    paths = built_cell(tmp_path / "build", jit)
    paths.verify_report.write_bytes(raw)
    with pytest.raises(ArtifactError, match="verification report"):
        package_unproven(jit, paths, key=key_for(jit), dist=tmp_path / "dist")


def test_a_huge_verify_report_is_refused_unread(tmp_path: Path, jit: Cell) -> None:
    paths = built_cell(tmp_path / "build", jit)
    with paths.verify_report.open("wb") as stream:
        stream.write(b'{"passed": true, "pad": "')
        stream.truncate(300 << 20)  # 300 MiB, sparse
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ArtifactError, match="larger than"):
        package_unproven(jit, paths, key=key_for(jit), dist=tmp_path / "dist")
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    assert grown_kib < 100 * 1024


def test_the_reader_names_the_file_and_returns_objects_only(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("[1, 2]")
    with pytest.raises(
        ArtifactError, match=f"cannot read the thing {path}: it is not a JSON object"
    ):
        jsonfile.read(path, what="thing", error=ArtifactError)
    path.write_text(json.dumps({"a": [1.5, {"b": None}]}))
    assert jsonfile.read(path, what="thing", error=ArtifactError) == {"a": [1.5, {"b": None}]}
    with pytest.raises(ArtifactError, match=f"cannot read the thing {tmp_path / 'none'}"):
        jsonfile.read(tmp_path / "none", what="thing", error=ArtifactError)


def test_a_build_record_is_read_by_the_one_reader(tmp_path: Path) -> None:
    path = tmp_path / "build.json"
    path.write_bytes(DEEP)
    with pytest.raises(record.RecordError, match="nests more than"):
        record.load(path)
