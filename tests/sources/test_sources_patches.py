"""patches/<minor>/series: applied in order with GNU patch; identity; clear failures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cpmatrix.features import Version
from cpmatrix.sources import patches
from cpmatrix.util.errors import SourceError

GOOD_1 = """\
--- a/Lib/greeting.py
+++ b/Lib/greeting.py
@@ -1,2 +1,2 @@
-MESSAGE = "hello"
+MESSAGE = "hello, patched"
 COUNT = 1
"""
GOOD_2 = """\
--- a/Lib/greeting.py
+++ b/Lib/greeting.py
@@ -1,2 +1,2 @@
 MESSAGE = "hello, patched"
-COUNT = 1
+COUNT = 2
"""
BAD = """\
--- a/Lib/greeting.py
+++ b/Lib/greeting.py
@@ -1,2 +1,2 @@
-MESSAGE = "goodbye"
+MESSAGE = "never applies"
 COUNT = 1
"""


def tree(tmp_path: Path) -> Path:
    root = tmp_path / "Python-3.13.99"
    (root / "Lib").mkdir(parents=True)
    (root / "Lib/greeting.py").write_text('MESSAGE = "hello"\nCOUNT = 1\n')
    return root


def series(directory: Path, lines: str, **files: str) -> patches.PatchSet:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "series").write_text(lines)
    for name, text in files.items():
        (directory / name).write_text(text)
    return patches.load(directory)


def test_series_applies_in_order(tmp_path: Path) -> None:
    root = tree(tmp_path)
    patchset = series(
        tmp_path / "p",
        "# comment\n\n01-message.patch\n02-count.patch\n",
        **{"01-message.patch": GOOD_1, "02-count.patch": GOOD_2},
    )
    assert patchset.names == ("01-message.patch", "02-count.patch")
    patches.apply(patchset, root, tmp_path)
    assert (root / "Lib/greeting.py").read_text() == 'MESSAGE = "hello, patched"\nCOUNT = 2\n'


def test_a_patch_that_does_not_apply_names_itself_and_shows_the_hunk(tmp_path: Path) -> None:
    root = tree(tmp_path)
    patchset = series(
        tmp_path / "p",
        "01-message.patch\n02-stale.patch\n",
        **{"01-message.patch": GOOD_1, "02-stale.patch": BAD},
    )
    with pytest.raises(SourceError) as failed:
        patches.apply(patchset, root, tmp_path)
    message = failed.value.message
    assert "patch 02-stale.patch" in message
    assert "series:2" in message
    assert '-MESSAGE = "goodbye"' in message
    assert "@@ -1,2 +1,2 @@" in message


def test_digest_covers_names_and_contents_not_comments(tmp_path: Path) -> None:
    one = series(tmp_path / "a", "x.patch\n", **{"x.patch": GOOD_1})
    commented = series(tmp_path / "b", "# why\nx.patch\n", **{"x.patch": GOOD_1})
    changed = series(tmp_path / "c", "x.patch\n", **{"x.patch": GOOD_1 + " \n"})
    renamed = series(tmp_path / "d", "y.patch\n", **{"y.patch": GOOD_1})
    empty = patches.load(tmp_path / "missing")
    assert one.digest == commented.digest
    assert len({one.digest, changed.digest, renamed.digest, empty.digest}) == 4


def test_series_naming_a_missing_patch_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"series:2: patch 'gone.patch' does not exist"):
        series(tmp_path / "p", "x.patch\ngone.patch\n", **{"x.patch": GOOD_1})


def test_series_may_not_reach_outside_its_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="must be a path inside"):
        series(tmp_path / "p", "../elsewhere.patch\n")


def test_the_shipped_313_series_parses(tmp_path: Path) -> None:
    shipped = patches.for_version(Version(3, 13))
    assert (shipped.directory / "series").is_file()
    assert all(patch.path.is_file() for patch in shipped.patches)
    if shipped.patches:
        assert shutil.which("patch"), "GNU patch applies patches/ and must be installed"
