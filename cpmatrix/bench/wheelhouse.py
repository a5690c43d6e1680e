"""pyperformance's files on the host, pinned by the lock file committed beside this module.

``pyperformance-lock.json`` names every file a selected benchmark can need (pyperformance's own
wheel, whose data files are the benchmarks; pip, setuptools and wheel; each benchmark's pinned
requirements with their dependencies, as wheels for every interpreter kind we test and as sdists
where one lacks a wheel, plus those sdists' build requirements) with its URL and sha256.

The wheelhouse lives in the cache under the lock's own hash, so a cache filled for another lock
is never used; a file enters it only once its sha256 matches the lock. Containers then install
from it read-only with ``--no-index --find-links``: no network inside any of them.
``invoke bench-lock`` (scripts/pyperformance_lock.py) regenerates the lock.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from cpmatrix.matrix import layout
from cpmatrix.util import console
from cpmatrix.util.errors import EnvironmentProblem, UsageError
from cpmatrix.util.fileio import sha256_of

LOCK_FILE = Path(__file__).resolve().parent / "pyperformance-lock.json"
SCHEMA = 1
REGENERATE = "regenerate the lock with `invoke bench-lock --benchmarks NAMES` and commit it"


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedFile:
    name: str
    url: str
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Lock:
    """The parsed lock: what each benchmark needs, and every file's URL and sha256."""

    digest: str
    pyperformance: str
    """The pyperformance wheel's file name."""
    tools: tuple[str, ...]
    benchmarks: Mapping[str, tuple[str, ...]]
    """Benchmark name → the files its requirements need (empty: the standard library only)."""
    files: Mapping[str, LockedFile]
    targets: tuple[str, ...]

    def pip_wheel(self) -> str:
        return next(name for name in self.tools if name.startswith("pip-"))

    def files_for(self, benchmarks: Iterable[str]) -> list[LockedFile]:
        """Everything the chosen benchmarks need, with pyperformance and the tools."""
        missing = [name for name in benchmarks if name not in self.benchmarks]
        if missing:
            raise UsageError(
                f"the pyperformance lock covers no {', '.join(missing)}",
                hint=f"{REGENERATE} (it lists {len(self.benchmarks)} benchmarks)",
            )
        names = [self.pyperformance, *self.tools]
        names += [name for bench in benchmarks for name in self.benchmarks[bench]]
        return [self.files[name] for name in dict.fromkeys(names)]


def parse_lock(text: str) -> Lock:
    data: dict[str, Any] = json.loads(text)
    if data.get("schema") != SCHEMA:
        raise UsageError(f"{LOCK_FILE.name} has schema {data.get('schema')}, not {SCHEMA}",
                         hint=REGENERATE)  # fmt: skip
    files = {
        name: LockedFile(name=name, url=entry["url"], sha256=entry["sha256"])
        for name, entry in data["files"].items()
    }
    return Lock(
        digest=hashlib.sha256(text.encode()).hexdigest(),
        pyperformance=data["pyperformance"],
        tools=tuple(data["tools"]),
        benchmarks={name: tuple(entry["files"]) for name, entry in data["benchmarks"].items()},
        files=files,
        targets=tuple(data["targets"]),
    )


def load_lock(path: Path = LOCK_FILE) -> Lock:
    return parse_lock(path.read_text(encoding="utf-8"))


def bench_cache() -> Path:
    return layout.cache_dir() / "bench"


def wheelhouse_dir(lock: Lock) -> Path:
    return bench_cache() / f"wheelhouse-{lock.digest[:16]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """What filling the wheelhouse did."""

    directory: Path
    downloaded: int
    bytes: int
    seconds: float


def fill(lock: Lock, files: Iterable[LockedFile]) -> Fill:
    """Download every file not yet in the wheelhouse; check each present file's sha256."""
    from cpmatrix.sources.download import DownloadPolicy, download
    from cpmatrix.sources.model import ProviderFailed

    directory = wheelhouse_dir(lock)
    directory.mkdir(parents=True, exist_ok=True)
    stopwatch = console.Stopwatch()
    downloaded = size = 0
    policy = DownloadPolicy.from_environment()
    with FileLock(str(directory) + ".lock"):
        for entry in files:
            target = directory / entry.name
            if target.is_file() and sha256_of(target) == entry.sha256:
                continue
            target.unlink(missing_ok=True)
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".part-", delete=False) as part:
                staging = Path(part.name)
            try:
                console.progress(f"wheelhouse: {entry.name}")
                download(entry.url, staging, policy)
                got = sha256_of(staging)
                if got != entry.sha256:
                    raise EnvironmentProblem(
                        f"{entry.name}: sha256 {got} is not the locked {entry.sha256}",
                        hint=f"the index served other bytes than when the lock was made; "
                        f"{REGENERATE} only if the new file is trusted",
                    )
                staging.chmod(0o644)
                staging.replace(target)
            except ProviderFailed as failed:
                raise EnvironmentProblem(
                    f"cannot download {entry.name} for the pyperformance wheelhouse: {failed}",
                    hint="the host needs PyPI once; containers never do",
                ) from None
            finally:
                staging.unlink(missing_ok=True)
            downloaded += 1
            size += target.stat().st_size
    return Fill(directory=directory, downloaded=downloaded, bytes=size,
                seconds=stopwatch.seconds)  # fmt: skip


def benchmarks_dir(lock: Lock) -> Path:
    """pyperformance's ``data-files/benchmarks`` from its locked wheel, unpacked once (read-only
    in the containers)."""
    wheel = wheelhouse_dir(lock) / lock.pyperformance
    target = bench_cache() / f"pyperformance-{lock.files[lock.pyperformance].sha256[:16]}"
    if (target / "MANIFEST").is_file():
        return target
    with FileLock(str(target) + ".lock"):
        if (target / "MANIFEST").is_file():
            return target
        staging = Path(tempfile.mkdtemp(prefix=".pyperformance-", dir=target.parent))
        prefix = "pyperformance/data-files/benchmarks/"
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.infolist():
                if member.filename.startswith(prefix) and not member.is_dir():
                    relative = member.filename.removeprefix(prefix)
                    out = staging / relative
                    if not out.resolve().is_relative_to(staging.resolve()):
                        raise EnvironmentProblem(f"{wheel.name}: unsafe member {member.filename}")
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(archive.read(member))
        if not (staging / "MANIFEST").is_file():
            shutil.rmtree(staging, ignore_errors=True)
            raise EnvironmentProblem(f"{wheel.name} holds no {prefix}MANIFEST", hint=REGENERATE)
        shutil.rmtree(target, ignore_errors=True)
        staging.replace(target)
    return target


def built_dir(lock: Lock, key: str) -> Path:
    """Wheels one interpreter built from sdists, kept per lock and interpreter."""
    return bench_cache() / f"built-{lock.digest[:16]}" / key
