"""Proving an artifact where it is used: extracted in bare consumer images, then verified.

The builder image has every -dev package installed, so an interpreter that loads a library from
the system passes there and fails on another team's machine. Here the archive itself is
mounted read-only into a container of a bare image (Debian made with ``debootstrap
--variant=minbase``: nothing but the base system), unpacked with the image's own ``tar``, and the
extracted interpreter goes through the feature and health checks: every expected extension
module imports (``_decimal`` itself, not ``decimal``), the default ssl context, venv + pip,
relocation. Then :func:`prove_teamwork` does what a team does with it in the oldest consumer
release plus a compiler (:mod:`.teamwork`): build sdists with C code, embed, run every script.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cpmatrix.artifacts import manifest, teamwork
from cpmatrix.engine.containers import Mount
from cpmatrix.features import debian
from cpmatrix.matrix import Cell, Matrix
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util import console, names, safetar
from cpmatrix.util.errors import ArtifactError, UsageError
from cpmatrix.util.fileio import sha256_of, write_json_atomic
from cpmatrix.verify import emulation
from cpmatrix.verify.report import Expectation, VerifyReport
from cpmatrix.verify.runner import Target

ARCHIVE_MOUNT = "/cpmatrix-artifact"
UNPACK_DIR = "/opt/consumer"
REPORT_DIR = "consumers"
"""``build/<cell-id>/consumers/<release>.json``: one verification report per consumer image."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Consumer:
    """A bare consumer machine: the Debian release it stands for and the image that is it."""

    name: str
    image: str
    how: str = "native"
    """``native``, or ``emulated (qemu-user 7.2)`` for another architecture's image."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsumerResult:
    consumer: Consumer
    report: VerifyReport

    def record(self) -> dict[str, object]:
        """The manifest's entry: where the artifact was proven, and how that went."""
        return {
            "consumer": self.consumer.name,
            "image": self.consumer.image,
            "how": self.consumer.how,
            "passed": self.report.passed,
            "checks": len(self.report.checks),
            "failed": [check.name for check in self.report.failed],
            "seconds": round(self.report.seconds, 1),
        }


def unpacked_interpreter(top: str, interpreter: str) -> PurePosixPath:
    """Where the interpreter lies in the container once the archive is unpacked."""
    return PurePosixPath(UNPACK_DIR) / top / interpreter


def artifact_target(
    archive: Path, *, top: str, interpreter: str, image: str, timeout_factor: float = 1.0
) -> Target:
    """The artifact unpacked into a fresh container of image, and its interpreter there.

    ``interpreter`` is relative to the archive's top directory (``bin/python3.13``).
    """
    archive = archive.absolute()
    mounted = f"{ARCHIVE_MOUNT}/{archive.name}"
    return Target(
        interpreter=str(unpacked_interpreter(top, interpreter)),
        image=image,
        mounts=(Mount(source=archive, target=mounted, read_only=True),),  # the file alone
        setup=(
            ("mkdir", "-p", UNPACK_DIR),
            ("tar", "-xzf", mounted, "-C", UNPACK_DIR),
        ),
        description=f"{archive.name} unpacked in {image}",
        timeout_factor=timeout_factor,
    )


def consumer_images(names: Sequence[str], *, arch: str | None = None) -> tuple[Consumer, ...]:
    """Bare images of these Debian releases: local, pulled, or made with debootstrap; for an
    architecture this machine only emulates, ``debootstrap --arch`` images run under qemu-user
    (refused first, with what to do, where binfmt_misc cannot run them)."""
    from cpmatrix.engine.image import base_image
    from cpmatrix.features import arch as fa

    if arch is not None and emulation.needed(arch):
        how = emulation.require(arch).words
        target = fa.arch_named(arch)
        assert target is not None
        return tuple(
            Consumer(name=name, image=base_image(name, arch=target.debian).tag, how=how)
            for name in names
        )
    return tuple(Consumer(name=name, image=base_image(name).tag) for name in names)


def workbench(suite: str) -> Consumer:
    """The consumer release with a compiler and pkg-config (``build-essential``): a team's
    build machine."""
    from cpmatrix.engine.image import debian_image_with

    image = debian_image_with(suite, debian.WORKBENCH_PACKAGES).tag
    return Consumer(name=f"{suite}+build-essential", image=image)


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamWork:
    """How the team-work steps went in a workbench consumer."""

    consumer: Consumer
    outcomes: tuple[teamwork.Outcome, ...]
    expected_steps: int

    @property
    def passed(self) -> bool:
        return len(self.outcomes) == self.expected_steps and all(o.passed for o in self.outcomes)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(o.step for o in self.outcomes if not o.passed)

    def record(self) -> dict[str, object]:
        """The manifest's ``proven_on`` entry."""
        return {
            "consumer": self.consumer.name,
            "image": self.consumer.image,
            "passed": self.passed,
            "team_work": [o.record() for o in self.outcomes],
            "failed": list(self.failed),
            "seconds": round(sum(o.seconds for o in self.outcomes), 1),
        }


