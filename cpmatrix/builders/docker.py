"""The Linux builder: CPython's configure/make/install in a container of the builder image.

The source tree is mounted read-only, the build and staging directories read-write, ccache
is shared across builds; the container has no network and runs as the invoking uid:gid, or,
when that is root, as an unprivileged uid that is given the writable mounts for the build.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import docker.errors

from cpmatrix.builders import portable, steps
from cpmatrix.builders.base import BuildRequest, BuildResult
from cpmatrix.engine.containers import Container, ContainerSpec, Mount, engine
from cpmatrix.engine.image import ImageRef, builder_image
from cpmatrix.matrix import BuilderKind, layout
from cpmatrix.util.errors import EnvironmentProblem

SOURCE, WORK, STAGE, CCACHE = "/src", "/build/work", "/build/stage", "/ccache"
HOME = "/home/build"
CCACHE_WRAPPERS = "/usr/lib/ccache"
PATH = f"{CCACHE_WRAPPERS}:/usr/local/bin:/usr/bin:/bin"


def ccache_dir() -> Path:
    path = layout.cache_dir() / "ccache"
    path.mkdir(parents=True, exist_ok=True)
    return path


BUILD_UID = BUILD_GID = 10999
"""Who builds when cpmatrix runs as root (CI does): a uid no host account has, so a build
cannot touch anything but its own mounts, and root's files are not its to change."""


def build_ids() -> tuple[int, int]:
    """The container's uid and gid: yours; when you are root, BUILD_UID:BUILD_GID."""
    if os.getuid() == 0:
        return BUILD_UID, BUILD_GID
    return os.getuid(), os.getgid()


def invoking_user() -> str:
    uid, gid = build_ids()
    return f"{uid}:{gid}"


def chown_tree(root: Path, uid: int, gid: int) -> None:
    """chown -R without following links (they stay the links they were)."""
    os.chown(root, uid, gid, follow_symlinks=False)
    for directory, names, files in os.walk(root):
        for name in (*names, *files):
            os.chown(Path(directory, name), uid, gid, follow_symlinks=False)


def hand_over(spec: ContainerSpec) -> None:
    """Root only: the writable mounts (work, staging, ccache) become the build user's."""
    if os.getuid() != 0:
        return
    uid, gid = build_ids()
    for mount in spec.mounts:
        if not mount.read_only:
            chown_tree(mount.source, uid, gid)


def take_back(paths: layout.CellPaths) -> None:
    """Root only: what the build left on the host (install, work, staging) is root's again."""
    if os.getuid() != 0:
        return
    for tree in (paths.install, paths.work, steps.staging_dir(paths)):
        if tree.exists():
            chown_tree(tree, 0, 0)


def container_spec(request: BuildRequest, image: str) -> ContainerSpec:
    """The build container: hermetic (no network), never root (see build_ids)."""
    paths = request.paths
    return ContainerSpec(
        image=image,
        mounts=(
            Mount(request.source.path, SOURCE, read_only=True),
            Mount(paths.work, WORK, read_only=False),
            Mount(steps.staging_dir(paths), STAGE, read_only=False),
            Mount(ccache_dir(), CCACHE, read_only=False),
        ),
        network=False,
        user=invoking_user(),
        environment={
            "HOME": HOME,
            "CCACHE_DIR": CCACHE,
            "PATH": PATH,
            "LANG": "C.UTF-8",
            "LD_LIBRARY_PATH": portable.SYSROOT_RUNTIME,
        },
        workdir=WORK,
        name_hint="cpmatrix-build",
    )


@dataclass
class ContainerRunner:
    box: Container
    image: ImageRef
    where: str
    source_dir: str = SOURCE
    work_dir: str = WORK
    destdir: str = STAGE
    sysroot: portable.Sysroot | None = field(default_factory=portable.Sysroot)

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str], on_line: Callable[[str], None]
    ) -> int:
        return self.box.run(argv, env=env, on_line=on_line, workdir=self.work_dir).exit_code

    def describe(self) -> dict[str, object]:
        spec = self.box.spec
        return {
            "builder": "docker",
            "container": self.box.name,
            "image": {"tag": self.image.tag, "id": self.image.id, "how": self.image.how},
            "user": spec.user,
            "network": "none" if not spec.network else "bridge",
            "environment": dict(spec.environment),
            "mounts": [
                {"source": str(m.source), "target": m.target, "read_only": m.read_only}
                for m in spec.mounts
            ],
        }


class DockerBuilder:
    kind: BuilderKind = "docker"

    def __init__(self, image: ImageRef | None = None) -> None:
        self._image = image

    def check_environment(self) -> None:
        engine()

    def identity(self) -> dict[str, object]:
        return {"builder": "docker", "image": self.image().id}

    def image(self) -> ImageRef:
        if self._image is None:
            self._image = builder_image()
        return self._image

    def build(self, request: BuildRequest) -> BuildResult:
        image = self.image()
        steps.start_fresh(request.paths)
        spec = container_spec(request, image.tag)
        hand_over(spec)
        try:
            with Container(spec) as box:
                where = f"the builder image {image.tag}"
                return steps.execute(request, ContainerRunner(box=box, image=image, where=where))
        except docker.errors.DockerException as error:
            raise EnvironmentProblem(
                f"the Docker engine failed while building {request.cell.id}: {error}",
                hint=f"`docker info` shows the engine's state; the log so far: {request.paths.log}",
            ) from None
        finally:
            take_back(request.paths)
