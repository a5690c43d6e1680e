"""One verified cell into ``dist/``, forward only: accept → gate → stage → prove → publish.

This is the one place a cell goes after its verification in the builder image:

1. **accept**: the verification report, read once, must have passed; build.json must be this
   cell's; the install tree must be the one verification saw (:func:`packaging.accept`);
2. **gate**: a Linux tree must be portable (:func:`validate.gate`), before minutes
   of archiving;
3. **stage**: the archives written under ``build/<cell-id>/artifact/`` (:mod:`.stage`);
4. **prove**: the staged archive unpacked and verified in every bare consumer image of its
   platform, then a team's work on the oldest one with a compiler (:mod:`.consumers`);
5. **publish**: the proven archives, manifest, SBOM and index into ``dist/``
   (:func:`packaging.package`).

A cell that fails any step is not published; what each step wrote stays in its build directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpmatrix import verify
from cpmatrix.artifacts import consumers, packaging, validate
from cpmatrix.artifacts.cache import Artifact, ContentKey
from cpmatrix.artifacts.manifest import interpreter_path
from cpmatrix.artifacts.stage import Staged, progress_lines, stage
from cpmatrix.matrix import Cell
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util import console
from cpmatrix.util.errors import VerificationFailed
from cpmatrix.verify.report import Expectation


@dataclass(frozen=True, slots=True, kw_only=True)
class ProofTime:
    """How long one verification of a cell took, and where it ran."""

    place: str
    seconds: float

    def words(self) -> str:
        return f"{self.place} {console.elapsed(self.seconds)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Published:
    artifact: Artifact
    proofs: tuple[ProofTime, ...]
    """One per bare consumer the archive was proven on, then the team work."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Proven:
    proven_on: tuple[Mapping[str, Any], ...]
    """The manifest's ``proven_on`` entries."""
    times: tuple[ProofTime, ...]


def release(
    cell: Cell, paths: CellPaths, *, key: ContentKey | None = None, dist: Path | None = None
) -> Published:
    """Accept, gate, stage, prove and publish one built and verified cell."""
    accepted = packaging.accept(cell, paths)
    validate.gate(cell, paths)
    staged = stage(cell, paths, on_entry=progress_lines(cell.id))
    proven = prove(cell, paths, staged)
    artifact = packaging.package(
        cell,
        paths,
        key=key,
        dist=dist,
        accepted=accepted,
        staged=staged,
        proven_on=proven.proven_on,
    )
    return Published(artifact=artifact, proofs=proven.times)


def prove(cell: Cell, paths: CellPaths, staged: Staged) -> Proven:
    """The staged archive in every bare consumer image of the platform, then a team's work."""
    archive = staged.archive.path
    results = consumers.prove(
        archive,
        top=cell.id,
        interpreter=interpreter_path(cell),
        expect=Expectation.of_cell(cell),
        consumers=consumers.consumer_images(cell.platform.consumers, arch=cell.platform.arch),
        recorded=verify.recorded_evidence(paths.record),
    )
    consumers.write_reports(paths, results)
    refuse_failed(cell, paths, results)
    proven_on: list[Mapping[str, Any]] = [r.record() for r in results]
    times = [ProofTime(place=r.consumer.name, seconds=r.report.seconds) for r in results]
    # the team-work proof runs natively only, not yet under qemu-user (docs/portable-linux.md)
    if cell.platform.consumers and all(r.consumer.how == "native" for r in results):
        work = prove_team_work(cell, paths, archive)
        proven_on.append(work.record())
        seconds = sum(outcome.seconds for outcome in work.outcomes)
        times.append(ProofTime(place=f"team work on {work.consumer.name}", seconds=seconds))
    return Proven(proven_on=tuple(proven_on), times=tuple(times))


def refuse_failed(
    cell: Cell, paths: CellPaths, results: Sequence[consumers.ConsumerResult]
) -> None:
    failed = [result for result in results if not result.report.passed]
    if failed:
        details = "; ".join(
            f"bare {r.consumer.name}: " + ", ".join(check.name for check in r.report.failed)
            for r in failed
        )
        raise VerificationFailed(
            f"{cell.id} does not work where it is used ({details}); it is not published",
            hint=f"the reports are in {paths.dir / consumers.REPORT_DIR}",
        )


def prove_team_work(cell: Cell, paths: CellPaths, archive: Path) -> consumers.TeamWork:
    """The team-work proof in the oldest consumer release with a compiler; a failure is not
    published."""
    work = consumers.prove_teamwork(
        archive,
        top=cell.id,
        interpreter=interpreter_path(cell),
        suite=cell.platform.consumers[0],
    )
    if not work.passed:
        tails = "\n".join(f"{o.step}:\n{o.record().get('output', '')}" for o in work.outcomes)
        raise VerificationFailed(
            f"{cell.id}: a team cannot work with it on {work.consumer.name} "
            f"(failed: {', '.join(work.failed) or 'a step did not run'}); it is not published\n"
            + tails,
            hint=f"the build directory: {paths.dir}",
        )
    return work
