"""The real 3.13.5 builds as other teams get them: portable, self-contained, proven on bare
Debian bullseye, bookworm and trixie, and installable with uv.

The session's real builds (``built_cells``) are verified, staged, proven in each bare consumer
image of ``matrix.yaml`` (containers of debootstrap ``--variant=minbase`` roots: nothing but the
base system) and published into a temporary dist/; uv, the real binary from PyPI, then installs
the jit artifact from ``dist/uv/jit.json`` inside a bare trixie container and runs it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import PUBLISHED_VARIANTS

from cpmatrix.artifacts import index, manifest, validate
from cpmatrix.builders import finish_tree
from cpmatrix.engine.containers import Container, ContainerSpec, Mount
from cpmatrix.engine.image import SUITE_GLIBC, SYSROOT_SUITE, base_image
from cpmatrix.util import elfinfo

pytestmark = [pytest.mark.docker, pytest.mark.slow]

CONSUMERS = ("bullseye", "bookworm", "trixie")
MUST_IMPORT = ("_decimal", "_ctypes", "_dbm", "_gdbm", "readline", "_curses", "_ssl", "_uuid")


@pytest.fixture(scope="module")
def manifests(published: Path) -> dict[str, dict[str, Any]]:
    """conftest's published cells: their manifests by variant, and where dist/ is."""
    found = {}
    for path in sorted(published.glob("*.json")):
        if index.is_manifest(path.name):
            data = manifest.load(path)
            found[str(data["variant"])] = data | {"_dist": str(published)}
    return found


def test_the_matrix_names_bare_bullseye_bookworm_and_trixie_for_linux(
    built_cells: dict[str, Any],
) -> None:
    cell = next(iter(built_cells.values())).cell
    assert cell.platform.consumers == CONSUMERS
    assert cell.platform.glibc_floor == SUITE_GLIBC[SYSROOT_SUITE] == "2.31"


def test_every_real_build_is_proven_in_every_bare_consumer_image(
    manifests: dict[str, dict[str, Any]],
) -> None:
    """9 of 9: default, freethreaded and jit, each on bullseye, bookworm and trixie."""
    runs = [
        (name, proof["consumer"], proof["passed"], proof["failed"])
        for name, data in manifests.items()
        for proof in data["proven_on"]
        if "team_work" not in proof
    ]
    assert sorted((name, where) for name, where, _, _ in runs) == sorted(
        (name, where) for name in ("default", "freethreaded", "jit") for where in CONSUMERS
    )
    assert all(passed for _, _, passed, _ in runs), runs


def test_every_manifest_records_the_team_work_proof_on_bullseye_with_a_compiler(
    manifests: dict[str, dict[str, Any]],
) -> None:
    for name, data in manifests.items():
        work = data["proven_on"][-1]
        assert work["consumer"] == "bullseye+build-essential", name
        assert work["passed"] and work["failed"] == [], work
        steps = [step["step"] for step in work["team_work"]]
        assert steps == ["unpack", "scripts", "sdists", "embed", "cpython-tests"], name


def test_the_bare_consumer_reports_name_each_extension_module_that_imported(
    built_cells: dict[str, Any], manifests: dict[str, dict[str, Any]]
) -> None:
    for name in PUBLISHED_VARIANTS:
        built = built_cells[name]
        for consumer in CONSUMERS:
            path = built.paths.dir / "consumers" / f"{consumer}.json"
            report = json.loads(path.read_text())
            imported = report["observation"]["facts"]["modules"]["imported"]
            assert set(MUST_IMPORT) <= set(imported), (consumer, imported)


