"""Small real CPython-shaped tarballs and matching PythonRelease values for the sources tests."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from cpmatrix.features import Version
from cpmatrix.matrix import PythonRelease, Signature

SMALL_VERSION = "3.13.99"
FILES = {
    "configure": "#!/bin/sh\necho configured\n",
    "README.rst": "This is a small stand-in tree, shaped like CPython's.\n",
    "Include/patchlevel.h": '#define PY_VERSION "3.13.99"\n',
    "Lib/greeting.py": 'MESSAGE = "hello"\nCOUNT = 1\n',
}


def tarball_bytes(
    files: dict[str, str] | None = None, top: str = f"Python-{SMALL_VERSION}", mode: str = "w:xz"
) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for name, text in (files or FILES).items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            info.mode = 0o755 if name == "configure" else 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write_small_tarball(directory: Path, name: str = f"Python-{SMALL_VERSION}.tar.xz") -> Path:
    path = directory / name
    path.write_bytes(tarball_bytes())
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def small_release(url: str, data: bytes, version: str = SMALL_VERSION) -> PythonRelease:
    """A release whose matrix sha256 is that of ``data``; no signature (none is at hand)."""
    release = Version.parse(version)
    return PythonRelease(
        series=release.series,
        release=release,
        url=url,
        sha256=sha256(data),
        signature=Signature(),
    )
