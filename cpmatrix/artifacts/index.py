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
from cpmatrix.artifacts import manifest, publish, sbom, uvindex
from cpmatrix.artifacts.archive import remove_stale_partials
from cpmatrix.matrix import layout
from cpmatrix.util import console, jsonfile, locks, names
from cpmatrix.util.errors import ArtifactError
from cpmatrix.util.fileio import sha256_of

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
    for path in future.values():
        publish.refuse_link(path)
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
    url = base_url_of(dist, base_url)
    files = uvindex.uv_files(entries, url)
    publish.refuse_link(dist / uvindex.UV_DIR)
    for stale in sorted((dist / uvindex.UV_DIR).glob("*.json")):
        files.setdefault(stale.name, {})
    for name, downloads in sorted(files.items()):
        publication.write_text(f"{uvindex.UV_DIR}/{name}", uvindex.dumps(downloads))


def base_url_of(dist: Path, given: str | None) -> str:
    """``--base-url``, else ``$CPMATRIX_UV_BASE_URL``, else file:// URLs into dist/; checked."""
    if given:
        return uvindex.checked_base_url(given, given_by="--base-url (the base URL)")
    from_environment = os.environ.get("CPMATRIX_UV_BASE_URL")
    if from_environment:
        return uvindex.checked_base_url(
            from_environment, given_by="CPMATRIX_UV_BASE_URL (the base URL)"
        )
    return uvindex.base_url_for(dist)


Claim = tuple[Path, str, str]
"""(file, the sha256 recorded for it, where it is recorded)."""


MAX_SUMS_BYTES = 4 << 20


def _claim(
    dist: Path, name: object, digest: object, where: str, problems: list[Problem]
) -> list[Claim]:
    """The claim that ``dist/<name>`` has ``digest``, or a problem when ``name`` is not one
    plain file name in dist/ (nothing outside dist/ is ever hashed)."""
    if not isinstance(name, str) or names.component_problem(name) is not None:
        shown = names.shown(name) if isinstance(name, str) else repr(name)[:40]
        problems.append(
            Problem(path=dist, what=f"{where} names {shown}, not a plain file name in dist/")
        )
        return []
    return [(dist / name, str(digest), where)]


def _from_sums(dist: Path, problems: list[Problem]) -> list[Claim]:
    sums = dist / SUMS
    if not sums.is_file() or sums.is_symlink():
        return []
    with sums.open("rb") as stream:
        raw = stream.read(MAX_SUMS_BYTES + 1)
    if len(raw) > MAX_SUMS_BYTES:
        problems.append(Problem(path=sums, what=f"larger than {MAX_SUMS_BYTES >> 20} MiB"))
        return []
    claims = []
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        digest, _, name = line.partition("  ")
        if line.strip():
            claims += _claim(dist, name.strip(), digest.strip(), f"{SUMS}:{number}", problems)
    return claims


def _from_index(dist: Path, problems: list[Problem]) -> list[Claim]:
    data = jsonfile.read(dist / INDEX, what="index", error=ArtifactError)
    items = data.get("artifacts", [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ArtifactError(f"{dist / INDEX}: 'artifacts' is not a list of objects")
    claims = []
    for item in items:
        where = f"{INDEX} ({names.shown(str(item.get('id')))})"
        claims += _claim(dist, item.get("file"), item.get("sha256"), where, problems)
        claims += _claim(dist, item.get("manifest"), item.get("manifest_sha256"), where, problems)
        also = item.get("also", [])
        for extra in also if isinstance(also, list) else []:
            extra = extra if isinstance(extra, dict) else {}
            claims += _claim(dist, extra.get("file"), extra.get("sha256"), where, problems)
    return claims


def _claims(dist: Path, problems: list[Problem]) -> list[Claim]:
    """Every hash dist/ records; a record that cannot be read is a problem of its own."""
    claims = _from_sums(dist, problems)
    index = dist / INDEX
    if not index.is_file():
        problems.append(Problem(path=index, what="missing (run invoke index)"))
    else:
        try:
            claims += _from_index(dist, problems)
        except ArtifactError as error:
            problems.append(Problem(path=index, what=f"unreadable: {error.message}"))
    for path in manifests(dist):
        try:
            publish.refuse_link(path)
            artifact = manifest.load(path)["artifact"]
            claims.append((dist / artifact["file"], artifact["sha256"], path.name))
        except ArtifactError as error:
            problems.append(Problem(path=path, what=f"not a valid manifest: {error.message}"))
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
        if path.is_symlink():
            problems.append(Problem(path=path, what=f"a symbolic link ({where}); not followed"))
            continue
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
        if archive.is_symlink():
            problems.append(Problem(path=archive, what="a symbolic link; not followed"))
        elif archive.name not in listed:
            problems.append(Problem(path=archive, what="no manifest or SHA256SUMS line records it"))
    return problems
