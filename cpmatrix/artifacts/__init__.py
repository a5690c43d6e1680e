"""Artifacts: packaging verified cells into ``dist/``, the index, and the build cache.

The pipeline and the tasks call this package's top level only:

- :mod:`~cpmatrix.artifacts.archive`: deterministic tarballs and their sha256;
- :mod:`~cpmatrix.artifacts.manifest`: the manifest beside each archive;
- :mod:`~cpmatrix.artifacts.index`: ``dist/index.json``, ``dist/SHA256SUMS`` and their check;
- :mod:`~cpmatrix.artifacts.cache`: a cell's content key and the artifact built under it;
- :mod:`~cpmatrix.artifacts.packaging`: a built, verified cell into ``dist/``;
- :mod:`~cpmatrix.artifacts.release`: accept → gate → stage → prove → publish, in one place.
"""

from __future__ import annotations

from cpmatrix.artifacts.cache import (
    Artifact,
    ContentKey,
    content_key,
    current_key,
    find_cached,
    reusable,
)
from cpmatrix.artifacts.index import check, write_index
from cpmatrix.artifacts.packaging import built_cells, extract, package
from cpmatrix.artifacts.release import ProofTime, Published, release

__all__ = [
    "Artifact",
    "ContentKey",
    "ProofTime",
    "Published",
    "built_cells",
    "check",
    "content_key",
    "current_key",
    "extract",
    "find_cached",
    "package",
    "release",
    "reusable",
    "write_index",
]
