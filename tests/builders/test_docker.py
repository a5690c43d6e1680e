"""Real builds of CPython 3.13.5 in the builder image, and what a failed or refused build leaves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import BuiltCell

from cpmatrix import pipeline
from cpmatrix.builders import steps
from cpmatrix.builders.base import BuildRequest
from cpmatrix.builders.docker import DockerBuilder, container_spec, invoking_user
from cpmatrix.engine.containers import Container, ContainerSpec, Mount, leftover_containers
from cpmatrix.engine.image import base_image, builder_image
from cpmatrix.matrix import Cell, matrixfile
from cpmatrix.matrix.layout import PROJECT_ROOT, CellPaths
from cpmatrix.sources import SourceTree
from cpmatrix.util import console
from cpmatrix.util.errors import EnvironmentProblem
from cpmatrix.util.signals import sigint_default_in_children

pytestmark = pytest.mark.docker


def in_builder_image(install: Path, code: str) -> str:
    """Run the built interpreter where its glibc is (the builder image), without network."""
    spec = ContainerSpec(image=builder_image().tag, mounts=(Mount(install, "/x"),))
    with Container(spec) as box:
        done = box.run(["/x/bin/python3", "-c", code])
    assert done.ok, done.output
    return done.output.strip()


def record_of(built: BuiltCell) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(built.paths.record.read_text())
    return data


@pytest.mark.slow
def test_freethreaded_install_tree(built_cells: dict[str, BuiltCell]) -> None:
    built = built_cells["freethreaded"]
    install = built.paths.install
    assert (install / "bin" / "python3.13t").is_file()
    assert (install / "lib" / "python3.13t" / "os.py").is_file()
    assert not built.paths.incomplete_marker.exists()
    assert (
        in_builder_image(
            install, "import sysconfig; print(sysconfig.get_config_var('Py_GIL_DISABLED'))"
        )
        == "1"
    )
    record = record_of(built)
    assert record["result"] == "ok"
    assert "--disable-gil" in record["configure"]["argv"]


@pytest.mark.slow
def test_jit_install_tree_and_record(built_cells: dict[str, BuiltCell]) -> None:
    built = built_cells["jit"]
    assert (built.paths.install / "bin" / "python3.13").is_file()
    assert (built.paths.work / "jit_stencils.h").is_file()
    config = in_builder_image(
        built.paths.install, "import sysconfig; print(sysconfig.get_config_var('CONFIG_ARGS'))"
    )
    assert "'--enable-experimental-jit=yes'" in config
    record = record_of(built)
    assert record["source"]["sha256"] == built.cell.python.sha256
    assert set(record["phases"]) == {"preflight", "configure", "compile", "install", "portable"}
    toolchain = record["toolchain"]
    assert "version 18." in toolchain["clang-18"]
    assert toolchain["cc"].startswith("Debian clang version 19.")  # the sysroot's compiler
    assert record["configure"]["env"]["LDFLAGS"] == "--sysroot=/opt/sysroot"
    assert {"libssl.so.1.1", "libffi.so.7"} <= {b["soname"] for b in record["portable"]["bundled"]}
    assert record["binary"]["tail_call_functions"] == 0  # read before the portable phase strips
    where = record["where"]
    assert where["network"] == "none"
    assert where["image"]["id"].startswith("sha256:")
    log = built.paths.log.read_text()
    assert "### cpmatrix: compile: make -j" in log


@pytest.mark.slow
def test_complete_builds_are_reused(built_cells: dict[str, BuiltCell]) -> None:
    built = built_cells["default"]
    options = pipeline.Options(build_root=built.paths.root, verify=False)
    with console.using(console.Recorder()) as recorder:
        (outcome,) = pipeline.run([built.cell], options)
    assert outcome.status is pipeline.Status.UP_TO_DATE
    assert "up to date" in recorder.text()


def test_tailcall_on_313_is_refused_before_any_work(tmp_path: Path) -> None:
    env = {**os.environ, "CPMATRIX_BUILD_DIR": str(tmp_path / "build")}
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "build", "--variant=tailcall", "--python=3.13"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "tailcall needs CPython 3.14+" in done.stderr
    assert not (tmp_path / "build").exists()


def forced_cell(variant: str) -> Cell:
    """A cell the matrix refuses, built anyway: proves configure itself rejects the switch."""
    model = matrixfile.load()
    real = model.cell(python="3.13", variant="default", platform="linux-x86_64")
    return Cell(
        python=real.python,
        variant=model.variant(variant),
        platform=real.platform,
        profile=real.profile,
    )


def test_unknown_switch_fails_configure_and_leaves_no_install(
    docker_engine: None, cpython_source: SourceTree, tmp_path: Path
) -> None:
    cell = forced_cell("noremotedebug")
    options = pipeline.Options(build_root=tmp_path, verify=False)
    with console.using(console.Recorder()) as recorder:
        outcome = pipeline.run_cell(cell, DockerBuilder(), cpython_source, options, jobs=1)
    paths = CellPaths.of(cell.id, tmp_path)
    assert outcome.status is pipeline.Status.FAILED
    assert outcome.exit_code == 5
    assert outcome.reason == (
        f"configure failed for {cell.id}: CPython 3.13.5 does not have --without-remote-debug "
        "(noremotedebug needs 3.14+)"
    )
    assert outcome.log == paths.log
    assert "unrecognized options: --without-remote-debug" in paths.log.read_text()
    assert f"the full log is kept at {paths.log}" in recorder.text()
    assert not paths.install.exists()
    assert paths.incomplete_marker.exists()
    record = json.loads(paths.record.read_text())
    assert record["result"].startswith("failed: configure failed")
    assert "compile" not in record["phases"]
    assert record["where"]["container"] not in leftover_containers()


def test_build_container_is_unprivileged_and_offline(
    docker_engine: None, cpython_source: SourceTree, tmp_path: Path
) -> None:
    cell = forced_cell("default")
    paths = CellPaths.of(cell.id, tmp_path)
    steps.start_fresh(paths)
    request = BuildRequest(cell=cell, source=cpython_source, paths=paths, jobs=1)
    with Container(container_spec(request, builder_image().tag)) as box:
        state = box.inspect()
        assert state["HostConfig"]["NetworkMode"] == "none"
        assert state["Config"]["User"] == invoking_user() != "0:0"
        mounts = {m["Destination"]: m["RW"] for m in state["Mounts"]}
        assert mounts == {"/src": False, "/build/work": True, "/build/stage": True, "/ccache": True}
        assert not box.run(["touch", "/src/configure"]).ok
        env = box.run(["sh", "-c", "echo $HOME $CCACHE_DIR; command -v gcc"]).output.split()
        assert env == ["/home/build", "/ccache", "/usr/lib/ccache/gcc"]


@pytest.mark.slow
def test_ctrl_c_removes_the_container_and_marks_the_cell(
    docker_engine: None, tmp_path: Path
) -> None:
    env = {**os.environ, "CPMATRIX_BUILD_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "invoke", "build", "--python=3.13", "--no-verify", "--force"]
    with sigint_default_in_children():  # Ctrl-C reaches it however pytest was started
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    paths = CellPaths.of("cpython-3.13.5-default-linux-x86_64", tmp_path)
    deadline = time.monotonic() + 300
    while "### cpmatrix: configure" not in (paths.log.read_text() if paths.log.exists() else ""):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "configure never started"
        time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert paths.incomplete_marker.exists()
    assert not paths.install.exists()
    record = json.loads(paths.record.read_text())
    assert record["result"] == "interrupted"
    assert record["where"]["container"] not in leftover_containers()


def test_missing_llvm_is_named_before_configure(
    docker_engine: None, cpython_source: SourceTree, tmp_path: Path
) -> None:
    """An image without LLVM 21 (the bare trixie base the builder image starts from) stops a
    3.15 JIT cell at preflight, naming what to install. (The builder image has 18, 19 and 21.)"""
    cell = matrixfile.load().cell(python="3.15", variant="jit", platform="linux-x86_64")
    paths = CellPaths.of(cell.id, tmp_path)
    request = BuildRequest(cell=cell, source=cpython_source, paths=paths, jobs=1)
    with pytest.raises(EnvironmentProblem) as caught:
        DockerBuilder(image=base_image("trixie")).build(request)
    message = caught.value.message
    assert f"lacks what {cell.id} needs" in message
    assert (
        "clang-21 is missing (needed for JIT stencils (LLVM 21)); install: apt-get install clang-21"
        in message
    )
    assert "### cpmatrix: configure" not in paths.log.read_text()
    assert not paths.install.exists()
