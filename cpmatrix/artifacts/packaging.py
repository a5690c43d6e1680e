"""Packaging a verified cell: ``dist/<cell-id>.tar.gz``, its manifest, then the index.

Only a cell whose verification passed is packaged: one that failed stays in
``build/<cell-id>/`` with its report.
"""

from __future__ import annotations

import datetime
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpmatrix.artifacts import index, manifest, publish, sbom
from cpmatrix.artifacts.cache import Artifact, ContentKey, current_key
from cpmatrix.artifacts.stage import Staged, StagedFile
from cpmatrix.builders import record as build_record
from cpmatrix.builders.record import BuildRecord
from cpmatrix.matrix import BUILDER_KINDS, Cell, Matrix, Selection, layout
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util import console, elfinfo, jsonfile, safetar, treedigest
from cpmatrix.util.errors import ArtifactError, VerificationFailed
from cpmatrix.util.fileio import sha256_of

# -- packaging --------------------------------------------------------------------------------


def _read_json(path: Path, what: str) -> dict[str, Any]:
    if not path.exists():
        raise ArtifactError(
            f"{path} is missing: the {what} of this cell was not written",
            hint="build and verify the cell first: invoke build …",
        )
    return jsonfile.read(path, what=what, error=ArtifactError)


def verified_report(paths: CellPaths) -> dict[str, Any]:
    """The cell's verification report, refused unless it passed: failures never reach dist/."""
    if paths.incomplete_marker.exists():
        raise ArtifactError(
            f"{paths.cell_id}: the build did not complete ({paths.incomplete_marker} exists)",
            hint=f"see {paths.log}; rebuild the cell",
        )
    if not paths.install.is_dir():
        raise ArtifactError(
            f"{paths.cell_id} is not built: {paths.install} does not exist",
            hint="invoke build … builds, verifies and packages it",
        )
    report = _read_json(paths.verify_report, "verification report")
    if report.get("passed") is not True:
        raise VerificationFailed(
            f"{paths.cell_id} failed verification; it stays in {paths.dir} and is not packaged",
            hint=f"the report is {paths.verify_report}",
        )
    return report


def unchanged_since_verification(paths: CellPaths, report: Mapping[str, Any]) -> None:
    """Refuse an install tree that is not the one verification saw (by treedigest)."""
    verified = report.get("install_sha256")
    if not isinstance(verified, str):
        raise ArtifactError(
            f"{paths.verify_report} does not record which install tree it verified",
            hint="verify the cell again (invoke verify, or invoke build, which reuses the build)",
        )
    now = treedigest.digest(paths.install)
    if now != verified:
        raise ArtifactError(
            f"{paths.install} changed since it was verified (tree sha256 {now[:16]}…, "
            f"verified {verified[:16]}…); it is not packaged",
            hint="rebuild the cell (invoke build --force …) or verify it again",
        )


def checked_record(cell: Cell, paths: CellPaths) -> BuildRecord:
    """build.json of a successful build of exactly this cell, validated."""
    found = build_record.load_ok(paths.record)
    if found.cell_id != cell.id:
        raise build_record.RecordError(
            f"{paths.record} is the record of {found.cell_id}, not of {cell.id}",
            hint="rebuild the cell",
        )
    return found


