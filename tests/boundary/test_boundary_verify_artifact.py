"""Class 9 of issue 21: `invoke verify --artifact` mounts only the archive, checks it against
its manifest before any container starts, and bounds what it unpacks."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from artifactkit import jit_manifest

from cpmatrix.artifacts import consumers
from cpmatrix.matrix import matrixfile
from cpmatrix.util.errors import ArtifactError

CELL = "cpython-3.13.5-jit-linux-x86_64"


def archive_bytes(members: dict[str, int]) -> bytes:
    """A gzipped tar under CELL/ whose members are that many zero bytes each."""
    raw = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) as gz,
        tarfile.open(
            fileobj=gz,
            mode="w",
            format=tarfile.PAX_FORMAT,  # type: ignore[arg-type]
        ) as tar,
    ):
        top = tarfile.TarInfo(CELL)
        top.type = tarfile.DIRTYPE
        tar.addfile(top)
        for name, size in members.items():
            info = tarfile.TarInfo(f"{CELL}/{name}")
            info.size = size
            tar.addfile(info, io.BytesIO(bytes(size)) if size < 1 << 20 else ZeroStream(size))
    return raw.getvalue()


class ZeroStream(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count

    def readable(self) -> bool:
        return True


def published(tmp_path: Path, data: bytes, **artifact: Any) -> Path:
    archive = tmp_path / f"{CELL}.tar.gz"
    archive.write_bytes(data)
    manifest = jit_manifest(data, **artifact)
    (tmp_path / f"{CELL}.json").write_text(json.dumps(manifest))
    return archive


@pytest.mark.parametrize("wrong", [{"sha256": "0" * 64}, {"size": 1}], ids=["sha256", "size"])
def test_an_archive_its_manifest_does_not_describe_is_refused(
    tmp_path: Path, wrong: dict[str, Any]
) -> None:
    archive = published(tmp_path, archive_bytes({"bin/python3.13": 3}), **wrong)
    with pytest.raises(ArtifactError, match="not the archive its manifest describes"):
        consumers.artifact_request(archive, matrixfile.load(), image="debian:x")


def test_a_member_larger_than_an_artifact_holds_is_refused_before_any_container(
    tmp_path: Path,
) -> None:
    data = archive_bytes({"bin/python3.13": 3, "bomb": 300 << 20})
    assert len(data) < 2 << 20  # ~1.4 MB of gzip
    archive = published(tmp_path, data)
    with pytest.raises(ArtifactError, match="refused"):
        consumers.artifact_request(archive, matrixfile.load(), image="debian:x")


def test_an_archive_of_another_top_directory_is_refused(tmp_path: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        info = tarfile.TarInfo("other/x")
        tar.addfile(info, io.BytesIO(b""))
    archive = published(tmp_path, raw.getvalue())
    with pytest.raises(ArtifactError, match="unpacks to 'other'"):
        consumers.artifact_request(archive, matrixfile.load(), image="debian:x")


def test_only_the_archive_is_mounted(tmp_path: Path) -> None:
    archive = published(tmp_path, archive_bytes({"bin/python3.13": 3}))
    (tmp_path / "secret.txt").write_text("next to the archive")
    target = consumers.artifact_target(
        archive, top=CELL, interpreter="bin/python3.13", image="debian:x"
    )
    assert [mount.source for mount in target.mounts] == [archive]


def test_a_good_archive_passes(tmp_path: Path) -> None:
    archive = published(tmp_path, archive_bytes({"bin/python3.13": 3}))
    cell, where, _ = consumers.artifact_request(archive, matrixfile.load(), image="debian:x")
    assert cell.id == CELL and [c.image for c in where] == ["debian:x"]


@pytest.mark.docker
def test_the_container_sees_the_archive_and_nothing_beside_it(
    tmp_path: Path, docker_engine: None
) -> None:
    from cpmatrix.verify.runner import open_place

    archive = published(tmp_path, archive_bytes({"bin/python3.13": 3}))
    (tmp_path / "secret.txt").write_text("next to the archive")
    target = consumers.artifact_target(
        archive, top=CELL, interpreter="bin/python3.13", image="cpmatrix-base:trixie"
    )
    with open_place(target) as place:
        listed = place.run(["ls", "-A", consumers.ARCHIVE_MOUNT], timeout=60)
        unpacked = place.run(["ls", f"{consumers.UNPACK_DIR}/{CELL}/bin"], timeout=60)
    assert listed.output.split() == [archive.name]
    assert unpacked.output.split() == ["python3.13"]
