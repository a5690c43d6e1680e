"""``prepare()``: providers in order until one yields a verified tarball, then the signature,
then one shared read-only tree per (tarball sha256, patch set)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import assert_never

from cpmatrix.matrix import PythonRelease
from cpmatrix.sources import debian, explicit, extract, patches, signature
from cpmatrix.sources.download import DownloadPolicy, fetch
from cpmatrix.sources.model import (
    DEFAULT_PROVIDERS,
    Attempt,
    ProviderFailed,
    ProviderName,
    SourceTree,
    Tarball,
)
from cpmatrix.sources.store import (
    SourceCache,
    cached_tarball,
    make_read_only,
    refuse_shared,
    remove_tree,
)
from cpmatrix.util import console, jsonfile, treedigest
from cpmatrix.util.errors import SourceError
from cpmatrix.util.fileio import sha256_of, write_json_atomic


def prepare(
    python: PythonRelease,
    *,
    source: str | None = None,
    cache: SourceCache | None = None,
    patches_root: Path | None = None,
    providers: Sequence[ProviderName] | None = None,
    policy: DownloadPolicy | None = None,
) -> SourceTree:
    """The verified, patched, read-only source tree for ``python``.

    Without ``source`` the providers are the cache, python.org's URL, then Debian's source
    packages; an explicit ``source`` (tarball path/URL, or a checkout used in place) is the only
    provider. Every failure is collected; if none succeeds the SourceError lists them all.
    """
    if source is not None and explicit.is_checkout(source):
        tree = explicit.checkout_tree(python, source)
        state = " (with uncommitted changes)" if tree.git_dirty else ""
        console.info(f"source: checkout {tree.path} at {tree.git_commit or 'no git'}{state}")
        return tree
    cache = (cache or SourceCache.default()).open()
    policy = policy or DownloadPolicy.from_environment()
    patchset = patches.for_version(python.series, patches_root)
    chain = tuple(providers or (("explicit",) if source else DEFAULT_PROVIDERS))
    with cache.lock(f"fetch-{python.release}"):
        cache.sweep()
        tarball = _with_known_key(python, cache, obtain(python, cache, chain, source, policy))
        status = signature.check(python, tarball)
        if status.startswith("verified"):
            _remember_key(python, cache, tarball)
        tree = _tree(python, tarball, patchset, cache, status)
    console.info(f"source: CPython {tree.release} via {tree.provider} ({tree.origin})")
    console.info(f"source: sha256 {tree.sha256}; signature {status}")
    return tree


def obtain(
    python: PythonRelease,
    cache: SourceCache,
    chain: Sequence[ProviderName],
    source: str | None,
    policy: DownloadPolicy,
) -> Tarball:
    attempts: list[Attempt] = []
    for name in chain:
        console.progress(f"source: trying {name} for CPython {python.release}")
        try:
            tarball = _run_provider(name, python, cache, source, policy)
        except ProviderFailed as failed:
            attempts.append(Attempt(provider=name, outcome=failed.reason))
            report = console.warn if failed.alarming else console.info
            report(f"source: {attempts[-1]}")
            continue
        return tarball
    tried = "\n".join(f"  {attempt}" for attempt in attempts)
    hint = (
        "--source takes a release tarball (path or URL) or a CPython checkout"
        if source
        else "pass --source PATH_OR_URL (a release tarball or a CPython checkout), or make "
        "python.org or a Debian mirror reachable"
    )
    raise SourceError(
        f"could not obtain CPython {python.release} ({python.tarball_name}):\n{tried}", hint=hint
    )


def _run_provider(
    name: ProviderName,
    python: PythonRelease,
    cache: SourceCache,
    source: str | None,
    policy: DownloadPolicy,
) -> Tarball:
    match name:
        case "cache":
            return from_cache(python, cache)
        case "explicit":
            if source is None:
                raise ProviderFailed("no --source given")
            return explicit.provide_tarball(python, cache, source, policy)
        case "url":
            wants_asc = python.signature.kind == "pgp"
            return fetch(
                cache,
                python.url,
                name=python.tarball_name,
                expected=python.sha256,
                release_sha256=python.sha256,
                provider="url",
                policy=policy,
                signature_url=f"{python.url}.asc" if wants_asc else None,
            )
        case "debian":
            return debian.provide(python, cache)
        case _:
            assert_never(name)


def from_cache(python: PythonRelease, cache: SourceCache) -> Tarball:
    """The cached tarball, re-hashed on every use; a corrupt one is removed and fetched again."""
    path = cache.slot(python.sha256) / python.tarball_name
    if not path.is_file():
        raise ProviderFailed(f"no {python.tarball_name} in {cache.tarballs}")
    actual = sha256_of(path)
    if actual != python.sha256:
        path.unlink(missing_ok=True)
        raise ProviderFailed(
            f"cached {path} is corrupt: expected sha256 {python.sha256}, got {actual}; "
            "removed, fetching again",
            alarming=True,
        )
    return cached_tarball(cache, actual, python.tarball_name, matrix_release=True, reused=True)


def _known_key_path(python: PythonRelease, cache: SourceCache) -> Path | None:
    fingerprint = python.signature.pgp_fingerprint
    return cache.root / "keys" / f"{fingerprint}.asc" if fingerprint else None


def _with_known_key(python: PythonRelease, cache: SourceCache, tarball: Tarball) -> Tarball:
    """A key that verified this release manager's signature before (e.g. Debian's copy) lets a
    python.org ``.asc`` be checked too."""
    known = _known_key_path(python, cache)
    if tarball.key_file is None and known is not None and known.is_file():
        return dataclasses.replace(tarball, key_file=known)
    return tarball


def _remember_key(python: PythonRelease, cache: SourceCache, tarball: Tarball) -> None:
    known = _known_key_path(python, cache)
    if known is None or tarball.key_file is None or known.is_file():
        return
    known.parent.mkdir(parents=True, exist_ok=True)
    with cache.temp_file(".asc") as temp:
        shutil.copyfile(tarball.key_file, temp)
        temp.replace(known)


def tree_key(tarball_sha256: str, patchset_digest: str) -> str:
    return f"{tarball_sha256[:16]}-{patchset_digest[:16]}"


def _tree(
    python: PythonRelease,
    tarball: Tarball,
    patchset: patches.PatchSet,
    cache: SourceCache,
    status: str,
) -> SourceTree:
    key = tree_key(tarball.sha256, patchset.digest)
    final = cache.trees / key
    with cache.lock(f"tree-{key}"):
        for made in (final, listing_path(final)):
            if made.exists():
                refuse_shared(made)
        damage = tree_damage(final)
        if damage is not None and final.exists():
            console.warn(f"source: cached tree {final} is damaged ({damage}); rebuilding it")
            _set_aside(final, cache)
        if damage is not None:
            _build_tree(tarball, patchset, cache, final)
    release = explicit.checkout_version(final)
    if tarball.matrix_release and release != python.release:
        raise SourceError(
            f"{tarball.path.name} ({tarball.origin}) is CPython {release}, not {python.release}",
            hint="matrix.yaml's release and sha256 must name the same tarball",
        )
    if release.series != python.series:
        raise SourceError(f"{tarball.origin} is CPython {release}, not {python.series}")
    return SourceTree(
        path=final,
        release=release,
        sha256=tarball.sha256,
        origin=tarball.origin,
        provider=tarball.provider,
        signature=status,
        git_commit=None,
        patches=patchset.names,
        key=key,
        patchset=patchset.digest,
    )


def _set_aside(tree: Path, cache: SourceCache) -> None:
    """Move a tree out of the way rather than delete it: a build may have it mounted right
    now. It waits in tmp/ (touched, so the sweep keeps it a day) and is swept later."""
    aside = Path(tempfile.mkdtemp(prefix="set-aside-", dir=cache.tmp))
    tree.chmod(stat.S_IMODE(tree.stat().st_mode) | stat.S_IWUSR)
    tree.replace(aside / tree.name)
    os.utime(aside)


def listing_path(tree: Path) -> Path:
    """What ``trees/<key>`` held when it was made: ``listings/<key>.json``, outside the tree."""
    return tree.parent.parent / "listings" / f"{tree.name}.json"


def tree_damage(tree: Path) -> str | None:
    """Why a cached tree cannot be handed out (missing, unlisted, changed), or None.

    Cheap: lstat of every entry against the listing made with the tree (type, size, mtime).
    """
    if not tree.is_dir():
        return "not extracted yet"
    try:
        listed = jsonfile.read(listing_path(tree), what="tree listing", error=SourceError)
    except SourceError:
        return "no readable listing of what it held"
    found = treedigest.changes(tree, listed, limit=3)
    return ", ".join(found) if found else None


def _build_tree(
    tarball: Tarball, patchset: patches.PatchSet, cache: SourceCache, final: Path
) -> None:
    """Extract and patch in scratch space; rename into place only when complete."""
    console.progress(f"source: extracting {tarball.path.name}")
    with cache.temp_dir("tree-") as scratch:
        (scratch / "x").mkdir()
        try:
            top = extract.extract(tarball.path, scratch / "x")
        except extract.Refused as refused:
            if tarball.path.parent.parent == cache.tarballs:
                remove_tree(tarball.path.parent)  # its slot: never served again
            raise extract.Refused(
                f"{refused.message}; removed it from the cache ({tarball.path.parent})",
                hint=refused.hint,
            ) from None
        patches.apply(patchset, top, scratch)
        make_read_only(top)
        top.chmod(stat.S_IMODE(top.stat().st_mode) | stat.S_IWUSR)
        final.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(listing_path(final), treedigest.listing(top))
        top.replace(final)
        final.chmod(stat.S_IMODE(final.stat().st_mode) & ~0o222)
