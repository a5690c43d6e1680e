"""Where an interpreter under test runs: on this host, or in a container (an image of any kind).

A :class:`Target` says which interpreter and where; :func:`open_place` gives a :class:`Place`
that runs commands there with a timeout each, so a hanging interpreter is killed and recorded,
never waited on forever. A Linux interpreter that needs a newer glibc than this host has (a
trixie build on a bookworm host) runs in the builder image automatically.
"""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from cpmatrix.engine.containers import Completed, Container, ContainerSpec, Mount
from cpmatrix.features import debian
from cpmatrix.util import console, elfinfo
from cpmatrix.util.errors import EnvironmentProblem
from cpmatrix.util.signals import sigint_default_in_children

Where = Literal["auto", "host", "builder"]
SCRATCH_IN_CONTAINER = "/tmp/cpmatrix-verify"
SETUP_TIMEOUT_SECONDS = 300
CAPABILITIES = ("SYS_PTRACE",)
"""``sys.remote_exec`` needs ptrace rights: without them every build says PermissionError."""


class Place(Protocol):
    """Somewhere commands run: this host or a container."""

    label: str
    scratch: str

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float
    ) -> Completed: ...

    def put(self, name: str, data: bytes) -> str:
        """Write a file into the scratch directory; returns its path there."""
        ...

    def read(self, path: str) -> bytes | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """An interpreter to verify, and where it runs (image None: on this host)."""

    interpreter: str
    image: str | None = None
    mounts: tuple[Mount, ...] = ()
    description: str = ""
    cap_add: tuple[str, ...] = CAPABILITIES
    setup: tuple[tuple[str, ...], ...] = ()
    """Commands run once in the container before anything is probed (unpacking an artifact)."""
    timeout_factor: float = 1.0
    """Every command's timeout is multiplied by it: qemu-user runs an emulated interpreter
    several times slower (verify.emulation); what passes or fails is decided as before."""

    @property
    def label(self) -> str:
        where = f"in image {self.image}" if self.image else "on this host"
        return self.description or f"{self.interpreter} {where}"


def host_glibc() -> tuple[int, ...] | None:
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        return None
    _, _, number = text.partition(" ")
    return tuple(int(part) for part in number.split(".")) if number else None


def needed_glibc(interpreter: Path) -> tuple[int, ...] | None:
    """The highest GLIBC symbol version the interpreter (and its libpython) asks for.

    A launcher (a shell script, a version manager's shim) is no ELF file: then every binary
    beside it counts, since one of them is what it starts."""
    real = interpreter.resolve()
    if not real.is_file():
        return None  # nothing to read; starting it fails as a probe failure with the reason
    files = [real, *sorted(real.parent.parent.glob("lib/libpython*.so*"))]
    if elfinfo.read(real) is None:
        files += sorted(p for p in real.parent.iterdir() if p != real)
    found = elfinfo.requirements(real.parent.parent, [f for f in files if f.is_file()])
    if found.min_glibc is None:
        return None
    return tuple(int(part) for part in found.min_glibc.split("."))


def runs_on_host(interpreter: Path) -> tuple[bool, str]:
    """Whether this host can start the interpreter, and why not."""
    if platform.system() != "Linux":
        return True, "not Linux: runs natively"
    needed, have = needed_glibc(interpreter), host_glibc()
    if needed is None or have is None or needed <= have:
        return True, "glibc is new enough"
    wanted, present = ".".join(map(str, needed)), ".".join(map(str, have))
    return False, f"needs glibc {wanted}, this host has {present}"


def local_target(interpreter: Path, *, where: Where = "auto", description: str = "") -> Target:
    """A target for an interpreter in a tree on this machine; the builder image if needed."""
    interpreter = interpreter.absolute()
    tree = interpreter.parent.parent if interpreter.parent.name == "bin" else interpreter.parent
    use_builder = where == "builder"
    foreign = foreign_arch(interpreter) if where == "auto" else None
    if foreign is not None:
        return emulated_target(interpreter, tree, foreign, description=description)
    if where == "auto":
        native, why = runs_on_host(interpreter)
        use_builder = not native
        if use_builder:
            console.info(f"{interpreter} {why}: verifying it in the builder image")
    if not use_builder:
        return Target(interpreter=str(interpreter), description=description)
    from cpmatrix.engine.image import builder_image

    image = builder_image().tag
    mount = Mount(source=tree, target=str(tree), read_only=True)
    return Target(
        interpreter=str(interpreter), image=image, mounts=(mount,), description=description
    )


def foreign_arch(interpreter: Path) -> str | None:
    """The interpreter's architecture when this machine runs it only under emulation."""
    from cpmatrix.features import arch as fa
    from cpmatrix.verify import emulation

    try:
        info = elfinfo.read(interpreter)
    except (OSError, elfinfo.NotElf):
        return None
    if info is None:
        return None
    name = fa.machine_name(info.e_machine)
    return name if emulation.needed(name) else None


def emulated_target(interpreter: Path, tree: Path, arch: str, *, description: str) -> Target:
    """An interpreter of another architecture in a tree here: verified under qemu-user in a
    Debian image of its architecture (``debian.EMULATED_VERIFY_SUITE``) with a compiler, as the
    builder image has one (the smoke tier's test_ctypes finds libc through gcc or ld), refused
    first if that cannot run."""
    from cpmatrix.engine.image import debian_image_with
    from cpmatrix.features import arch as fa
    from cpmatrix.verify import emulation

    how = emulation.require(arch)
    target = fa.arch_named(arch)
    assert target is not None
    suite, packages = debian.EMULATED_VERIFY_SUITE, debian.WORKBENCH_PACKAGES
    image = debian_image_with(suite, packages, arch=target.debian).tag
    console.info(f"{interpreter} is {arch}: verifying it in {image}, {how.words}")
    return Target(
        interpreter=str(interpreter),
        image=image,
        mounts=(Mount(source=tree, target=str(tree), read_only=True),),
        description=description,
        timeout_factor=emulation.TIMEOUT_FACTOR,
    )


