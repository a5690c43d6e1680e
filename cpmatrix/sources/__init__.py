"""CPython's source, obtained once, proven to be the published one, patched reproducibly, and
shared read-only by every variant: ``prepare(python) -> SourceTree``."""

from cpmatrix.sources.model import SourceTree
from cpmatrix.sources.prepare import prepare
from cpmatrix.sources.store import SourceCache, clean

__all__ = ["SourceCache", "SourceTree", "clean", "prepare"]
