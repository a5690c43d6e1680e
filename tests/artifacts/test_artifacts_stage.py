"""Staging: the test suite ships beside the archive, under the same top directory."""

from __future__ import annotations

import tarfile
from pathlib import Path

from cpmatrix.artifacts import stage
from cpmatrix.artifacts.archive import write_tar_gz


def tree(root: Path) -> Path:
    for name in ("lib/python3.13/test/test_x.py", "lib/python3.13/json/__init__.py", "bin/py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x = 1\n")
    return root


def names(archive: Path) -> list[str]:
    with tarfile.open(archive) as opened:
        return opened.getnames()


def test_the_archive_leaves_the_test_package_to_its_own_archive(tmp_path: Path) -> None:
    root = tree(tmp_path / "tree")
    main, tests = tmp_path / "main.tar.gz", tmp_path / "tests.tar.gz"
    write_tar_gz(root, main, top="c", select=stage.without_tests)
    write_tar_gz(root, tests, top="c", select=stage.only_tests)
    assert "c/lib/python3.13/json/__init__.py" in names(main)
    assert not [n for n in names(main) if "/test" in n]
    assert names(tests) == [
        "c",
        "c/lib",
        "c/lib/python3.13",
        "c/lib/python3.13/test",
        "c/lib/python3.13/test/test_x.py",
    ]


def test_the_archive_leaves_out_the_bytecode_for_python_oo(tmp_path: Path) -> None:
    root = tree(tmp_path / "tree")
    cache = root / "lib/python3.13/json/__pycache__"
    cache.mkdir()
    for level in ("", ".opt-1", ".opt-2"):
        (cache / f"__init__.cpython-313{level}.pyc").write_bytes(b"\0")
    main = tmp_path / "main.tar.gz"
    write_tar_gz(root, main, top="c", select=stage.shipped)
    cached = sorted(n.rsplit("/", 1)[1] for n in names(main) if n.endswith(".pyc"))
    assert cached == ["__init__.cpython-313.opt-1.pyc", "__init__.cpython-313.pyc"]
