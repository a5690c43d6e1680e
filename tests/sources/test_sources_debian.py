"""The Debian provider for real (Debian's mirror is reachable here), and the apt-sources parsing
it builds its private deb-src entry from."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from cpmatrix.features import Version
from cpmatrix.matrix import PythonRelease, matrixfile
from cpmatrix.sources import SourceCache, prepare
from cpmatrix.sources.aptsources import (
    deb_src_entry,
    debian_archive,
    parse_deb822,
    parse_one_line,
)
from cpmatrix.sources.debian import parse_showsrc
from cpmatrix.util import console
from cpmatrix.util.errors import SourceError

DEB822 = """\
Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: https://deb.nodesource.example/node_20.x
Suites: nodistro
Components: main

Enabled: no
Types: deb
URIs: http://disabled.example/debian
Suites: trixie
"""

ONE_LINE = """\
deb [arch=amd64 signed-by=/etc/keys/debian.gpg] http://one.example/debian bookworm main
deb http://security.example/debian-security bookworm-security main  # security
# deb http://commented.example/debian sid main
"""


def test_deb822_and_one_line_sources_give_the_debian_archive(tmp_path: Path) -> None:
    assert [e.uris for e in parse_deb822(DEB822)] == [
        ("http://mirror.example/debian",),
        ("http://mirror.example/debian-security",),
        ("https://deb.nodesource.example/node_20.x",),
    ]
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d/debian.sources").write_text(DEB822)
    (tmp_path / "sources.list").write_text(ONE_LINE)
    archive = debian_archive(tmp_path)
    assert archive.uris == ("http://mirror.example/debian", "http://one.example/debian")
    assert archive.signed_by == "/usr/share/keyrings/debian-archive-keyring.gpg"
    assert parse_one_line(ONE_LINE)[0].signed_by == "/etc/keys/debian.gpg"
    assert deb_src_entry(archive, "trixie") == (
        "Types: deb-src\n"
        "URIs: http://mirror.example/debian http://one.example/debian\n"
        "Suites: trixie\n"
        "Components: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )


def test_no_debian_archive_is_reported(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text("deb https://deb.nodesource.example/x nodistro main\n")
    from cpmatrix.sources.model import ProviderFailed

    with pytest.raises(ProviderFailed, match="no Debian archive"):
        debian_archive(tmp_path)


def test_showsrc_stanzas_parse() -> None:
    text = (
        "Package: python3.13\nVersion: 3.13.5-2\nDirectory: pool/main/p/python3.13\n"
        "Checksums-Sha256:\n aa 10 python3.13_3.13.5-2.dsc\n bb 20 python3.13_3.13.5.orig.tar.xz\n"
        "Package-List:\n python3.13 deb python optional arch=any\n\n"
        "Package: python3.13\nVersion: 3.13.15-1\nChecksums-Sha256:\n cc 30 x.orig.tar.xz\n"
    )
    first, second = parse_showsrc(text)
    assert first.files == {"python3.13_3.13.5-2.dsc": "aa", "python3.13_3.13.5.orig.tar.xz": "bb"}
    assert first.directory == "pool/main/p/python3.13"
    assert second.version == "3.13.15-1"


def test_this_machine_has_a_debian_archive() -> None:
    archive = debian_archive(Path("/etc/apt"))
    assert archive.uris and all("://" in uri for uri in archive.uris)


def apt_state() -> dict[str, tuple[int, float]]:
    """Names, sizes and mtimes of the system's apt configuration and lists."""
    state: dict[str, tuple[int, float]] = {}
    for root in (Path("/etc/apt"), Path("/var/lib/apt/lists")):
        for path in sorted(root.rglob("*")) if root.exists() else []:
            if path.is_file():
                info = path.stat()
                state[str(path)] = (info.st_size, info.st_mtime)
    return state


@pytest.fixture(scope="module")
def python() -> PythonRelease:
    return matrixfile.load().python("3.13")


@pytest.mark.slow
def test_debian_provider_fetches_the_upstream_tarball_byte_for_byte(
    python: PythonRelease, tmp_path: Path
) -> None:
    before = apt_state()
    cache = SourceCache(tmp_path / "cache")
    tree = prepare(python, cache=cache, providers=("debian",))
    assert tree.provider == "debian"
    assert "(Debian trixie, python3.13=3.13.5-" in tree.origin
    assert tree.sha256 == python.sha256
    tarball = cache.slot(python.sha256) / python.tarball_name
    assert hashlib.sha256(tarball.read_bytes()).hexdigest() == python.sha256
    assert tree.signature.startswith(f"verified (pgp {python.signature.pgp_fingerprint}")
    assert (tree.path / "configure").is_file()
    assert '"3.13.5"' in (tree.path / "Include/patchlevel.h").read_text()
    assert list((cache.apt / "trixie" / "lists").glob("*Sources*"))
    assert apt_state() == before, "the system's apt configuration or lists changed"


@pytest.mark.slow
def test_debian_provider_refuses_what_matrix_yaml_does_not_name(
    python: PythonRelease, tmp_path: Path
) -> None:
    cache = SourceCache(tmp_path / "cache")
    unknown = dataclasses.replace(python, release=Version(3, 13, 99))
    with pytest.raises(SourceError, match=r"debian: trixie has no python3\.13_3\.13\.99\.orig"):
        prepare(unknown, cache=cache, providers=("debian",))
    wrong = dataclasses.replace(python, sha256="0" * 64)
    with console.using(console.Recorder()), pytest.raises(SourceError) as failed:
        prepare(wrong, cache=cache, providers=("debian",))
    assert f"sha256 {python.sha256}, matrix.yaml says {'0' * 64}" in failed.value.message
    assert "not downloaded" in failed.value.message
    assert not cache.tarballs.exists()