RUN_TOKEN_VARIABLE = "CPMATRIX_RUN_TOKEN"
"""Set for every command a HostPlace runs: each descendant inherits it, so whatever a command
left running (a test's subprocess orphaned in a session of its own, out of reach of the
process group) can be found in /proc and killed once the command is over."""


def processes_carrying(token: str) -> list[int]:
    """Processes whose environment holds this run's token (Linux /proc; elsewhere none)."""
    marker = f"{RUN_TOKEN_VARIABLE}={token}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


LEFTOVER_GRACE_SECONDS = 10.0
"""How long a SIGKILLed leftover may take to exit (its pipe closes before it is gone)."""


def kill_leftovers(token: str) -> list[int]:
    """SIGKILL every process still carrying the token and wait until each has exited (or the
    grace has passed: one stuck in the kernel); returns their pids."""
    killed = []
    for pid in processes_carrying(token):
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except OSError:
            continue
    deadline = time.monotonic() + LEFTOVER_GRACE_SECONDS
    while any(map(_running, killed)) and time.monotonic() < deadline:
        time.sleep(0.01)
    return killed


def _running(pid: int) -> bool:
    """Neither gone nor a zombie (Linux /proc)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


class HostPlace:
    """Runs commands on this host in their own process group, killed on timeout; whatever a
    command leaves running is killed when it ends."""

    label = "host"

    def __init__(self, scratch: Path) -> None:
        self.scratch = str(scratch)

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float
    ) -> Completed:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
        token = uuid.uuid4().hex
        started = time.monotonic()
        try:
            with sigint_default_in_children():
                process = subprocess.Popen(
                    list(argv),
                    env={**clean, **(env or {}), RUN_TOKEN_VARIABLE: token},
                    cwd=self.scratch,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except OSError as error:  # not executable here (a python.exe on Linux, a bad #! line)
            why = f"cannot start {argv[0]}: {type(error).__name__}: {error}"
            return Completed(exit_code=126, output=why, timed_out=False, seconds=0.0)
        chunks: list[bytes] = []
        reader = threading.Thread(target=_drain, args=(process, chunks), daemon=True)
        reader.start()
        try:
            process.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill_tree(process)
            process.wait()
            timed_out = True
        kill_leftovers(token)  # also closes the output pipe a leftover may hold open
        reader.join()
        return Completed(
            exit_code=process.returncode,
            output=b"".join(chunks).decode("utf-8", "replace"),
            timed_out=timed_out,
            seconds=time.monotonic() - started,
        )

    def put(self, name: str, data: bytes) -> str:
        path = Path(self.scratch) / name
        path.write_bytes(data)
        return str(path)

    def read(self, path: str) -> bytes | None:
        try:
            return Path(path).read_bytes()
        except OSError:
            return None


def _drain(process: subprocess.Popen[bytes], into: list[bytes]) -> None:
    """Read the command's output until every holder of the pipe has closed it."""
    stream = process.stdout
    assert stream is not None
    while chunk := os.read(stream.fileno(), 65536):
        into.append(chunk)
    stream.close()


def _kill_tree(process: subprocess.Popen[bytes]) -> None:
    """Its whole process group on POSIX (start_new_session made one); Windows has no killpg."""
    killpg = getattr(os, "killpg", None)
    if killpg is None:
        process.kill()
    else:
        killpg(process.pid, signal.SIGKILL)


class ContainerPlace:
    """Runs commands in a container; the scratch directory lives inside it."""

    def __init__(self, box: Container, image: str, timeout_factor: float = 1.0) -> None:
        self.box = box
        self.timeout_factor = timeout_factor
        self.label = f"container of {image}, {box.spec.network_words}"
        self.scratch = f"{SCRATCH_IN_CONTAINER}-{uuid.uuid4().hex[:8]}"
        box.run(["mkdir", "-p", self.scratch], timeout=60)

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float
    ) -> Completed:
        limit = timeout * self.timeout_factor
        done = self.box.run(argv, env=dict(env or {}), timeout=limit, workdir=self.scratch)
        return Completed(
            exit_code=done.exit_code,
            output=done.output,
            timed_out=done.timed_out,
            seconds=done.seconds,
        )

    def put(self, name: str, data: bytes) -> str:
        path = f"{self.scratch}/{name}"
        self.box.put_file(path, data)
        return path

    def read(self, path: str) -> bytes | None:
        done = self.box.run(["base64", "-w0", path], timeout=120)
        if not done.ok:
            return None
        import base64

        return base64.b64decode(done.output.strip())


@contextmanager
def open_place(target: Target) -> Iterator[Place]:
    if target.image is None:
        with tempfile.TemporaryDirectory(prefix="cpmatrix-verify-") as scratch:
            yield HostPlace(Path(scratch))
        return
    spec = ContainerSpec(
        image=target.image,
        mounts=target.mounts,
        network=False,
        cap_add=target.cap_add,
        name_hint="cpmatrix-verify",
    )
    with Container(spec) as box:
        for argv in target.setup:
            done = box.run(argv, timeout=SETUP_TIMEOUT_SECONDS * target.timeout_factor)
            if not done.ok:
                raise EnvironmentProblem(
                    f"preparing {target.label} failed: `{' '.join(argv)}` "
                    f"(exit {done.exit_code}): {done.output.strip()[-500:]}",
                    hint=f"the image {target.image} needs tar and gzip (every Debian base has)",
                )
        yield ContainerPlace(box, target.image, target.timeout_factor)