def prove_teamwork(archive: Path, *, top: str, interpreter: str, suite: str) -> TeamWork:
    """The team-work steps (:mod:`.teamwork`) in :func:`workbench`."""
    consumer = workbench(suite)
    with console.group(f"team work with {top} on {consumer.name}"):
        outcomes = teamwork.run(
            archive,
            top=top,
            interpreter=interpreter,
            image=consumer.image,
            sdists=teamwork.fetch_sdists(),
        )
        for outcome in outcomes:
            state = "ok" if outcome.passed else "FAILED"
            console.info(f"{outcome.step}: {state} ({outcome.seconds:.1f}s)")
    expected = len(teamwork.steps(archive.name, top=top, interpreter=interpreter))
    return TeamWork(consumer=consumer, outcomes=outcomes, expected_steps=expected)


def write_reports(paths: CellPaths, results: Sequence[ConsumerResult]) -> None:
    directory = paths.dir / REPORT_DIR
    directory.mkdir(parents=True, exist_ok=True)
    for result in results:
        name = f"{result.consumer.name}.json"  # a consumer name from matrix.yaml
        report = names.join(directory, name, what="consumer report", error=ArtifactError)
        write_json_atomic(report, result.report.to_json())


def artifact_request(
    archive: Path, model: Matrix, *, image: str | None
) -> tuple[Cell, tuple[Consumer, ...], Mapping[str, Any]]:
    """``invoke verify --artifact``: the archive's cell (from the manifest beside it), where to
    prove it (the image given, else every consumer image of its platform), and the manifest."""
    if not archive.is_file():
        raise UsageError(f"--artifact {archive} does not exist")
    beside = manifest.manifest_beside(archive)
    if beside is None or not beside.is_file():
        raise UsageError(
            f"--artifact {archive} is not a cpmatrix archive with its manifest beside it",
            hint="give an archive from dist/: dist/<cell-id>.tar.gz with dist/<cell-id>.json",
        )
    data = manifest.load(beside)
    check_archive(archive, data)
    cell = model.cell(
        python=str(data["python"]),
        variant=str(data["variant"]),
        platform=str(data["platform"]),
        profile=str(data["profile"]),
    )
    if image:
        return cell, (Consumer(name=image, image=image),), data
    if not cell.platform.consumers:
        raise UsageError(
            f"{cell.platform.name} names no consumer images in matrix.yaml",
            hint="give --image IMAGE, or add consumers: [...] to the platform",
        )
    return cell, consumer_images(cell.platform.consumers, arch=cell.platform.arch), data


ARTIFACT_LIMITS = safetar.Limits(
    max_members=100_000, max_member_bytes=256 << 20, max_total_bytes=2 << 30
)
"""What an artifact may unpack to: a CPython install is ~5,000 files and ~250 MB."""


def check_archive(archive: Path, described: Mapping[str, Any]) -> None:
    """Before any container starts: the archive is the one its manifest describes (size and
    sha256), and what it unpacks to is bounded and stays in its top directory."""
    recorded = described["artifact"]
    size = archive.stat().st_size
    if size != recorded["size"] or sha256_of(archive) != recorded["sha256"]:
        raise ArtifactError(
            f"--artifact {archive} is not the archive its manifest describes "
            f"(size {size}, manifest {recorded['size']}; sha256 differs or size does)",
            hint="take the archive and manifest from the same dist/ (invoke index --check)",
        )
    try:
        top = safetar.inspect(archive, limits=ARTIFACT_LIMITS)
    except (safetar.ArchiveRefused, safetar.ArchiveUnreadable) as refused:
        raise ArtifactError(f"--artifact {archive} is refused: {refused}") from None
    if top != described["id"]:
        raise ArtifactError(f"--artifact {archive} unpacks to {top!r}, not {described['id']!r}")


def prove(
    archive: Path,
    *,
    top: str,
    interpreter: str,
    expect: Expectation,
    consumers: Sequence[Consumer],
    recorded: Mapping[str, Any] | None = None,
) -> tuple[ConsumerResult, ...]:
    """Verify the unpacked artifact in each consumer image (checks only, no stdlib tier).
    ``recorded``: build-time evidence the shipped tree no longer shows (verify.recorded_evidence).
    """
    from cpmatrix import verify

    results = []
    for consumer in consumers:
        factor = 1.0 if consumer.how == "native" else emulation.TIMEOUT_FACTOR
        target = artifact_target(
            archive, top=top, interpreter=interpreter, image=consumer.image, timeout_factor=factor
        )
        with console.group(f"prove {top} on bare {consumer.name}"):
            report = verify.run(target, expect, tiers=(), recorded=recorded)
            console.info(report.summary())
        results.append(ConsumerResult(consumer=consumer, report=report))
    return tuple(results)


def verify_archive(
    archive: Path, model: Matrix, *, image: str | None
) -> tuple[ConsumerResult, ...]:
    """``invoke verify --artifact``: the archive proven where :func:`artifact_request` says."""
    from cpmatrix import verify

    cell, where, described = artifact_request(archive, model, image=image)
    return prove(
        archive,
        top=cell.id,
        interpreter=manifest.interpreter_path(cell),
        expect=Expectation.of_cell(cell),
        consumers=where,
        recorded=verify.profile_evidence(described),
    )
