"""Long-lived containers driven through the Docker SDK, always removed when done.

A :class:`Container` is a context manager: it creates a labelled container (``cpmatrix=1``)
that sleeps, runs commands in it with ``exec`` (streaming their output line by line and
reading their exit codes), and removes it on the way out, also when starting it failed
half-way or the user pressed Ctrl-C.
"""

from __future__ import annotations

import codecs
import io
import os
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

import docker
import docker.errors
from docker.utils.socket import frames_iter

from cpmatrix.util.errors import CpmatrixError, EnvironmentProblem, UsageError

LABEL = "cpmatrix"
_live: set[Container] = set()
_live_lock = threading.Lock()
TIMEOUT_EXIT_CODES = frozenset({124, 137})
"""``timeout`` exits 124 when it stopped the command, and 137 (128 + SIGKILL) with ``-s KILL``."""


@dataclass(frozen=True, slots=True)
class Mount:
    """A host directory bind-mounted into the container."""

    source: Path
    target: str
    read_only: bool = True


NO_NETWORK = "no network"
"""How reports say a container ran with ``network_mode="none"``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainerSpec:
    """What a container looks like: image, mounts, network, user, capabilities, environment."""

    image: str
    mounts: tuple[Mount, ...] = ()
    network: bool = False
    user: str | None = None
    cap_add: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    workdir: str | None = None
    name_hint: str = "cpmatrix"

    @property
    def network_words(self) -> str:
        return "with network" if self.network else NO_NETWORK


@dataclass(frozen=True, slots=True, kw_only=True)
class Completed:
    """How a command run in a container ended."""

    exit_code: int
    output: str
    timed_out: bool
    seconds: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


def _docker_host() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


def engine() -> Any:
    """A Docker client whose engine answers, or EnvironmentProblem saying how to get one."""
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as error:
        raise EnvironmentProblem(
            f"no Docker engine answers at {_docker_host()}: {error}",
            hint=(
                "start one with `sudo systemctl start docker` or `sudo dockerd &` "
                "(`bash scripts/setup.sh` installs and starts it); make sure your user may use "
                "the socket (group `docker`); or build on this machine without containers "
                "with `--builder=native`"
            ),
        ) from None
    return client


def _user_ids(user: str | None) -> tuple[int, int]:
    if user is None:
        return 0, 0
    uid, _, gid = user.partition(":")
    return (int(uid), int(gid or uid)) if uid.isdigit() and (not gid or gid.isdigit()) else (0, 0)


def _lines(chunks: Iterator[bytes], on_line: Callable[[str], None] | None) -> str:
    """Decode a byte stream, hand every complete line to on_line, return all of it."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    parts: list[str] = []
    pending = ""
    for chunk in chunks:
        text = decoder.decode(chunk)
        parts.append(text)
        if on_line is None:
            continue
        pending += text
        *complete, pending = pending.split("\n")
        for line in complete:
            on_line(line)
    tail = decoder.decode(b"", final=True)
    parts.append(tail)
    if on_line is not None and (pending + tail):
        on_line(pending + tail)
    return "".join(parts)


def _refused(image: str, error: docker.errors.APIError) -> CpmatrixError:
    """Docker's refusal as an error a user acts on: a bad request is theirs (exit 2)."""
    explanation = error.explanation or str(error)
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    message = f"Docker cannot run a container of image {image!r}: {explanation}"
    if error.is_client_error():
        return UsageError(message, hint="check the image name (docker image ls lists them)")
    return EnvironmentProblem(message, hint="see the Docker engine's log (journalctl -u docker)")