def test_artifacts_need_only_glibc_and_at_most_2_31(
    built_cells: dict[str, Any], manifests: dict[str, dict[str, Any]]
) -> None:
    for name, data in manifests.items():
        runs_on = data["runs_on"]
        assert tuple(map(int, runs_on["min_glibc"].split("."))) <= (2, 31), name
        assert set(runs_on["needed_libraries"]) <= finish_tree.HOST_LIBRARIES, name
        bundled = {entry["soname"]: entry for entry in data["portable"]["bundled"]}
        assert {"libssl.so.1.1", "libffi.so.7", "libmpdec.so.3"} <= set(bundled), name
        assert all(entry["package"] and entry["version"] for entry in bundled.values())
        assert "tkinter" in data["portable"]["left_out"]
        install = built_cells[name].paths.install
        assert validate.check_tree(install, glibc_floor="2.31") == []


def test_archives_are_stripped_with_debug_info_beside_them(
    built_cells: dict[str, Any], manifests: dict[str, dict[str, Any]]
) -> None:
    data = manifests["jit"]
    dist = Path(data["_dist"])
    roles = {extra["role"]: extra["file"] for extra in data["artifact"]["also"]}
    assert roles == {
        "archive-zst": f"{data['id']}.tar.zst",
        "tests": f"{data['id']}-tests.tar.gz",
        "dbgsym": f"{data['id']}-dbgsym.tar.gz",
        "sbom": f"{data['id']}.cdx.json",
    }
    assert all((dist / name).is_file() for name in roles.values())
    interpreter = built_cells["jit"].paths.install / data["artifact"]["interpreter"]
    assert not finish_tree.has_debug_info(interpreter)
    ident = finish_tree.build_id(interpreter)
    assert ident is not None
    debug = built_cells["jit"].paths.dbgsym / ".build-id" / ident[:2] / f"{ident[2:]}.debug"
    assert finish_tree.has_debug_info(debug)
    info = elfinfo.read(interpreter)
    assert info is not None


def test_uv_installs_the_jit_artifact_in_bare_trixie_and_runs_it(
    manifests: dict[str, dict[str, Any]],
) -> None:
    uv = shutil.which("uv")
    assert uv is not None, "uv is a dev dependency (pip install -e .[dev])"
    data = manifests["jit"]
    dist = Path(data["_dist"])
    downloads = json.loads((dist / "uv" / "jit.json").read_text())
    assert list(downloads) == ["cpython-3.13.5-linux-x86_64-gnu"]
    # the container sees dist/ at the same path, so the file:// URLs in jit.json resolve there
    spec = ContainerSpec(
        image=base_image("trixie").tag,
        mounts=(
            Mount(source=dist, target=str(dist), read_only=True),
            Mount(source=Path(uv), target="/usr/local/bin/uv", read_only=True),
        ),
        network=False,
        name_hint="cpmatrix-uv",
    )
    env = {"UV_PYTHON_DOWNLOADS_JSON_URL": str(dist / "uv" / "jit.json"), "HOME": "/root"}
    with Container(spec) as box:
        installed = box.run(["uv", "python", "install", "3.13.5"], env=env, timeout=300)
        assert installed.ok, installed.output
        script = "import sys, _decimal, _ctypes, _testinternalcapi; print(sys.version)"
        ran = box.run(
            ["uv", "run", "--no-project", "-p", "3.13", "python", "-c", script],
            env={**env, "UV_PYTHON_DOWNLOADS": "never"},
            timeout=300,
        )
        assert ran.ok and "3.13.5" in ran.output, ran.output


def test_every_published_artifact_has_a_valid_cyclonedx_sbom_naming_what_it_bundles(
    manifests: dict[str, dict[str, Any]],
) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    validator = JsonStrictValidator(SchemaVersion.V1_6)
    for name, data in manifests.items():
        also = {extra["role"]: extra["file"] for extra in data["artifact"]["also"]}
        text = (Path(data["_dist"]) / also["sbom"]).read_text()
        assert validator.validate_str(text) is None, name
        document = json.loads(text)
        packages = {c["name"] for c in document["components"]}
        assert {"cpython", "libssl1.1", "libffi7", "libmpdec3"} <= packages, name
        assert {
            "package": "libssl1.1",
            "support": "OpenSSL 1.1.1 upstream",
            "ended": "2023-09-11",
        } in data["portable"]["unsupported"]
