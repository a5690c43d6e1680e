"""Class 4 of issue 21: environment variables are validated where they are read."""

from __future__ import annotations

from pathlib import Path

import pytest
from taskkit import invoke

from cpmatrix.matrix import layout
from cpmatrix.matrix.layout import PROJECT_ROOT
from cpmatrix.sources.download import DownloadPolicy
from cpmatrix.util import console
from cpmatrix.util.errors import CpmatrixError, UsageError
from cpmatrix.util.sourcedate import source_date_epoch


@pytest.mark.parametrize(
    ("variable", "read", "default"),
    [
        ("CPMATRIX_DIST_DIR", layout.dist_root, PROJECT_ROOT / "dist"),
        ("CPMATRIX_BUILD_DIR", layout.build_root, PROJECT_ROOT / "build"),
    ],
)
def test_an_empty_directory_variable_means_the_default_not_the_current_directory(
    variable: str, read: object, default: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "")
    assert read() == default  # type: ignore[operator]


@pytest.mark.parametrize("variable", ["CPMATRIX_DIST_DIR", "CPMATRIX_BUILD_DIR", "CPMATRIX_CACHE"])
def test_a_directory_variable_naming_a_file_is_a_usage_error(
    variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    monkeypatch.setenv(variable, str(a_file))
    read = {
        "CPMATRIX_DIST_DIR": layout.dist_root,
        "CPMATRIX_BUILD_DIR": layout.build_root,
        "CPMATRIX_CACHE": layout.cache_dir,
    }[variable]
    with pytest.raises(UsageError, match=f"{variable}=.* is not a directory"):
        read()


def test_a_cache_that_is_a_file_is_an_error_at_the_command_line(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    (tmp_path / "dist").mkdir()
    env = {"CPMATRIX_CACHE": str(a_file), "CPMATRIX_DIST_DIR": str(tmp_path / "dist")}
    done = invoke("index", "--check", env=env)
    assert done.returncode == 2, done.stderr
    assert "CPMATRIX_CACHE" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "-inf", "1e400", "x", "86401"])
def test_a_download_timeout_is_a_finite_positive_number_of_seconds(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPMATRIX_DOWNLOAD_TIMEOUT", value)
    with pytest.raises(UsageError, match="CPMATRIX_DOWNLOAD_TIMEOUT"):
        DownloadPolicy.from_environment()


def test_a_good_download_timeout_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPMATRIX_DOWNLOAD_TIMEOUT", "2.5")
    assert DownloadPolicy.from_environment().timeout == 2.5


@pytest.mark.parametrize("value", ["-1", "4294967296", "99999999999999", "1e9"])
def test_source_date_epoch_is_within_what_tar_and_gzip_hold(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH"):
        source_date_epoch()


def test_a_step_summary_in_a_missing_directory_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "missing" / "summary.md"))
    with console.using(console.Recorder()) as recorder:
        console.write_step_summary("| a | b |")
    lines = [text for _, text in recorder.lines]  # type: ignore[attr-defined]
    assert any("GITHUB_STEP_SUMMARY" in text and "| a | b |" in text for text in lines), lines


def test_errors_are_cpmatrix_errors() -> None:
    assert issubclass(UsageError, CpmatrixError)
