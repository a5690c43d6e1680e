"""Composing a consumer-image run: the archive mounted read-only, unpacked by the image's tar."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from cpmatrix.artifacts import consumers
from cpmatrix.matrix import matrixfile
from cpmatrix.util.errors import UsageError


def test_the_archive_is_mounted_read_only_and_unpacked_with_the_images_own_tar(
    tmp_path: Path,
) -> None:
    archive = tmp_path / "dist" / "cpython-3.13.5-jit-linux-x86_64.tar.gz"
    target = consumers.artifact_target(
        archive, top="cpython-3.13.5-jit-linux-x86_64", interpreter="bin/python3.13", image="b"
    )
    [mount] = target.mounts
    assert (mount.source, mount.target, mount.read_only) == (
        archive,  # the archive alone: nothing lying beside it reaches the container
        f"{consumers.ARCHIVE_MOUNT}/{archive.name}",
        True,
    )
    assert target.setup[-1] == (
        "tar",
        "-xzf",
        f"{consumers.ARCHIVE_MOUNT}/{archive.name}",
        "-C",
        consumers.UNPACK_DIR,
    )
    assert target.interpreter == (
        f"{consumers.UNPACK_DIR}/cpython-3.13.5-jit-linux-x86_64/bin/python3.13"
    )
    assert target.image == "b" and "SYS_PTRACE" in target.cap_add


def test_verify_artifact_needs_the_manifest_beside_the_archive(tmp_path: Path) -> None:
    archive = tmp_path / "cpython-3.13.5-jit-linux-x86_64.tar.gz"
    archive.write_bytes(b"")
    with pytest.raises(UsageError, match="with its manifest"):
        consumers.artifact_request(archive, matrixfile.load(), image=None)


def test_verify_artifact_takes_the_cell_from_the_manifest_and_the_image_given(
    tmp_path: Path,
) -> None:
    archive = tmp_path / "cpython-3.13.5-jit-linux-x86_64.tar.gz"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        tar.addfile(tarfile.TarInfo(f"{archive.name.removesuffix('.tar.gz')}/x"), io.BytesIO())
    archive.write_bytes(raw.getvalue())
    manifest = {
        "schema": 1,
        "id": "cpython-3.13.5-jit-linux-x86_64",
        "python": "3.13.5",
        "variant": "jit",
        "features": ["jit"],
        "platform": "linux-x86_64",
        "profile": "release",
        "cell": {},
        "artifact": {
            "file": archive.name,
            "sha256": hashlib.sha256(raw.getvalue()).hexdigest(),
            "size": len(raw.getvalue()),
        },
        "runs_on": {"os": "linux", "arch": "x86_64"},
        "proven_on": [],
        "verification": {},
        "cache": {},
    }
    (tmp_path / "cpython-3.13.5-jit-linux-x86_64.json").write_text(json.dumps(manifest))
    cell, where, _ = consumers.artifact_request(archive, matrixfile.load(), image="debian:x")
    assert cell.id == "cpython-3.13.5-jit-linux-x86_64"
    assert [(c.name, c.image) for c in where] == [("debian:x", "debian:x")]
