"""When cpmatrix runs as root (CI does), the build container does not: it runs as an
unprivileged uid that is handed the writable mounts, and the host gets them back as root's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sourcekit import small_release, write_small_tarball

from cpmatrix.builders import docker as docker_builder
from cpmatrix.builders import steps
from cpmatrix.builders.base import BuildRequest
from cpmatrix.engine.containers import Container
from cpmatrix.engine.image import builder_image
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.matrix.matrixfile import load
from cpmatrix.sources import SourceCache, prepare

pytestmark = pytest.mark.docker

COMPILE = (
    "id -u; id -g; printf 'int main(void) { return 0; }\\n' > t.c"
    " && gcc -c t.c -o t.o && touch /build/stage/staged && touch /ccache/old/by-the-build"
)


@pytest.mark.skipif(os.getuid() != 0, reason="only root's builds change user")
@pytest.mark.usefixtures("unpatched_sources")
def test_a_root_build_runs_unprivileged_and_its_mounts_work(
    docker_engine: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPMATRIX_CACHE", str(tmp_path / "cache"))
    old = tmp_path / "cache" / "ccache" / "old"
    old.mkdir(parents=True)
    (old / "from-an-earlier-root-build").write_text("x")
    source = write_small_tarball(tmp_path)
    release = small_release("https://example.invalid/x.tar.xz", source.read_bytes())
    tree = prepare(release, source=str(source), cache=SourceCache(tmp_path / "cache" / "sources"))
    cell = load().cell(python="3.13", variant="default", platform="linux-x86_64")
    paths = CellPaths.of(cell.id, tmp_path / "build")
    steps.start_fresh(paths)
    spec = docker_builder.container_spec(
        BuildRequest(cell=cell, source=tree, paths=paths, jobs=1), builder_image().tag
    )
    assert spec.user == f"{docker_builder.BUILD_UID}:{docker_builder.BUILD_GID}" != "0:0"
    docker_builder.hand_over(spec)
    with Container(spec) as box:
        done = box.run(["sh", "-c", COMPILE])
        assert done.ok, done.output
        assert done.output.split()[:2] == [str(docker_builder.BUILD_UID)] * 2
        assert not box.run(["touch", "/src/configure"]).ok
        assert not box.run(["touch", "/build/../etc/x"]).ok
    assert (paths.work / "t.o").stat().st_uid == docker_builder.BUILD_UID
    docker_builder.take_back(paths)
    assert (paths.work / "t.o").stat().st_uid == 0
    assert (steps.staging_dir(paths) / "staged").stat().st_uid == 0
    assert (old / "by-the-build").is_file()
