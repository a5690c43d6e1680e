"""Staging, promotion and the log: what a build leaves on disk, whatever happens."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpmatrix.builders import steps
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util import console
from cpmatrix.util.errors import BuildFailed


def test_start_fresh_marks_incomplete_and_clears_leftovers(tmp_path: Path) -> None:
    paths = CellPaths.of("cell", tmp_path)
    (paths.install / "bin").mkdir(parents=True)
    (paths.work / "old.o").parent.mkdir(parents=True)
    (paths.work / "old.o").write_text("")
    paths.log.write_text("old log\n")
    steps.start_fresh(paths)
    assert paths.incomplete_marker.exists()
    assert not paths.install.exists()
    assert list(paths.work.iterdir()) == []
    assert steps.staging_dir(paths).is_dir()
    assert not paths.log.exists()


def test_promote_moves_the_staged_prefix_into_place(tmp_path: Path) -> None:
    paths = CellPaths.of("cell", tmp_path)
    steps.start_fresh(paths)
    staged = steps.staging_dir(paths) / "opt/cpmatrix/cell"
    (staged / "bin").mkdir(parents=True)
    (staged / "bin" / "python3.13").write_text("")
    steps.promote(paths, "/opt/cpmatrix/cell")
    assert (paths.install / "bin" / "python3.13").exists()
    assert not steps.staging_dir(paths).exists()


def test_promote_refuses_an_empty_staging(tmp_path: Path) -> None:
    paths = CellPaths.of("cell", tmp_path)
    steps.start_fresh(paths)
    with pytest.raises(BuildFailed, match="did not stage"):
        steps.promote(paths, "/opt/cpmatrix/cell")
    assert not paths.install.exists()


def test_log_keeps_lines_and_shows_phases_not_lines(tmp_path: Path) -> None:
    log_path = tmp_path / "build.log"
    with console.using(console.Recorder()) as recorder, steps.BuildLog(log_path, "c") as log:
        log.begin("configure", "./configure")
        log.write("checking for gcc... gcc")
    assert log_path.read_text() == "### cpmatrix: configure: ./configure\nchecking for gcc... gcc\n"
    assert ("progress", "c: configure [0.0s]") in recorder.lines
    assert ("detail", "checking for gcc... gcc") in recorder.lines
