"""Docker images: a Debian base (local, pulled, or bootstrapped from the host's apt mirror),
the builder image from ``docker/Dockerfile``, and Debian images with extra packages.

Tags are derived from everything that went into an image (Dockerfile content, base image id,
package list), so a stale tag cannot be served for changed inputs.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import docker
import docker.errors
from filelock import FileLock

from cpmatrix.engine.containers import engine
from cpmatrix.features import arch as fa
from cpmatrix.features import debian
from cpmatrix.matrix import layout
from cpmatrix.sources import aptsources
from cpmatrix.util import console
from cpmatrix.util.errors import EnvironmentProblem

How = Literal["local", "pulled", "bootstrapped", "cached", "built"]
DOCKERFILE = layout.PROJECT_ROOT / "docker" / "Dockerfile"
BOOTSTRAP_REPOSITORY = "cpmatrix-base"
BUILDER_REPOSITORY = "cpmatrix-builder"
CROSS_DOCKERFILE = layout.PROJECT_ROOT / "docker" / "Dockerfile.cross"
CROSS_REPOSITORY = "cpmatrix-cross"
DEBIAN_REPOSITORY = "cpmatrix-debian"
PULL_TIMEOUT_SECONDS = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRef:
    """An image on the local engine: the tag to use, its id, and how it came to be there."""

    tag: str
    id: str
    how: How


def apt_options(suite: str) -> tuple[str, ...]:
    """apt's options for a suite: unstable's Release file is served past its expiry date."""
    expired = suite in debian.EXPIRED_RELEASE_SUITES
    return ("-o", "Acquire::Check-Valid-Until=false") if expired else ()


def _local(client: Any, tag: str) -> str | None:
    try:
        return str(client.images.get(tag).id)
    except docker.errors.ImageNotFound:
        return None


def _lock(name: str) -> FileLock:
    locks = layout.cache_dir() / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    return FileLock(str(locks / f"{name.replace(':', '_').replace('/', '_')}.lock"))


def base_image(
    suite: str = debian.BUILDER_SUITE, *, bootstrap: bool = False, arch: str = ""
) -> ImageRef:
    """``debian:<suite>-slim`` if present, else pulled, else bootstrapped from the host's mirror.

    With bootstrap=True the debootstrap path is taken whatever is present. With a Debian
    ``arch`` other than the host's (``arm64``), always ``debootstrap --arch``, tagged
    ``<suite>-<arch>``: its binaries run under qemu-user (verify.emulation checks that first).
    """
    if arch:
        return _foreign_base_image(suite, arch)
    client = engine()
    official = f"debian:{suite}-slim"
    bootstrapped = f"{BOOTSTRAP_REPOSITORY}:{suite}"
    with _lock(bootstrapped):
        if not bootstrap:
            for tag in (official, bootstrapped):
                image_id = _local(client, tag)
                if image_id is not None:
                    console.detail(f"base image {tag} is on this machine")
                    return ImageRef(tag=tag, id=image_id, how="local")
            pulled = _try_pull(official)
            if pulled is not None:
                console.info(f"base image: pulled {official}")
                return pulled
        mirror = debian_mirror()
        console.info(f"base image: bootstrapping Debian {suite} from {mirror} (debootstrap)")
        return _bootstrap(client, suite, mirror, bootstrapped)


def _foreign_base_image(suite: str, arch: str) -> ImageRef:
    client = engine()
    tag = f"{BOOTSTRAP_REPOSITORY}:{suite}-{arch}"
    with _lock(tag):
        image_id = _local(client, tag)
        if image_id is not None:
            console.detail(f"base image {tag} is on this machine")
            return ImageRef(tag=tag, id=image_id, how="local")
        mirror = debian_mirror()
        console.info(f"base image: bootstrapping Debian {suite} {arch} from {mirror}")
        return _bootstrap(client, suite, mirror, tag, arch=arch)


def _try_pull(tag: str) -> ImageRef | None:
    repository, _, name = tag.partition(":")
    try:
        client = docker.from_env(timeout=PULL_TIMEOUT_SECONDS)
        image = client.images.pull(repository, tag=name)
    except (docker.errors.DockerException, OSError) as error:
        console.info(f"base image: {tag} is not local and cannot be pulled ({_first_line(error)})")
        return None
    return ImageRef(tag=tag, id=str(image.id), how="pulled")


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__


# -- the host's apt mirror ------------------------------------------------------------------


def debian_mirror(etc_apt: Path = Path("/etc/apt")) -> str:
    """The Debian mirror this machine's apt uses (``$CPMATRIX_DEBIAN_MIRROR`` overrides it)."""
    explicit = os.environ.get("CPMATRIX_DEBIAN_MIRROR")
    if explicit:
        return explicit.rstrip("/")
    archives = [entry for entry in aptsources.read_entries(etc_apt) if entry.is_debian_archive]
    uris = [uri.rstrip("/") for entry in archives for uri in entry.uris]
    if not uris:
        raise EnvironmentProblem(
            f"no Debian mirror found in {etc_apt}/sources.list.d/*.sources or sources.list",
            hint="set CPMATRIX_DEBIAN_MIRROR to a Debian mirror URL this machine can reach",
        )
    return uris[0]


