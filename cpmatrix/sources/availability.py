"""Could ``prepare()`` get a release's source, without fetching it? For ``build --dry-run``.

Answers from the cache, a short look at python.org's URL (its response headers only), and Debian's
source index where this machine already has one (no ``apt-get update``). A yes is a promise
only for the cache; the others say where the build would try.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cpmatrix import __version__
from cpmatrix.features import debian as debian_facts
from cpmatrix.matrix import PythonRelease
from cpmatrix.sources import debian, explicit
from cpmatrix.sources.model import ProviderFailed
from cpmatrix.sources.store import SourceCache

PROBE_SECONDS = 3.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Availability:
    ok: bool
    how: str
    """Where the build would get it, or why no provider could."""


def availability(
    python: PythonRelease,
    *,
    source: str | None = None,
    cache: SourceCache | None = None,
    timeout: float = PROBE_SECONDS,
) -> Availability:
    if source is not None:
        if explicit.is_checkout(source) or Path(source).is_file():
            return Availability(ok=True, how=f"--source {source}")
        return _url(source, timeout)
    cache = cache or SourceCache.default()
    if (cache.slot(python.sha256) / python.tarball_name).is_file():
        return Availability(ok=True, how="cached")
    tried = [_url(python.url, timeout), _debian_index(python, cache)]
    found = next((a for a in tried if a.ok), None)
    return found or Availability(ok=False, how="; ".join(a.how for a in tried))


def _url(url: str, timeout: float) -> Availability:
    host = urllib.parse.urlsplit(url).hostname or url
    request = urllib.request.Request(url, headers={"User-Agent": f"cpmatrix/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return Availability(ok=True, how=f"{host} serves it")  # headers only: not read
    except urllib.error.HTTPError as error:
        return Availability(ok=False, how=f"{host}: HTTP {error.code} {error.reason}")
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return Availability(ok=False, how=f"{host}: {reason or type(error).__name__}")


def _debian_index(python: PythonRelease, cache: SourceCache) -> Availability:
    package = debian_facts.interpreter_package(python.series)
    orig = debian_facts.orig_tarball(python.release)
    notes = []
    for suite in debian.suites_for(python):
        private = debian.PrivateApt(cache.apt / suite)
        if not private.config.is_file():
            notes.append(f"Debian {suite}: no source index on this machine yet")
            continue
        try:
            offered = private.show_source(package)
        except ProviderFailed as failed:
            notes.append(f"Debian {suite}: {failed.reason}")
            continue
        if any(p.files.get(orig) == python.sha256 for p in offered):
            return Availability(ok=True, how=f"Debian {suite} lists {orig}")
        versions = ", ".join(p.version for p in offered) or "none"
        notes.append(f"Debian {suite} has no {orig} ({package} there: {versions})")
    return Availability(ok=False, how="; ".join(notes))
