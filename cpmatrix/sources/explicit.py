"""``--source PATH_OR_URL``: a tarball (file or URL) or an existing CPython checkout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path

from cpmatrix.features import Version
from cpmatrix.matrix import PythonRelease
from cpmatrix.sources.download import DownloadPolicy, fetch
from cpmatrix.sources.model import ProviderFailed, SourceTree, Tarball
from cpmatrix.sources.store import SourceCache, admit
from cpmatrix.util import names
from cpmatrix.util.errors import SourceError

_PY_VERSION = re.compile(r'^#define\s+PY_VERSION\s+"(\d+)\.(\d+)\.(\d+)', re.MULTILINE)


def is_url(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in ("http", "https", "file")


def is_checkout(source: str) -> bool:
    return not is_url(source) and Path(source).is_dir()


def claims_release(python: PythonRelease, name: str) -> bool:
    """A name that says it is the matrix's release must have the matrix's sha256."""
    debian = f"python{python.series.minor_text}_{python.release}.orig.tar.xz"
    return name in (python.tarball_name, debian)


def provide_tarball(
    python: PythonRelease, cache: SourceCache, source: str, policy: DownloadPolicy
) -> Tarball:
    name = Path(urllib.parse.urlparse(source).path if is_url(source) else source).name
    if names.component_problem(name) is not None:
        raise ProviderFailed(
            f"{source[:200]} names no file (a tarball's URL or path ends in its file name)"
        )
    expected = python.sha256 if claims_release(python, name) else None
    stored = python.tarball_name if expected else name
    if is_url(source) and not source.startswith("file:"):
        return fetch(
            cache,
            source,
            name=stored,
            expected=expected,
            release_sha256=python.sha256,
            provider="explicit",
            policy=policy,
        )
    path = Path(urllib.parse.urlparse(source).path if source.startswith("file:") else source)
    if not path.is_file():
        raise ProviderFailed(f"{path} is neither a file nor a directory")
    with cache.temp_file(".copy") as copy:
        shutil.copyfile(path, copy)
        asc = path.with_name(path.name + ".asc")
        extras = {f"{stored}.asc": asc} if asc.is_file() else {}
        return admit(
            cache,
            copy,
            name=stored,
            expected=expected,
            release_sha256=python.sha256,
            origin=str(path.resolve()),
            provider="explicit",
            extras=extras,
        )


def checkout_tree(python: PythonRelease, source: str) -> SourceTree:
    """An existing checkout used in place: no sha256 applies; the git commit is recorded."""
    root = Path(source).resolve()
    release = checkout_version(root)
    if release.series != python.series:
        raise SourceError(
            f"{root} is CPython {release}, not {python.series}",
            hint=f"pass --python={release.minor_text}, or a checkout of the {python.series} branch",
        )
    if not (root / "configure").is_file():
        raise SourceError(f"{root} has no configure script; not a CPython source tree")
    if (root / "pyconfig.h").is_file():
        raise SourceError(
            f"{root} was configured in place (it has pyconfig.h); CPython then refuses the "
            "out-of-tree builds every variant makes",
            hint=f"run `make distclean` in {root}",
        )
    commit, dirty = git_state(root)
    return SourceTree(
        path=root,
        release=release,
        sha256=None,
        origin=str(root),
        provider="checkout",
        signature="not checked: a checkout has no release signature",
        git_commit=commit,
        git_dirty=dirty,
        patches=(),
        key=f"checkout-{commit or 'nogit'}{'-dirty' if dirty else ''}",
    )


def checkout_version(root: Path) -> Version:
    try:
        text = (root / "Include" / "patchlevel.h").read_text(encoding="utf-8", errors="replace")
    except OSError:
        raise SourceError(
            f"{root} is not a CPython source tree (no Include/patchlevel.h)",
            hint="--source takes a CPython checkout, a release tarball, or a tarball URL",
        ) from None
    found = _PY_VERSION.search(text)
    if found is None:
        raise SourceError(f"{root}/Include/patchlevel.h has no PY_VERSION")
    return Version(int(found.group(1)), int(found.group(2)), int(found.group(3)))


GIT_WITHOUT_HOOKS = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null")
"""Options that keep git from running commands a checkout's config names while we read it."""


def require_owned(root: Path) -> None:
    """Refuse a checkout another user owns: its git config can run commands as whoever reads
    it (``core.fsmonitor``, filters), which is why git itself refuses it (safe.directory)."""
    if not hasattr(os, "geteuid"):  # Windows: ownership is ACLs; git's own check applies
        return
    me = os.geteuid()
    for path in (root, root / ".git"):
        try:
            owner = path.lstat().st_uid
        except FileNotFoundError:
            continue
        if owner != me:
            raise SourceError(
                f"{path} is owned by uid {owner}, not by you (uid {me}): cpmatrix does not run "
                "git in another user's checkout, whose config could run commands as you",
                hint=f"clone it into a directory you own (git clone {root} ...), or pass a "
                "release tarball",
            )


def git_state(root: Path) -> tuple[str | None, bool | None]:
    """(HEAD commit, whether tracked files differ from it) or (None, None) outside git.

    Never overrides ``safe.directory``; runs git with hooks and fsmonitor switched off.
    """
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        return None, None
    require_owned(root)
    base = [git, *GIT_WITHOUT_HOOKS, "-C", str(root)]
    head = subprocess.run([*base, "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode != 0:
        return None, None
    status = subprocess.run(
        [*base, "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    )
    return head.stdout.strip(), bool(status.stdout.strip())
