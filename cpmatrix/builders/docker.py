"""The Linux builder: CPython's configure/make/install in a container of the builder image.

The source tree is mounted read-only, the build and staging directories read-write, ccache
is shared across builds; the container runs as the invoking uid:gid and has no network.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import docker.errors

from cpmatrix import layout
from cpmatrix.builders import portable, steps
from cpmatrix.builders.base import BuildRequest, BuildResult
from cpmatrix.builders.image import ImageRef, builder_image
from cpmatrix.containers import Container, ContainerSpec, Mount, engine
from cpmatrix.errors import EnvironmentProblem
from cpmatrix.matrix import BuilderKind

SOURCE, WORK, STAGE, CCACHE = "/src", "/build/work", "/build/stage", "/ccache"
HOME = "/home/build"
CCACHE_WRAPPERS = "/usr/lib/ccache"
PATH = f"{CCACHE_WRAPPERS}:/usr/local/bin:/usr/bin:/bin"


def ccache_dir() -> Path:
    path = layout.cache_dir() / "ccache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def invoking_user() -> str:
    return f"{os.getuid()}:{os.getgid()}"


def container_spec(request: BuildRequest, image: str) -> ContainerSpec:
    """The build container: hermetic (no network), unprivileged as the invoking user."""
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
        try:
            with Container(container_spec(request, image.tag)) as box:
                where = f"the builder image {image.tag}"
                return steps.execute(request, ContainerRunner(box=box, image=image, where=where))
        except docker.errors.DockerException as error:
            raise EnvironmentProblem(
                f"the Docker engine failed while building {request.cell.id}: {error}",
                hint=f"`docker info` shows the engine's state; the log so far: {request.paths.log}",
            ) from None
