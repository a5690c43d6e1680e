"""What ``invoke verify`` was asked: a built cell, an interpreter on this machine, or one in an
image; turned into a target, an expectation and where the report goes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cpmatrix.features import Version
from cpmatrix.matrix import Matrix, layout
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util.errors import UsageError
from cpmatrix.verify.report import Expectation
from cpmatrix.verify.runner import Target, Where, local_target

WHERE: tuple[Where, ...] = ("auto", "host", "builder")


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    target: Target
    expect: Expectation
    paths: CellPaths


def for_cell(
    model: Matrix,
    *,
    python: str | None,
    variant: str,
    platform: str | None,
    profile: str | None,
    where: Where = "auto",
) -> Request:
    """A cell built into ``build/<cell-id>/install``."""
    cell = model.cell(python=python, variant=variant, platform=platform, profile=profile)
    paths = CellPaths.of(cell.id)
    interpreter = paths.install / layout.interpreter_in_tree(
        cell.version, cell.features, cell.profile, cell.platform.os
    )
    if not interpreter.is_file():
        raise UsageError(
            f"cell {cell.id} is not built: {interpreter} does not exist",
            hint=f"build it first: invoke build --python={cell.version} --variant={variant}",
        )
    target = local_target(interpreter, where=where, description=f"{cell.id} ({interpreter})")
    return Request(target=target, expect=Expectation.of_cell(cell), paths=paths)


def for_interpreter(
    model: Matrix,
    *,
    interpreter: str,
    expect: str,
    python: str | None,
    image: str | None,
    where: Where = "auto",
) -> Request:
    """Any interpreter: on this machine (``image`` None) or inside an image."""
    if not expect:
        raise UsageError(
            "--interpreter needs --expect: the variant it claims to be",
            hint="e.g. --expect jit-off, or features joined with + (freethreaded+tailcall)",
        )
    features = model.variant(expect).features
    version = _version(python)
    expectation = Expectation(features=features, python=version)
    if image:
        target = Target(
            interpreter=interpreter, image=image, description=f"{interpreter} in {image}"
        )
    else:
        path = Path(interpreter)
        if not path.is_file():
            raise UsageError(
                f"--interpreter {interpreter} does not exist on this machine",
                hint="give --image IMAGE if it lives inside a container image",
            )
        target = local_target(path, where=where)
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", f"{image or 'host'}-{interpreter}").strip("-")
    return Request(
        target=target, expect=expectation, paths=CellPaths.of(f"verify-{slug}-as-{expect}")
    )


def _version(python: str | None) -> Version | None:
    """``--python`` for an interpreter we did not build: a minor (3.14) or a release."""
    if not python:
        return None
    try:
        return Version.parse(python)
    except ValueError as error:
        raise UsageError(f"--python: {error}") from None
