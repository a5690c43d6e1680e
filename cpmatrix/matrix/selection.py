"""The cell options ``matrix``, ``build``, ``package`` and ``verify`` share, defined once.

``--python``, ``--variant``, ``--platform`` and ``--profile`` name one cell (defaults: the newest
python, this machine's platform, ``release``), or with ``--all`` (and in ``invoke matrix``)
filter the matrix. A task declares them by taking ``cells: CellOptions`` and
:func:`with_cell_options`; their parsing and help text exist only here.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from cpmatrix.matrix import Cell, Matrix, Selection, host_platform
from cpmatrix.util.errors import UsageError

MATRIX_HELP = "path to the matrix file (default: matrix.yaml, or $CPMATRIX_MATRIX)"
FILTER_HELP = {
    "python": "CPython minors or releases, comma-separated (3.13,3.14)",
    "variant": "variant names or +-joined features, comma-separated (jit,freethreaded+tailcall)",
    "platform": "platform names, comma-separated (linux-x86_64)",
    "profile": "release, optimized or debug, comma-separated (default: the matrix's profiles)",
    "matrix": MATRIX_HELP,
}
"""The options as filters of the matrix (``invoke matrix``)."""
ONE_CELL_HELP = {
    "python": "CPython minor or release from matrix.yaml (default: the newest)",
    "variant": "variant name or +-joined features (default: default)",
    "platform": "platform name (default: this machine's)",
    "profile": "release (default: the quick local build), optimized (PGO + LTO, what the "
    "matrix publishes) or debug",
}
HELP = {
    **{
        name: f"{text}; with --all, a filter: {FILTER_HELP[name]}"
        for name, text in ONE_CELL_HELP.items()
    },
    "matrix": MATRIX_HELP,
}
"""The options naming one cell, or with ``--all`` filtering the matrix."""
CELL_OPTIONS = ("python", "variant", "platform", "profile")


@dataclass(frozen=True, slots=True, kw_only=True)
class CellOptions:
    """What the command line said; empty means "not given"."""

    python: str = ""
    variant: str = ""
    platform: str = ""
    profile: str = ""

    def one(self, model: Matrix) -> Cell:
        """The one cell these options name (an impossible one is refused with why)."""
        return model.cell(
            python=self.python or None,
            variant=self.variant or "default",
            platform=self.platform or None,
            profile=self.profile or None,
        )

    def filters(self, model: Matrix) -> Selection:
        """The options as filters of the matrix (comma-separated lists)."""
        return model.selection(
            python=self.python, variant=self.variant, platform=self.platform, profile=self.profile
        )

    def every(self, model: Matrix) -> list[Cell]:
        """``--all``: every matrix cell of this platform (or ``--platform``), filtered."""
        here = replace(self, platform=self.platform or model.platform(host_platform()).name)
        cells = list(model.expand(here.filters(model)).cells)
        if not cells:
            raise UsageError("no cells match these filters", hint="see `invoke matrix`")
        return cells


R = TypeVar("R")


def with_cell_options(function: Callable[..., R]) -> Callable[..., R]:
    """A task taking ``cells: CellOptions`` as one that invoke sees taking ``--python``,
    ``--variant``, ``--platform`` and ``--profile`` (strings, empty when not given) in its place;
    the wrapper builds the CellOptions from them."""
    signature = inspect.signature(function)
    params = list(signature.parameters.values())
    at = [param.name for param in params].index("cells")
    options = [
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default="", annotation=str)
        for name in CELL_OPTIONS
    ]
    parsed = signature.replace(parameters=[*params[:at], *options, *params[at + 1 :]])

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        bound = parsed.bind(*args, **kwargs)
        bound.apply_defaults()
        given = dict(bound.arguments)
        cells = CellOptions(**{name: str(given.pop(name)) for name in CELL_OPTIONS})
        return function(**given, cells=cells)

    wrapper.__signature__ = parsed  # type: ignore[attr-defined]
    return wrapper
