"""``dist/uv/<variant>.json``: the artifacts in the format of uv's
``--python-downloads-json-url`` (``UV_PYTHON_DOWNLOADS_JSON_URL``).

uv keys each download like ``cpython-3.13.5-linux-x86_64-gnu`` (``+freethreaded`` after the
version for a free-threaded build) and reads ``name``, ``arch`` (``family``, ``variant``),
``os``, ``libc``, ``major``, ``minor``, ``patch``, ``prerelease``, ``url``, ``sha256`` and
``variant``; it strips the archive's single top directory. uv has no notion of a JIT or
tail-call build (its variants: default, ``freethreaded``, ``debug``), so each cpmatrix variant
gets a file of its own, and default and jit share uv's key: one ``UV_PYTHON_INSTALL_DIR`` per
variant holds them side by side, and that variable picks one (README, "with uv").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from cpmatrix.features import Feature
from cpmatrix.util.errors import UsageError

UV_DIR = "uv"
UV_OS = {"linux": "linux", "macos": "darwin", "windows": "windows"}
UV_LIBC = {"linux": "gnu", "macos": "none", "windows": "none"}


URL_SCHEMES = ("https", "http", "file")


def checked_base_url(url: str, *, given_by: str) -> str:
    """A base URL for uv's files: https, http or file, with no control character or space
    (they would reach every consumer's uv as written). ``given_by`` names where it came from."""
    parts = urlsplit(url) if url.isprintable() and " " not in url else None
    if (
        parts is None
        or parts.scheme not in URL_SCHEMES
        or (parts.scheme != "file" and not parts.netloc)
    ):
        raise UsageError(
            f"{given_by} {url[:80]!r} is not a base URL cpmatrix publishes: it must be "
            f"{', '.join(URL_SCHEMES)} with a host (file: a path), without spaces or control "
            "characters",
            hint="e.g. https://example.org/python/ (the URL dist/ is served from)",
        )
    return url


def base_url_for(dist: Path) -> str:
    """The default: ``file://`` URLs straight into dist/."""
    return dist.resolve().as_uri()


def uv_entry(entry: Mapping[str, Any], base_url: str) -> tuple[str, dict[str, Any]]:
    """One index entry (``dist/index.json``) as uv's key and download."""
    major, minor, patch = (int(part) for part in str(entry["python"]).split("."))
    os_name = str(entry["os"])
    freethreaded = Feature.FREETHREADED in entry.get("features", [])
    uv_variant = "freethreaded" if freethreaded else "default"
    plus = "+freethreaded" if freethreaded else ""
    arch = str(entry["arch"])
    libc = UV_LIBC[os_name]
    key = f"cpython-{major}.{minor}.{patch}{plus}-{UV_OS[os_name]}-{arch}-{libc}"
    download = {
        "name": "cpython",
        "arch": {"family": arch, "variant": None},
        "os": UV_OS[os_name],
        "libc": libc,
        "major": major,
        "minor": minor,
        "patch": patch,
        "prerelease": "",
        "url": f"{base_url.rstrip('/')}/{quote(str(entry['file']))}",
        "sha256": entry["sha256"],
        "variant": None if uv_variant == "default" else uv_variant,
        "build": str(entry["id"]),
    }
    return key, download


def uv_files(entries: Iterable[Mapping[str, Any]], base_url: str) -> dict[str, dict[str, Any]]:
    """``<variant>.json`` → its downloads, for the release-profile artifacts in the index."""
    files: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if entry.get("profile") != "release":
            continue
        key, download = uv_entry(entry, base_url)
        files.setdefault(f"{entry['variant']}.json", {})[key] = download
    return files


def dumps(downloads: Mapping[str, Any]) -> str:
    return json.dumps(dict(sorted(downloads.items())), indent=2) + "\n"
