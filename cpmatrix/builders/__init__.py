"""Builders: the Linux builder image, and the Docker, native POSIX and Windows builders.

A builder is picked by its kind (``docker``, ``native``, ``windows``), the Literal the matrix
uses for platforms and ``--builder``.
"""

from __future__ import annotations

from collections.abc import Callable

from cpmatrix.builders.base import Builder
from cpmatrix.matrix import BuilderKind


def _docker() -> Builder:
    from cpmatrix.builders.docker import DockerBuilder

    return DockerBuilder()


def _native() -> Builder:
    from cpmatrix.builders.posix import NativeBuilder

    return NativeBuilder()


def _windows() -> Builder:
    from cpmatrix.builders.windows import WindowsBuilder

    return WindowsBuilder()


FACTORIES: dict[BuilderKind, Callable[[], Builder]] = {
    "docker": _docker,
    "native": _native,
    "windows": _windows,
}


def builder_for(kind: BuilderKind) -> Builder:
    return FACTORIES[kind]()
