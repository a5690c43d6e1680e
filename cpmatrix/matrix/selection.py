"""The cell options ``build``, ``package`` and ``verify`` share, typed once.

``--python``, ``--variant``, ``--platform`` and ``--profile`` name one cell (defaults: the newest
python, this machine's platform, ``release``), or with ``--all`` filter the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

from cpmatrix.matrix import Cell, Matrix, host_platform
from cpmatrix.util.errors import UsageError

HELP = {
    "python": "CPython minor or release from matrix.yaml (default: the newest); with --all, "
    "a filter (3.13,3.14)",
    "variant": "variant name or +-joined features (default: default); with --all, a filter",
    "platform": "platform name (default: this machine's); with --all, a filter",
    "profile": "release (default), optimized or debug; with --all, a filter",
    "matrix": "path to the matrix file (default: matrix.yaml, or $CPMATRIX_MATRIX)",
}


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

    def every(self, model: Matrix) -> list[Cell]:
        """``--all``: every matrix cell of this platform (or ``--platform``), filtered."""
        selection = model.selection(
            python=self.python,
            variant=self.variant,
            platform=self.platform or model.platform(host_platform()).name,
            profile=self.profile,
        )
        cells = list(model.expand(selection).cells)
        if not cells:
            raise UsageError("no cells match these filters", hint="see `invoke matrix`")
        return cells