def security_mirror(mirror: str) -> str:
    """Debian's security archive beside a mirror (``…/debian`` → ``…/debian-security``);
    ``$CPMATRIX_DEBIAN_SECURITY_MIRROR`` overrides it."""
    explicit = os.environ.get("CPMATRIX_DEBIAN_SECURITY_MIRROR")
    if explicit:
        return explicit.rstrip("/")
    return f"{mirror.rstrip('/')}-security"


def _bootstrap(client: Any, suite: str, mirror: str, tag: str, *, arch: str = "") -> ImageRef:
    if shutil.which("debootstrap") is None:
        raise EnvironmentProblem(
            "no Debian base image is available and debootstrap is not installed",
            hint="apt-get install debootstrap (scripts/setup.sh does), or load a debian image",
        )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cpmatrix-rootfs-") as scratch:
        root = Path(scratch) / "root"
        arch_option = [f"--arch={arch}"] if arch else []
        command = ["debootstrap", "--variant=minbase", *arch_option, suite, str(root), mirror]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise EnvironmentProblem(
                f"debootstrap of Debian {suite} from {mirror} failed (exit {done.returncode}):\n"
                + "\n".join(done.stdout.splitlines()[-15:] + done.stderr.splitlines()[-15:]),
                hint="debootstrap needs root; check that the mirror serves this suite",
            )
        (root / "etc/apt/sources.list").write_text(f"deb {mirror} {suite} main\n")
        for package in (root / "var/cache/apt/archives").glob("*.deb"):
            package.unlink()
        tarball = Path(scratch) / "rootfs.tar"
        subprocess.run(
            ["tar", "--numeric-owner", "-C", str(root), "-cf", str(tarball), "."], check=True
        )
        repository, _, name = tag.partition(":")
        client.api.import_image_from_file(
            str(tarball), repository=repository, tag=name, changes=['CMD ["bash"]']
        )
    image_id = _local(client, tag)
    if image_id is None:
        raise EnvironmentProblem(
            f"docker import of the bootstrapped {suite} root did not tag {tag}"
        )
    console.info(f"base image: {tag} bootstrapped in {console.elapsed(time.monotonic() - started)}")
    return ImageRef(tag=tag, id=image_id, how="bootstrapped")


# -- images built on a base ------------------------------------------------------------------


def _digest(*parts: bytes | str) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode() if isinstance(part, str) else part)
        hasher.update(b"\0")
    return hasher.hexdigest()[:16]


def builder_image(*, rebuild_base: bool = False) -> ImageRef:
    """The Linux builder image: docker/Dockerfile on the builder suite's base with the sysroot
    suite's libraries (features.debian), tagged by the Dockerfile and both bases."""
    base = base_image(debian.BUILDER_SUITE, bootstrap=rebuild_base)
    sysroot = base_image(debian.SYSROOT_SUITE, bootstrap=rebuild_base)
    dockerfile = DOCKERFILE.read_bytes()
    tag = f"{BUILDER_REPOSITORY}:{_digest(dockerfile, base.id, sysroot.id)}"
    mirror = debian_mirror()
    extra = {
        "SYSROOT_IMAGE": sysroot.tag,
        "DEBIAN_MIRROR": mirror,
        "DEBIAN_SECURITY_MIRROR": security_mirror(mirror),
    }
    return _build(tag, dockerfile, base, what="builder image", buildargs=extra)