class Container:
    """``with Container(spec) as box: box.run([...])``; the container never outlives the block."""

    def __init__(self, spec: ContainerSpec) -> None:
        self.spec = spec
        self.name = f"{spec.name_hint}-{uuid.uuid4().hex[:12]}"
        self._client: Any = None
        self._container: Any = None

    @property
    def id(self) -> str:
        if self._container is None:
            raise RuntimeError("the container is not running; use it inside `with`")
        return str(self._container.id)

    def __enter__(self) -> Container:
        self._client = engine()
        try:
            with _live_lock:
                _live.add(self)
            self._container = self._create()
            self._container.start()
        except docker.errors.APIError as error:
            self._remove()
            raise _refused(self.spec.image, error) from None
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._remove()

    def _create(self) -> Any:
        spec = self.spec
        mounts = [
            docker.types.Mount(
                target=m.target, source=str(m.source), type="bind", read_only=m.read_only
            )
            for m in spec.mounts
        ]
        try:
            return self._client.containers.create(
                spec.image,
                command=["sleep", "infinity"],
                name=self.name,
                labels={LABEL: "1", f"{LABEL}.purpose": spec.name_hint},
                network_mode=None if spec.network else "none",
                user=spec.user or "",
                cap_add=list(spec.cap_add) or None,
                environment=dict(spec.environment),
                working_dir=spec.workdir,
                mounts=mounts,
                init=True,
                detach=True,
            )
        except docker.errors.ImageNotFound:
            raise EnvironmentProblem(
                f"Docker image {spec.image} is not on this machine",
                hint="`invoke image` builds the builder image",
            ) from None

    def _remove(self) -> None:
        """Remove by name, so a container created by a call that then failed goes too."""
        if self._client is None:
            return
        try:
            self._client.api.remove_container(self.name, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as error:
            if "already in progress" not in str(error):
                raise
        finally:
            self._container = None
            with _live_lock:
                _live.discard(self)

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        on_line: Callable[[str], None] | None = None,
        workdir: str | None = None,
    ) -> Completed:
        """Run argv in the container; stream its output (stdout and stderr merged) to on_line.

        A timeout is enforced inside the container by coreutils ``timeout -s KILL``.
        """
        command = list(argv)
        if timeout is not None:
            command = ["timeout", "-s", "KILL", f"{timeout:g}s", *command]
        api = self._client.api
        started = time.monotonic()
        exec_id = api.exec_create(
            self.id,
            command,
            environment=dict(env or {}),
            workdir=workdir,
            user=self.spec.user or "",
        )["Id"]
        sock = api.exec_start(exec_id, socket=True)
        try:
            for inner in (sock, getattr(sock, "_sock", None)):
                if inner is not None and hasattr(inner, "settimeout"):
                    inner.settimeout(None)
            frames = (data for _, data in frames_iter(sock, tty=False))
            output = _lines(frames, on_line)
        finally:
            sock.close()
        exit_code = self._exit_code(exec_id)
        timed_out = timeout is not None and exit_code in TIMEOUT_EXIT_CODES
        return Completed(
            exit_code=exit_code,
            output=output,
            timed_out=timed_out,
            seconds=time.monotonic() - started,
        )

    def _exit_code(self, exec_id: str) -> int:
        for _ in range(200):
            state = self._client.api.exec_inspect(exec_id)
            if not state["Running"] and state["ExitCode"] is not None:
                return int(state["ExitCode"])
            time.sleep(0.05)
        raise EnvironmentProblem(f"the Docker engine never reported how exec {exec_id} ended")

    def put_file(self, path_in_container: str, data: bytes, *, mode: int = 0o644) -> None:
        """Write a file into the container (its directory must exist), owned by spec.user."""
        target = PurePosixPath(path_in_container)
        uid, gid = _user_ids(self.spec.user)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            member = tarfile.TarInfo(target.name)
            member.size, member.mode, member.uid, member.gid = len(data), mode, uid, gid
            member.mtime = int(time.time())
            archive.addfile(member, io.BytesIO(data))
        if not self._client.api.put_archive(self.id, str(target.parent), buffer.getvalue()):
            raise EnvironmentProblem(f"could not write {target} into container {self.name}")

    def inspect(self) -> dict[str, Any]:
        """The engine's view of this container (``docker inspect``)."""
        return dict(self._client.api.inspect_container(self.id))


def remove_all() -> None:
    """Remove every container this process started (Ctrl-C while builds run in threads)."""
    with _live_lock:
        live = list(_live)
    for box in live:
        box._remove()


def leftover_containers() -> list[str]:
    """Names of cpmatrix containers still present (there should be none after a run)."""
    client = engine()
    found = client.containers.list(all=True, filters={"label": f"{LABEL}=1"})
    return [str(c.name) for c in found]
