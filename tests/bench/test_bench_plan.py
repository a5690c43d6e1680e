"""From `invoke bench` options to columns: built cells are their dist/ artifacts by default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cpmatrix.bench.columns import Artifact
from cpmatrix.bench.plan import Options, artifact_column, cell_columns, parse_variants
from cpmatrix.matrix import matrixfile
from cpmatrix.util.errors import UsageError

CELL = "cpython-3.13.5-freethreaded-linux-x86_64"


def test_variants_may_name_a_profile_each() -> None:
    assert parse_variants("default, jit,default:optimized") == [
        ("default", None),
        ("jit", None),
        ("default", "optimized"),
    ]


def test_a_cell_without_a_published_artifact_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPMATRIX_DIST_DIR", str(tmp_path))
    cell = matrixfile.load().cell(python="3.13", variant="freethreaded", platform="linux-x86_64")
    with pytest.raises(UsageError, match="no published artifact") as error:
        artifact_column("freethreaded", cell, "")
    assert "invoke build" in (error.value.hint or "")
    assert "--from-build" in (error.value.hint or "")


def test_a_published_cell_is_its_archive_unpacked_in_the_newest_consumer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPMATRIX_DIST_DIR", str(tmp_path))
    (tmp_path / f"{CELL}.tar.gz").write_bytes(b"")
    manifest = {
        "schema": 1,
        "id": CELL,
        "python": "3.13.5",
        "variant": "freethreaded",
        "features": ["freethreaded"],
        "profile": "release",
        "platform": "linux-x86_64",
        "cell": {},
        "runs_on": {"os": "linux", "arch": "x86_64"},
        "proven_on": [],
        "artifact": {"file": f"{CELL}.tar.gz", "sha256": "ab" * 32, "size": 42},
        "verification": {"passed": True},
        "cache": {},
        "build": {
            "command": {"tool": "configure", "argv": ["--disable-gil"]},
            "duration_seconds": 301.5,
            "phases": {"compile": 200.0},
            "toolchain": {"cc": "clang-19"},
        },
    }
    (tmp_path / f"{CELL}.json").write_text(json.dumps(manifest))
    columns, builds = cell_columns(
        Options(python="3.13", variants="freethreaded", matrix="", consumer="")
    )
    (column,) = columns
    assert column.image == Artifact(
        archive=tmp_path / f"{CELL}.tar.gz",
        top=CELL,
        interpreter="bin/python3.13t",
        consumer="trixie",
    )
    assert column.interpreter == f"/opt/consumer/{CELL}/bin/python3.13t"
    assert column.where == f"{CELL}.tar.gz unpacked in bare Debian trixie"
    assert builds[CELL]["build_seconds"] == 301.5
    assert builds[CELL]["configure"] == ["--disable-gil"]
    bullseye, _ = artifact_column("x", matrixfile.load().cell_by_id(CELL), "bullseye")
    assert isinstance(bullseye.image, Artifact) and bullseye.image.consumer == "bullseye"
