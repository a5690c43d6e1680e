"""Base image sources: the host's apt mirror, never a hard-coded host; tags follow inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpmatrix.engine import image
from cpmatrix.engine.containers import Container, ContainerSpec
from cpmatrix.util.errors import EnvironmentProblem

DEB822 = """\
Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb deb-src
# a comment
URIs: http://mirror.example/debian/ http://other.example/debian
Suites: bookworm bookworm-updates
Components: main
"""


def mirror_of(tmp_path: Path, files: dict[str, str]) -> str:
    (tmp_path / "sources.list.d").mkdir()
    for name, text in files.items():
        folder = tmp_path if name == "sources.list" else tmp_path / "sources.list.d"
        (folder / name).write_text(text)
    return image.debian_mirror(tmp_path)


@pytest.fixture(autouse=True)
def no_explicit_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CPMATRIX_DEBIAN_MIRROR", raising=False)


def test_deb822_main_archive_not_security(tmp_path: Path) -> None:
    assert mirror_of(tmp_path, {"debian.sources": DEB822}) == "http://mirror.example/debian"


def test_one_line_format_with_options(tmp_path: Path) -> None:
    text = (
        "# deb http://commented.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://plain.example/debian bookworm main\n"
    )
    assert mirror_of(tmp_path, {"sources.list": text}) == "http://plain.example/debian"


def test_ubuntu_and_disabled_entries_are_not_debian_mirrors(tmp_path: Path) -> None:
    ubuntu = "deb http://archive.ubuntu.com/ubuntu noble main\n"
    disabled = "Types: deb\nURIs: http://off.example/debian\nSuites: trixie\nEnabled: no\n"
    with pytest.raises(EnvironmentProblem, match="no Debian mirror"):
        mirror_of(tmp_path, {"sources.list": ubuntu, "off.sources": disabled})


def test_debian_mirror_reads_the_files_and_explains_absence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CPMATRIX_DEBIAN_MIRROR", raising=False)
    (tmp_path / "sources.list.d").mkdir()
    with pytest.raises(EnvironmentProblem) as caught:
        image.debian_mirror(tmp_path)
    assert caught.value.hint is not None
    assert "CPMATRIX_DEBIAN_MIRROR" in caught.value.hint
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    assert image.debian_mirror(tmp_path) == "http://mirror.example/debian"
    monkeypatch.setenv("CPMATRIX_DEBIAN_MIRROR", "http://explicit.example/debian/")
    assert image.debian_mirror(tmp_path) == "http://explicit.example/debian"


def test_this_machine_has_a_mirror() -> None:
    assert image.debian_mirror().startswith(("http://", "https://"))


def test_unstable_needs_expired_release_files_accepted() -> None:
    assert image.apt_options("sid") == ("-o", "Acquire::Check-Valid-Until=false")
    assert image.apt_options("trixie") == ()


def test_tag_digest_changes_with_any_input() -> None:
    one = image._digest(b"FROM x\n", "sha256:aaa")
    assert one == image._digest(b"FROM x\n", "sha256:aaa")
    assert one != image._digest(b"FROM x\n", "sha256:bbb")
    assert one != image._digest(b"FROM y\n", "sha256:aaa")


def test_dockerfile_has_what_builds_need() -> None:
    text = image.DOCKERFILE.read_text()
    assert "ARG BASE_IMAGE=debian:trixie-slim" in text
    for package in ("clang-18", "llvm-18", "clang-19", "llvm-19", "ccache", "python3"):
        assert f" {package} " in text or f" {package}\n" in text


@pytest.mark.docker
def test_builder_image_is_cached_by_content(docker_engine: None) -> None:
    first = image.builder_image()
    again = image.builder_image()
    assert again.how == "cached"
    assert (again.tag, again.id) == (first.tag, first.id)
    base = image.base_image(image.BUILDER_SUITE)
    sysroot = image.base_image(image.SYSROOT_SUITE)
    expected = image._digest(image.DOCKERFILE.read_bytes(), base.id, sysroot.id)
    assert first.tag == f"{image.BUILDER_REPOSITORY}:{expected}"


@pytest.mark.docker
def test_debian_unstable_image_with_real_314_and_315(docker_engine: None) -> None:
    ref = image.debian_image_with("sid", ["python3.14", "python3.15"])
    assert image.debian_image_with("sid", ["python3.15", "python3.14"]).tag == ref.tag
    with Container(ContainerSpec(image=ref.tag)) as box:
        done = box.run(["sh", "-c", "python3.14 -V; python3.15 -V"])
    assert done.ok, done.output
    assert [line.split()[1][:4] for line in done.output.split("\n") if line] == ["3.14", "3.15"]
