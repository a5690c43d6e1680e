"""The build cache: a cell's content key, and the verified artifact built under it.

A cell's key hashes everything that decides its output: the source's sha256, the patch set,
the configure (or build.bat) switches, the profile, the builder image or compiler versions,
and cpmatrix's version. Each manifest in dist/ records the key it was built under, so an
unchanged cell whose verified artifact is intact is found instead of rebuilt. Resolving the
key is cheap: it asks the Docker engine for the builder image's id (the image is built only
where it is missing, as any build would need it) or a compiler for its version line.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, assert_never

import cpmatrix
from cpmatrix import features as fx
from cpmatrix.artifacts import manifest
from cpmatrix.builders import portable
from cpmatrix.matrix import BuilderKind, Cell, layout
from cpmatrix.util import console
from cpmatrix.util.errors import ArtifactError
from cpmatrix.util.fileio import sha256_of

KEY_SCHEMA = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentKey:
    digest: str
    inputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Artifact:
    cell_id: str
    archive: Path
    manifest: Path
    sha256: str
    size: int
    key: str
    cached: bool


# -- the key ----------------------------------------------------------------------------------


def build_arguments(cell: Cell) -> tuple[str, ...]:
    """The configure or build.bat switches that shape this cell's output."""
    if cell.platform.os == "windows":
        arch = fx.windows_arch(cell.platform.arch) or "x64"
        return fx.buildbat_arguments(cell.version, cell.features, cell.profile, arch)
    return fx.configure_arguments(cell.version, cell.features, cell.profile)


def _version_line(command: str) -> str:
    try:
        done = subprocess.run(
            [command, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else f"exit {done.returncode}"


def compiler_versions(cell: Cell) -> dict[str, str]:
    """First ``--version`` lines of the host compiler and LLVM tools a native build uses."""
    chain = fx.posix_toolchain(cell.version, cell.features, cell.platform.os)
    compiler = chain.cc or os.environ.get("CC", "cc").split()[0]
    tools = {compiler, *(tool.command for tool in chain.tools if tool.command != "python3")}
    return {name: _version_line(name) for name in sorted(tools)}


def toolchain_identity(
    cell: Cell, kind: BuilderKind | None = None, identity: Mapping[str, object] | None = None
) -> dict[str, str]:
    """What compiles the cell, found cheaply (the builder's identity, compiler versions)."""
    chosen = kind or cell.platform.builder
    if identity is None:
        from cpmatrix import builders

        identity = builders.builder_for(chosen).identity()
    found = {name: str(value) for name, value in identity.items()}
    match chosen:
        case "docker":
            pass  # the image id covers the compilers and LLVM inside it
        case "native":
            found.update(compiler_versions(cell))
        case "windows":
            found["toolset"] = fx.windows_toolset(cell.version, cell.features)
            found["vc_tools"] = os.environ.get("VCToolsVersion", "unknown")  # noqa: SIM112
        case _:
            assert_never(chosen)
    return found


SOURCE_FIELDS = ("sha256", "patchset", "git_commit", "git_dirty")
"""What identifies a source tree in its record (``SourceTree.record()``, build.json's source)."""


def source_identity(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in SOURCE_FIELDS}


def matrix_source(cell: Cell) -> dict[str, Any]:
    """The identity of the matrix's own tarball with this repository's patches for its series."""
    from cpmatrix.sources import patches

    digest = patches.for_version(cell.python.series).digest
    return {"sha256": cell.python.sha256, "patchset": digest}


def cacheable(source: Mapping[str, Any]) -> bool:
    """A checkout with uncommitted changes has no identity a key could capture."""
    return not source.get("git_dirty")


def content_key(
    cell: Cell,
    *,
    toolchain: Mapping[str, str],
    source: Mapping[str, Any],
    kind: BuilderKind | None = None,
) -> ContentKey:
    """The key of a cell's output, from inputs the caller resolved (a pure function)."""
    inputs: dict[str, Any] = {
        "key_schema": KEY_SCHEMA,
        "cpmatrix": cpmatrix.__version__,
        "cell": cell.id,
        "source": source_identity(source),
        "arguments": list(build_arguments(cell)),
        "profile": cell.profile,
        "builder": kind or cell.platform.builder,
        "toolchain": dict(sorted(toolchain.items())),
        "portable": portable.scripts_digest(),
    }
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return ContentKey(digest=hashlib.sha256(canonical.encode()).hexdigest(), inputs=inputs)


def current_key(
    cell: Cell,
    *,
    source: Mapping[str, Any] | None = None,
    kind: BuilderKind | None = None,
    identity: Mapping[str, object] | None = None,
) -> ContentKey:
    """The key this machine would build the cell under now.

    ``source`` is the source tree's record (default: the matrix's tarball and patches);
    ``identity`` the builder's (default: asked of a new builder of `kind`).
    """
    return content_key(
        cell,
        toolchain=toolchain_identity(cell, kind, identity),
        source=source if source is not None else matrix_source(cell),
        kind=kind,
    )


# -- the cache --------------------------------------------------------------------------------


def reusable(
    cell: Cell, key: ContentKey, *, force: bool, verify: bool, dist: Path | None = None
) -> Artifact | None:
    """The artifact a build may return instead of building: never with --force, and only
    when verification is on (the cache holds verified artifacts for verified runs)."""
    if force or not verify:
        return None
    return find_cached(cell, key, dist)


def find_cached(cell: Cell, key: ContentKey, dist: Path | None = None) -> Artifact | None:
    """The verified, intact artifact built under this key, or None (with why, as detail)."""
    where = dist or layout.dist_root()
    manifest_path = where / manifest.manifest_name(cell.id)
    if not manifest_path.is_file():
        return None
    if not cacheable(key.inputs.get("source", {})):
        console.detail(f"{cell.id}: not cached: the checkout has uncommitted changes")
        return None
    try:
        data = manifest.load(manifest_path)
    except ArtifactError as error:
        console.detail(f"{cell.id}: cache miss: {error.message}")
        return None
    archive = where / data["artifact"]["file"]
    reason = None
    if archive.is_symlink() or manifest_path.is_symlink():
        reason = "it is a symbolic link (links in dist/ are never followed)"
    elif data["cache"].get("key") != key.digest:
        reason = "its inputs changed (key differs)"
    elif not data["verification"].get("passed"):
        reason = "the artifact is not verified"
    elif not archive.is_file() or archive.stat().st_size != data["artifact"]["size"]:
        reason = f"{archive.name} is missing or has the wrong size"
    elif sha256_of(archive) != data["artifact"]["sha256"]:
        reason = f"{archive.name} does not match its recorded sha256"
    if reason is not None:
        console.detail(f"{cell.id}: cache miss: {reason}")
        return None
    return Artifact(
        cell_id=cell.id,
        archive=archive,
        manifest=manifest_path,
        sha256=data["artifact"]["sha256"],
        size=data["artifact"]["size"],
        key=key.digest,
        cached=True,
    )