def cross_image(
    target: fa.Arch, native: fa.Arch | None, *, builder: ImageRef | None = None
) -> ImageRef:
    """The builder image plus the target's sysroot and cross binutils (``docker/Dockerfile.cross``)
    for a build on ``native``, tagged by its inputs."""
    base = builder or builder_image()
    sysroot = base_image(debian.SYSROOT_SUITE)
    dockerfile = CROSS_DOCKERFILE.read_bytes()
    tag = f"{CROSS_REPOSITORY}:{target.name}-{_digest(dockerfile, base.id, sysroot.id)}"
    mirror = debian_mirror()
    args = {
        "SYSROOT_IMAGE": sysroot.tag,
        "DEBIAN_MIRROR": mirror,
        "DEBIAN_SECURITY_MIRROR": security_mirror(mirror),
        "TARGET_DEB_ARCH": target.debian,
        "TARGET_TRIPLE": target.triple,
        "BUILD_TRIPLE": native.triple if native is not None else "",
    }
    return _build(
        tag, dockerfile, base, what=f"cross builder image ({target.name})", buildargs=args
    )


def debian_image_with(suite: str, packages: Sequence[str], *, arch: str = "") -> ImageRef:
    """A Debian base plus apt packages (e.g. sid with python3.14 python3.15); with a Debian
    ``arch`` (``arm64``), on that architecture's base (apt runs under qemu-user)."""
    base = base_image(suite, arch=arch)
    options = " ".join(apt_options(suite))
    names = " ".join(sorted(set(packages)))
    dockerfile = (
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
        "ENV DEBIAN_FRONTEND=noninteractive\n"
        f"RUN apt-get {options} update"
        f" && apt-get {options} install -y --no-install-recommends {names}"
        " && rm -rf /var/lib/apt/lists/*\n"
    ).encode()
    tag = f"{DEBIAN_REPOSITORY}:{suite}{'-' + arch if arch else ''}-{_digest(dockerfile, base.id)}"
    return _build(tag, dockerfile, base, what=f"Debian {suite} image with {names}")


def _build(
    tag: str,
    dockerfile: bytes,
    base: ImageRef,
    *,
    what: str,
    buildargs: dict[str, str] | None = None,
) -> ImageRef:
    client = engine()
    with _lock(tag):
        image_id = _local(client, tag)
        if image_id is not None:
            console.detail(f"{what}: {tag} (cached)")
            return ImageRef(tag=tag, id=image_id, how="cached")
        console.info(f"{what}: building {tag} on {base.tag}")
        watch = console.Stopwatch()
        tail: list[str] = []
        stream = client.api.build(
            fileobj=io.BytesIO(dockerfile),
            tag=tag,
            buildargs={"BASE_IMAGE": base.tag, **(buildargs or {})},
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
            labels={"cpmatrix": "1", "cpmatrix.base": base.id},
        )
        for event in stream:
            if "error" in event:
                raise EnvironmentProblem(
                    f"building {what} failed: {event['error'].strip()}\n" + "\n".join(tail[-20:]),
                    hint="apt in the image uses the base image's sources; check they answer",
                )
            for line in str(event.get("stream", "")).splitlines():
                tail.append(line)
                console.detail(line)
                if line.startswith("Step "):
                    console.progress(f"{what}: {line} [{console.elapsed(watch.seconds)}]")
        image_id = _local(client, tag)
        if image_id is None:
            raise EnvironmentProblem(f"building {what} finished without producing {tag}")
        console.info(f"{what}: built {tag} in {console.elapsed(watch.seconds)}")
        return ImageRef(tag=tag, id=image_id, how="built")
