"""``dist/index.json`` and ``dist/SHA256SUMS``: how a consumer finds and checks an artifact.

The index lists every artifact with the manifest fields a consumer selects on (python, variant,
platform, profile, min glibc), so nobody has to guess a file name. SHA256SUMS is what
``sha256sum -c`` reads. Both are rewritten from the manifests in dist/, under a lock, as part
of a publication (:mod:`~cpmatrix.artifacts.publish`); ``check`` re-hashes every file and
reports each that does not match.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cpmatrix
from cpmatrix import console, layout, locks
from cpmatrix.artifacts import manifest, publish, sbom, uvindex
from cpmatrix.artifacts.archive import remove_stale_partials
from cpmatrix.errors import ArtifactError
from cpmatrix.fileio import sha256_of

INDEX = "index.json"
SUMS = "SHA256SUMS"
INDEX_SCHEMA = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    path: Path
    what: str

    def __str__(self) -> str:
        return f"{self.path.name}: {self.what}"


def lock(dist: Path) -> contextlib.AbstractContextManager[None]:
    """One writer at a time per dist directory; the lock lives in the cache, not in dist/.

    A second ``invoke package`` says it is waiting, and for whom.
    """
    digest = hashlib.sha256(str(dist.resolve()).encode()).hexdigest()[:16]
    path = layout.cache_dir() / "locks" / f"dist-{digest}.lock"
    return locks.held(path, purpose=f"writing {dist}", gave_up=ArtifactError)


def is_manifest(name: str) -> bool:
    """dist/'s JSON files other than the index and the SBOMs (``<cell-id>.cdx.json``)."""
    return name.endswith(".json") and name != INDEX and not name.endswith(sbom.SUFFIX)


def manifests(dist: Path) -> Iterator[Path]:
    for path in sorted(dist.glob("*.json")):
        if is_manifest(path.name):
            yield path


def entry(data: dict[str, Any], manifest_path: Path) -> dict[str, Any]:
    artifact, runs_on, cell = data["artifact"], data.get("runs_on", {}), data.get("cell", {})
    return {
        "id": data["id"],
        "python": data.get("python"),
        "series": cell.get("series"),
        "variant": data.get("variant"),
        "features": data.get("features", []),
        "platform": data.get("platform"),
        "os": runs_on.get("os"),
        "arch": runs_on.get("arch"),
        "profile": data.get("profile"),
        "file": artifact["file"],
        "sha256": artifact["sha256"],
        "size": artifact["size"],
        "also": list(artifact.get("also", [])),
        "proven_on": [proof.get("consumer") for proof in data.get("proven_on", [])],
        "interpreter": artifact.get("interpreter"),
        "min_glibc": runs_on.get("min_glibc"),
        "needed_libraries": runs_on.get("needed_libraries", []),
        "verified": bool(data["verification"].get("passed")),
        "manifest": manifest_path.name,
        "manifest_sha256": sha256_of(manifest_path),
        "cache_key": data["cache"].get("key"),
    }


def write_index(dist: Path, *, base_url: str | None = None) -> list[dict[str, Any]]:
    """Rewrite index.json, SHA256SUMS and uv/*.json from the manifests in dist; returns the
    entries."""
    dist.mkdir(parents=True, exist_ok=True)
    with lock(dist), publish.publication(dist) as publication:
        entries = stage_index(publication, base_url=base_url)
        publication.commit()
        return entries


def stage_index(
    publication: publish.Publication, *, base_url: str | None = None
) -> list[dict[str, Any]]:
    """Stage index.json and SHA256SUMS for dist/ as it will be once ``publication`` commits:
    its manifests, with the staged ones in place of those they replace."""
    remove_stale_partials(publication.dist)
    future = {path.name: path for path in manifests(publication.dist)}
    future.update(
        (name, path) for name, path in publication.staged(".json").items() if is_manifest(name)
    )
    entries = [entry(manifest.load(path), path) for _, path in sorted(future.items())]
    index = {
        "schema": INDEX_SCHEMA,
        "generated_by": f"cpmatrix {cpmatrix.__version__}",
        "artifacts": entries,
    }
    publication.write_text(INDEX, json.dumps(index, indent=2, sort_keys=True) + "\n")
    sums = sorted(
        [(e["sha256"], e["file"]) for e in entries]
        + [(e["manifest_sha256"], e["manifest"]) for e in entries]
        + [(extra["sha256"], extra["file"]) for e in entries for extra in e["also"]],
        key=lambda pair: pair[1],
    )
    publication.write_text(SUMS, "".join(f"{digest}  {name}\n" for digest, name in sums))
    stage_uv_files(publication, entries, base_url)
    return entries


