"""The URL provider: HTTP(S) downloads with a timeout, retries with backoff (none on 4xx), into a
temp file that enters the cache only once its sha256 matches."""

from __future__ import annotations

import http.client
import math
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cpmatrix import __version__
from cpmatrix.sources.model import ProviderFailed, ProviderName, Tarball
from cpmatrix.sources.store import SourceCache, admit
from cpmatrix.util import console
from cpmatrix.util.errors import UsageError

CHUNK = 1 << 20


MAX_TIMEOUT = 86400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DownloadPolicy:
    timeout: float = 15.0
    connect_timeout: float = 5.0
    attempts: int = 3
    backoff: float = 1.0

    @classmethod
    def from_environment(cls) -> DownloadPolicy:
        """``CPMATRIX_DOWNLOAD_TIMEOUT`` (seconds a read may stall) overrides the default."""
        timeout = os.environ.get("CPMATRIX_DOWNLOAD_TIMEOUT")
        if not timeout:
            return cls()
        try:
            seconds = float(timeout)
        except ValueError:
            seconds = math.nan
        if not 0 < seconds <= MAX_TIMEOUT:  # also refuses nan
            raise UsageError(
                f"CPMATRIX_DOWNLOAD_TIMEOUT={timeout[:40]!r} is not a number of seconds "
                f"above 0 and at most {MAX_TIMEOUT:g} (a day)",
                hint="e.g. CPMATRIX_DOWNLOAD_TIMEOUT=60, or unset it (15 s)",
            )
        return cls(timeout=seconds)


class _Permanent(Exception):
    """A failure that retrying soon cannot fix (4xx, unknown host, a host that never answers)."""


def download(url: str, target: Path, policy: DownloadPolicy) -> None:
    """Fetch ``url`` into ``target``; ProviderFailed lists every try."""
    tries: list[str] = []
    for attempt in range(1, policy.attempts + 1):
        try:
            _reachable(url, policy.connect_timeout)
            _fetch_once(url, target, policy.timeout)
            return
        except _Permanent as error:
            tries.append(str(error))
            break
        except (OSError, http.client.HTTPException) as error:
            tries.append(_describe(error, policy.timeout))
        if attempt < policy.attempts:
            delay = policy.backoff * 2 ** (attempt - 1)
            console.detail(f"{url}: {tries[-1]}; retrying in {delay:.0f}s")
            time.sleep(delay)
    raise ProviderFailed(f"{url}: " + "; ".join(f"try {n}: {t}" for n, t in enumerate(tries, 1)))


def _reachable(url: str, timeout: float) -> None:
    """Fail fast where the host never answers (a blocked network), unless a proxy is in use."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname is None:
        return
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname):
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except socket.gaierror as error:
        raise _Permanent(f"cannot resolve the host ({error.strerror})") from None
    except TimeoutError:
        raise _Permanent(f"{parts.hostname}:{port} did not answer within {timeout:g}s") from None


def _fetch_once(url: str, target: Path, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": f"cpmatrix/{__version__}"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if 400 <= error.code < 500:
            raise _Permanent(f"HTTP {error.code} {error.reason}") from None
        raise
    except urllib.error.URLError as error:
        if isinstance(error.reason, socket.gaierror):
            raise _Permanent(f"cannot resolve the host ({error.reason.strerror})") from None
        raise
    with response, target.open("wb") as out:
        length = int(response.headers.get("Content-Length") or 0)
        received, shown = 0, time.monotonic()
        while block := response.read1(CHUNK):
            out.write(block)
            received += len(block)
            if time.monotonic() - shown > 1.0:
                shown = time.monotonic()
                total = f"/{length / 1e6:.1f}" if length else ""
                console.progress(
                    f"downloading {url.rsplit('/', 1)[-1]}: {received / 1e6:.1f}{total} MB"
                )
    if length and received != length:
        raise http.client.IncompleteRead(b"", length - received)


def _describe(error: BaseException, timeout: float) -> str:
    if isinstance(error, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g}s"
    if isinstance(error, urllib.error.URLError) and isinstance(error.reason, TimeoutError):
        return f"no answer within {timeout:g}s"
    if isinstance(error, http.client.IncompleteRead):
        return f"truncated: the connection closed {error.expected} bytes early"
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return f"{type(error).__name__}: {error}"


def fetch(
    cache: SourceCache,
    url: str,
    *,
    name: str,
    expected: str | None,
    release_sha256: str,
    provider: ProviderName,
    policy: DownloadPolicy,
    signature_url: str | None = None,
) -> Tarball:
    """Download into the cache's temp space, then admit it (sha256 checked, renamed in)."""
    with cache.temp_file(".download") as part, cache.temp_file(".asc") as asc:
        download(url, part, policy)
        extras: dict[str, Path] = {}
        if signature_url is not None:
            try:
                download(signature_url, asc, DownloadPolicy(timeout=policy.timeout, attempts=1))
                extras[f"{name}.asc"] = asc
            except ProviderFailed as missing:
                console.detail(f"no signature: {missing.reason}")
        return admit(
            cache,
            part,
            name=name,
            expected=expected,
            release_sha256=release_sha256,
            origin=url,
            provider=provider,
            extras=extras,
        )
