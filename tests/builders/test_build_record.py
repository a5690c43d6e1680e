"""build.json is validated input: packaging refuses what a successful, verified build did not
leave, and every builder writes a record that the reader accepts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from artifactkit import build_record, built_cell, key_for, package_unproven
from sourcekit import FILES, small_release, tarball_bytes

from cpmatrix.builders import record
from cpmatrix.builders.base import BuildRequest
from cpmatrix.builders.posix import NativeBuilder
from cpmatrix.matrix import Cell, matrixfile
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.sources import SourceCache, prepare
from cpmatrix.util import treedigest
from cpmatrix.util.errors import ArtifactError
from cpmatrix.verify.report import Expectation, VerifyReport

pytestmark = pytest.mark.usefixtures("own_cache")


def with_field(of: Cell, **fields: Any) -> bytes:
    return json.dumps({**build_record(of), **fields}).encode()


BAD_RECORDS = {
    "empty object": (lambda cell: b"{}", "'schema' must be 1"),
    "failed build": (
        lambda cell: with_field(cell, result="failed: make"),
        "says the build did not succeed (failed: make)",
    ),
    "phases of the wrong type": (
        lambda cell: with_field(cell, phases={"compile": "long"}),
        "'phases' must be an object of numbers",
    ),
    "argv of the wrong type": (
        lambda cell: with_field(cell, configure={"argv": "configure --x"}),
        "'configure.argv' must be a list of strings",
    ),
    "unknown builder": (
        lambda cell: with_field(cell, where={"builder": "ssh"}),
        "'where.builder' must be one of",
    ),
    "invalid UTF-8": (lambda cell: b'{"schema": 1, "result": "ok\xff"}', "is not UTF-8 text"),
    "not JSON": (lambda cell: b"{half", "is not valid JSON"),
    "a list": (lambda cell: b"[]", "is not a JSON object"),
    "another cell's record": (
        lambda cell: with_field(cell, cell={"id": "cpython-3.13.5-default-linux-x86_64"}),
        "is the record of cpython-3.13.5-default-linux-x86_64",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_packaging_refuses_a_bad_build_record(case: str, tmp_path: Path, jit: Cell) -> None:
    make, words = BAD_RECORDS[case]
    paths = built_cell(tmp_path / "build", jit)
    paths.record.write_bytes(make(jit))
    with pytest.raises(ArtifactError) as refused:
        package_unproven(jit, paths, key=key_for(jit), dist=tmp_path / "dist")
    assert words in refused.value.message
    assert str(paths.record) in refused.value.message
    assert not (tmp_path / "dist").exists() or not any((tmp_path / "dist").iterdir())


def test_packaging_refuses_a_missing_record(tmp_path: Path, jit: Cell) -> None:
    paths = built_cell(tmp_path / "build", jit)
    paths.record.unlink()
    with pytest.raises(ArtifactError, match="build record was not written"):
        package_unproven(jit, paths, key=key_for(jit), dist=tmp_path / "dist")


def test_packaging_refuses_an_install_tree_changed_since_verification(
    tmp_path: Path, jit: Cell
) -> None:
    paths = built_cell(tmp_path / "build", jit)
    (paths.install / "bin/py").unlink()  # the interpreter deleted after verification
    with pytest.raises(ArtifactError, match="changed since it was verified"):
        package_unproven(jit, paths, key=key_for(jit), dist=tmp_path / "dist")
    shutil.rmtree(paths.install)
    built_cell(tmp_path / "build", jit)
    report = json.loads(paths.verify_report.read_text())
    del report["install_sha256"]
    paths.verify_report.write_text(json.dumps(report))
    with pytest.raises(ArtifactError, match="does not record which install tree it verified"):
        package_unproven(jit, paths, key=key_for(jit), dist=tmp_path / "dist")


def test_a_verify_report_that_is_not_utf8_is_an_error(tmp_path: Path, jit: Cell) -> None:
    paths = built_cell(tmp_path / "build", jit)
    paths.verify_report.write_bytes(b'{"passed": true, "x": "\xff"}')
    with pytest.raises(ArtifactError, match="cannot read the verification report"):
        package_unproven(jit, paths, key=key_for(jit), dist=tmp_path / "dist")


def test_a_record_round_trips_and_windows_records_validate(tmp_path: Path, jit: Cell) -> None:
    path = tmp_path / "build.json"
    path.write_text(json.dumps(build_record(jit)))
    loaded = record.load_ok(path)
    assert loaded.cell_id == jit.id and loaded.builder == "docker"
    assert loaded.command.tool == "configure" and loaded.phases["compile"] == 80.25
    loaded.write(path)
    assert record.load(path) == loaded
    windows = record.BuildRecord(
        cell={"id": "cpython-3.13.5-default-windows-x86_64"},
        result=record.OK,
        source={"sha256": "ab" * 32, "patches": []},
        where={"builder": "windows", "host": "Windows-2022"},
        command=record.Command(tool="buildbat", argv=("PCbuild\\build.bat", "-p", "x64")),
        notes={"toolset": "v143"},
    )
    windows.write(path)
    assert record.load_ok(path) == windows
    assert json.loads(path.read_text())["toolset"] == "v143"


CONFIGURE = """#!/bin/sh
# A stand-in for CPython's configure: a Makefile whose install stages an "interpreter".
prefix=$(echo "$@" | tr ' ' '\\n' | sed -n 's/^--prefix=//p')
{ printf 'all:\\n\\techo compiled\\n'
  printf 'install:\\n\\tmkdir -p $(DESTDIR)%s/bin\\n' "$prefix"
  printf '\\techo python > $(DESTDIR)%s/bin/python3.13\\n' "$prefix"; } > Makefile
"""


@pytest.mark.usefixtures("unpatched_sources")
def test_the_native_builder_writes_a_record_the_reader_accepts(tmp_path: Path) -> None:
    """A real run of the shared POSIX steps (configure, make, make install on this host)."""

    model = matrixfile.load()
    cell = model.cell(python="3.13", variant="default", platform="linux-x86_64")
    source = tmp_path / "Python-3.13.99.tar.xz"
    source.write_bytes(tarball_bytes(files={**FILES, "configure": CONFIGURE}))
    release = small_release("https://example.invalid/x.tar.xz", b"unused")
    tree = prepare(release, source=str(source), cache=SourceCache(tmp_path / "cache"))
    paths = CellPaths.of(cell.id, tmp_path / "build")
    request = BuildRequest(cell=cell, source=tree, paths=paths, jobs=1, fingerprint={"k": "v"})
    NativeBuilder().build(request)
    written = record.load_ok(paths.record)
    assert written.cell_id == cell.id and written.builder == "native"
    assert written.command.argv[0].endswith("/configure") and written.fingerprint == {"k": "v"}
    assert set(written.phases) == {"preflight", "configure", "compile", "install"}


def test_the_verification_report_records_the_install_tree_it_saw(tmp_path: Path, jit: Cell) -> None:
    paths = built_cell(tmp_path / "build", jit)
    report = VerifyReport(target="t", expectation=Expectation.of_cell(jit), checks=())
    report.write(paths)
    written = json.loads(paths.verify_report.read_text())
    assert written["install_sha256"] == treedigest.digest(paths.install)
    report.write(tmp_path / "elsewhere.json")  # an interpreter outside a cell: nothing to hash
    assert "install_sha256" not in json.loads((tmp_path / "elsewhere.json").read_text())
