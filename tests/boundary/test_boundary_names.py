"""Class 1 of issue 21: names that become paths are checked where they enter (matrix.yaml, with
``matrix.yaml:LINE:COL``) and again where they become a path (:func:`cpmatrix.util.names.join`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cpmatrix.matrix import matrixfile
from cpmatrix.matrix.layout import PROJECT_ROOT, CellPaths
from cpmatrix.util.errors import ConfigError

MATRIX = (PROJECT_ROOT / "matrix.yaml").read_text(encoding="utf-8")

BAD_NAMES = ["../../outside", "a/b", "a\\nb", "<img>", "a|b", "x" * 300, "a b"]


def load(text: str, tmp_path: Path) -> ConfigError:
    path = tmp_path / "matrix.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        matrixfile.load(path)
    return caught.value


def quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\") + '"'


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("name", BAD_NAMES, ids=range(len(BAD_NAMES)))
def test_a_platform_name_that_is_not_a_name_is_refused_at_its_line(
    name: str, tmp_path: Path
) -> None:
    text = MATRIX.replace("  linux-x86_64:\n", f"  {quoted('linux-' + name)}:\n", 1)
    error = load(text, tmp_path)
    assert error.message.startswith(f"matrix.yaml:{line_of(text, 'linux-' + name[:2])}:3: ")
    assert "platform name" in error.message


@pytest.mark.parametrize("name", [*BAD_NAMES, ".hidden", "-x"])
def test_a_variant_alias_that_is_not_a_name_is_refused(name: str, tmp_path: Path) -> None:
    text = MATRIX.replace("  hardened: [noremotedebug]", f"  {quoted(name)}: [noremotedebug]")
    error = load(text, tmp_path)
    assert re.match(r"matrix\.yaml:\d+:3: variant name ", error.message), error.message


@pytest.mark.parametrize("name", [*BAD_NAMES, ".hidden", "-x"])
def test_a_consumer_that_is_not_a_name_is_refused(name: str, tmp_path: Path) -> None:
    text = MATRIX.replace("consumers: [bullseye,", f"consumers: [{quoted(name)},", 1)
    error = load(text, tmp_path)
    assert re.match(r"matrix\.yaml:\d+:\d+: consumer ", error.message), error.message


@pytest.mark.parametrize("tail", ["..", "x?a=/..", "a%2f..", "<x>.tar.xz"])
def test_a_url_whose_file_name_is_not_a_name_is_refused(tail: str, tmp_path: Path) -> None:
    good = "https://www.python.org/ftp/python/3.13.5/Python-3.13.5.tar.xz"
    text = MATRIX.replace(good, f"https://www.python.org/ftp/python/3.13.5/{tail}", 1)
    error = load(text, tmp_path)
    assert re.match(r"matrix\.yaml:\d+:\d+: pythons\.3\.13\.url must end", error.message)


def test_the_project_matrix_loads() -> None:
    assert matrixfile.load(PROJECT_ROOT / "matrix.yaml").platforms


@pytest.mark.parametrize("cell_id", ["..", ".", "", "a/b", "../../etc", "a\nb", "x" * 256])
def test_a_cell_directory_is_one_plain_component_of_its_root(cell_id: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cell id"):
        CellPaths.of(cell_id, tmp_path).dir  # noqa: B018


def test_a_cell_directory_inside_its_root() -> None:
    assert CellPaths.of("cpython-3.13.5-jit-linux-x86_64", Path("/b")).install == Path(
        "/b/cpython-3.13.5-jit-linux-x86_64/install"
    )


@pytest.mark.parametrize(
    "nesting", ["[" * 100_000 + "]" * 100_000, "- " * 100_000 + "x"], ids=["flow", "block"]
)
def test_deep_yaml_nesting_is_a_config_error_not_a_crash(nesting: str, tmp_path: Path) -> None:
    path = tmp_path / "matrix.yaml"
    path.write_text("schema:\n  " + nesting + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "matrix", "--matrix", str(path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: matrix.yaml:"), done.stderr
    # cpmatrix's own bound, or PyYAML's (6.0.4 stops a flow this deep itself, with a
    # "YAML syntax error" at the line and column): either way a config error, not a crash
    assert "nest more than" in done.stderr or "nesting depth" in done.stderr
