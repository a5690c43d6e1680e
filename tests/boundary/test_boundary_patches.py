"""Class 5 of issue 21: a patch may do nothing a source tarball may not."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpmatrix.sources import patches
from cpmatrix.util.errors import SourceError

ABSOLUTE_LINK = """\
diff --git a/Lib/escape b/Lib/escape
new file mode 120000
--- /dev/null
+++ b/Lib/escape
@@ -0,0 +1 @@
+/etc/shadow
\\ No newline at end of file
"""
ESCAPING_LINK = ABSOLUTE_LINK.replace("+/etc/shadow", "+../../../outside")


def tree(tmp_path: Path) -> Path:
    root = tmp_path / "Python-3.13.99"
    (root / "Lib").mkdir(parents=True)
    (root / "Lib/greeting.py").write_text('MESSAGE = "hello"\nCOUNT = 1\n')
    return root


def patchset(directory: Path, text: str) -> patches.PatchSet:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "series").write_text("01.patch\n")
    (directory / "01.patch").write_text(text)
    return patches.load(directory)


@pytest.mark.parametrize(
    ("text", "words"),
    [(ABSOLUTE_LINK, "absolute"), (ESCAPING_LINK, "outside")],
    ids=["absolute link", "escaping link"],
)
def test_a_patch_cannot_add_what_a_tarball_may_not_hold(
    text: str, words: str, tmp_path: Path
) -> None:
    root = tree(tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(SourceError, match=words):
        patches.apply(patchset(tmp_path / "p", text), root, scratch)


def test_a_patch_that_is_a_link_to_a_file_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.patch"
    outside.write_text("anything\n")
    directory = tmp_path / "p"
    directory.mkdir()
    (directory / "series").write_text("01.patch\n")
    (directory / "01.patch").symlink_to(outside)
    with pytest.raises(SourceError, match="link"):
        patches.load(directory)


def test_a_patch_in_a_linked_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "01.patch").write_text("anything\n")
    directory = tmp_path / "p"
    directory.mkdir()
    (directory / "sub").symlink_to(tmp_path / "elsewhere")
    (directory / "series").write_text("sub/01.patch\n")
    with pytest.raises(SourceError, match="link"):
        patches.load(directory)


@pytest.mark.parametrize(
    "raw", [b"01.patch\xff\n", b"\xfe\xff\x00s", b"a" * (1 << 20)], ids=["ff", "bom", "huge"]
)
def test_a_series_that_is_not_text_is_a_source_error(raw: bytes, tmp_path: Path) -> None:
    directory = tmp_path / "p"
    directory.mkdir()
    (directory / "series").write_bytes(raw)
    with pytest.raises(SourceError, match=str(directory / "series")):
        patches.load(directory)


def test_a_relative_link_inside_the_tree_is_allowed(tmp_path: Path) -> None:
    root = tree(tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    inside = ABSOLUTE_LINK.replace("+/etc/shadow", "+greeting.py")
    patches.apply(patchset(tmp_path / "p", inside), root, scratch)
    assert str((root / "Lib/escape").readlink()) == "greeting.py"


@pytest.mark.parametrize("linked", ["series", "directory"])
def test_a_series_or_version_directory_that_is_a_link_is_refused(
    tmp_path: Path, linked: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "series").write_text("01.patch\n")
    (elsewhere / "01.patch").write_text("anything\n")
    directory = tmp_path / "p"
    if linked == "series":
        directory.mkdir()
        (directory / "01.patch").write_text("anything\n")
        (directory / "series").symlink_to(elsewhere / "series")
    else:
        directory.symlink_to(elsewhere)
    with pytest.raises(SourceError, match="symbolic link"):
        patches.load(directory)