def stage_uv_files(
    publication: publish.Publication, entries: list[dict[str, Any]], base_url: str | None
) -> None:
    """``dist/uv/<variant>.json`` for uv's ``--python-downloads-json-url``, staged with the
    index; a variant no longer in dist/ keeps its file, emptied."""
    dist = publication.dist
    url = base_url or os.environ.get("CPMATRIX_UV_BASE_URL") or uvindex.base_url_for(dist)
    files = uvindex.uv_files(entries, url)
    for stale in sorted((dist / uvindex.UV_DIR).glob("*.json")):
        files.setdefault(stale.name, {})
    for name, downloads in sorted(files.items()):
        publication.write_text(f"{uvindex.UV_DIR}/{name}", uvindex.dumps(downloads))


Claim = tuple[Path, str, str]
"""(file, the sha256 recorded for it, where it is recorded)."""


def _from_sums(dist: Path) -> list[Claim]:
    sums = dist / SUMS
    if not sums.is_file():
        return []
    claims = []
    for number, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), 1):
        digest, _, name = line.partition("  ")
        if line.strip():
            claims.append((dist / name.strip(), digest.strip(), f"{SUMS}:{number}"))
    return claims


def _from_index(dist: Path) -> list[Claim]:
    claims = []
    for item in json.loads((dist / INDEX).read_text(encoding="utf-8")).get("artifacts", []):
        where = f"{INDEX} ({item['id']})"
        claims.append((dist / item["file"], item["sha256"], where))
        claims.append((dist / item["manifest"], item["manifest_sha256"], where))
        for extra in item.get("also", []):
            claims.append((dist / extra["file"], extra["sha256"], where))
    return claims


def _claims(dist: Path, problems: list[Problem]) -> list[Claim]:
    """Every hash dist/ records; a record that cannot be read is a problem of its own."""
    claims = _from_sums(dist)
    index = dist / INDEX
    if not index.is_file():
        problems.append(Problem(path=index, what="missing (run invoke index)"))
    else:
        try:
            claims += _from_index(dist)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            problems.append(Problem(path=index, what=f"unreadable: {error}"))
    for path in manifests(dist):
        try:
            artifact = manifest.load(path)["artifact"]
            claims.append((dist / artifact["file"], artifact["sha256"], path.name))
        except (ArtifactError, KeyError, TypeError) as error:
            problems.append(Problem(path=path, what=f"not a valid manifest: {error}"))
    return claims


def check(dist: Path) -> list[Problem]:
    """Every file whose content does not match a sha256 that dist/ records for it.

    A publication a crash interrupted is finished or discarded first (under dist's lock).
    """
    if dist.is_dir():
        with lock(dist):
            done = publish.recover(dist)
        if done is not None:
            console.info(f"{dist}: {done}")
    problems: list[Problem] = []
    claims = _claims(dist, problems)
    seen: dict[Path, str] = {}
    for path, expected, where in claims:
        if not path.is_file():
            problems.append(Problem(path=path, what=f"missing, but {where} records it"))
            continue
        actual = seen.setdefault(path, sha256_of(path))
        if actual != expected:
            problems.append(
                Problem(path=path, what=f"sha256 {actual} does not match {expected} ({where})")
            )
    listed = {path.name for path, _, _ in claims}
    for archive in sorted(dist.glob(f"*.{manifest.ARCHIVE_FORMAT}")):
        if archive.name not in listed:
            problems.append(Problem(path=archive, what="no manifest or SHA256SUMS line records it"))
    return problems