def key_of_build(cell: Cell, record: BuildRecord) -> ContentKey:
    """The key of a finished build: its builder kind and source as build.json records them."""
    kind = record.builder
    return current_key(cell, source=record.source, kind=kind if kind in BUILDER_KINDS else None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted:
    """A cell that may go forward: its passed verification report (read once) and build.json."""

    report: Mapping[str, Any]
    record: BuildRecord


def accept(cell: Cell, paths: CellPaths) -> Accepted:
    """The cell's verification passed, its record is its own, its tree is the one verified."""
    report = verified_report(paths)
    record = checked_record(cell, paths)
    unchanged_since_verification(paths, report)
    return Accepted(report=report, record=record)


def package(
    cell: Cell,
    paths: CellPaths,
    *,
    key: ContentKey | None = None,
    dist: Path | None = None,
    accepted: Accepted,
    staged: Staged,
    proven_on: Sequence[Mapping[str, Any]] = (),
) -> Artifact:
    """Publish: the staged archives, the manifest (with where the archive was proven), the
    SBOM and the index into dist/, as one transaction. :func:`.release.release` is the one
    caller that hands in what it accepted, staged and proved."""
    where = dist or layout.dist_root()
    key = key or key_of_build(cell, accepted.record)
    watch = console.Stopwatch()
    where.mkdir(parents=True, exist_ok=True)
    with index.lock(where), publish.publication(where) as publication:
        for item in staged.files:
            _stage_copy(item, publication)
        inputs = _manifest_inputs(cell, paths, accepted, staged, key, proven_on)
        made = with_sbom(manifest.make(inputs), publication)
        publication.write_text(manifest.manifest_name(cell.id), manifest.dumps(made))
        index.stage_index(publication)
        publication.commit()
    written = staged.archive.written
    archive_path = where / manifest.archive_name(cell.id)
    console.info(
        f"{cell.id}: packaged {archive_path.name} ({written.size / 1e6:.1f} MB, "
        f"{written.entries} entries) in {console.elapsed(watch.seconds)}"
    )
    return Artifact(
        cell_id=cell.id,
        archive=archive_path,
        manifest=where / manifest.manifest_name(cell.id),
        sha256=written.sha256,
        size=written.size,
        key=key.digest,
        cached=False,
    )


def _manifest_inputs(
    cell: Cell,
    paths: CellPaths,
    accepted: Accepted,
    staged: Staged,
    key: ContentKey,
    proven_on: Sequence[Mapping[str, Any]],
) -> manifest.Inputs:
    linux = cell.platform.os == "linux"
    return manifest.Inputs(
        cell=cell,
        build=accepted.record,
        verification=accepted.report,
        archive=staged.archive.written,
        requirements=elfinfo.requirements(paths.install) if linux else None,
        key=key.digest,
        key_inputs=key.inputs,
        extras=tuple((i.role, i.path.name, i.written) for i in staged.extras),
        proven_on=tuple(proven_on),
    )


def with_sbom(made: dict[str, Any], publication: publish.Publication) -> dict[str, Any]:
    """Write the artifact's CycloneDX SBOM beside it; the manifest lists it with the archives
    (so SHA256SUMS and the attestations cover it) and names each bundled library past its
    support, which is also said on the console."""
    today = datetime.date.today().isoformat()
    document = sbom.document(made, today=today)
    path = publication.write_text(sbom.sbom_name(str(made["id"])), sbom.dumps(document))
    also = {"role": "sbom", "file": path.name, "sha256": sha256_of(path)}
    made["artifact"]["also"].append(also | {"size": path.stat().st_size})
    if made.get("portable"):
        ended = sbom.unsupported(made["portable"]["bundled"], today)
        made["portable"]["unsupported"] = ended
        for item in ended:
            console.warn(
                f"{made['id']}: bundles {item['package']}, past its support "
                f"({item['support']} ended {item['ended']})"
            )
    return made


def _stage_copy(item: StagedFile, publication: publish.Publication) -> None:
    """A staged archive into the publication, checked against what staging wrote."""
    copy = publication.path(item.path.name)
    shutil.copyfile(item.path, copy)
    copy.chmod(0o644)
    if sha256_of(copy) != item.written.sha256:
        raise ArtifactError(
            f"{item.path} changed after it was staged (sha256 differs); nothing was published",
            hint="package the cell again",
        )


def extract(archive: Path, into: Path) -> Path:
    """Unpack an artifact (for consumers and tests) with :mod:`cpmatrix.util.safetar`; its top
    directory."""
    into.mkdir(parents=True, exist_ok=True)
    try:
        return safetar.extract(archive, into)
    except safetar.ArchiveRefused as refused:
        raise ArtifactError(
            f"refused {archive.name}: {refused}",
            hint="this is not an archive cpmatrix made; nothing was extracted",
        ) from None
    except safetar.ArchiveUnreadable as error:
        raise ArtifactError(f"{archive.name} is truncated or corrupt: {error}") from None
    except OSError as error:
        raise ArtifactError(
            f"cannot extract {archive.name} into {error.filename or into}: {error.strerror}"
        ) from None


def built_cells(model: Matrix, root: Path | None = None) -> list[tuple[Cell, CellPaths]]:
    """Every cell of the matrix that has a directory under the build root."""
    where = root or layout.build_root()
    known = {cell.id: cell for cell in model.expand(Selection(), include_defaults=False).cells}
    found = []
    for directory in sorted(where.iterdir()) if where.is_dir() else []:
        if directory.is_dir() and directory.name in known:
            found.append((known[directory.name], CellPaths.of(directory.name, where)))
        elif directory.is_dir():
            console.detail(f"{directory.name}: not a cell of {model.path.name}; skipped")
    return found
