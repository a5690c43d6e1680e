"""`invoke source` and `invoke clean --sources` as a user runs them: real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cpmatrix.matrix.layout import PROJECT_ROOT


def invoke(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "CPMATRIX_CACHE": str(cache)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_source_on_an_empty_cache_then_clean(tmp_path: Path) -> None:
    """The issue's "done when": an empty cache, the default providers, a printed tree."""
    cache = tmp_path / "cache"
    fetched = invoke("source", "--python=3.13", cache=cache)
    assert fetched.returncode == 0, fetched.stderr
    tree = Path(fetched.stdout.strip())
    assert tree.parent == cache / "sources" / "trees"
    assert (tree / "configure").is_file()
    assert "sha256 93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640" in (
        fetched.stderr
    )
    assert "signature verified (pgp 7169605F62C751356D054A26A821E680E5FA6305" in fetched.stderr
    again = invoke("source", "--python=3.13.5", cache=cache)
    assert again.returncode == 0 and again.stdout == fetched.stdout
    assert "via cache" in again.stderr
    cleaned = invoke("clean", "--sources", cache=cache)
    assert cleaned.returncode == 0, cleaned.stderr
    assert not (cache / "sources").exists()


def test_source_errors_have_exit_codes(tmp_path: Path) -> None:
    unknown = invoke("source", "--python=3.12", cache=tmp_path)
    assert unknown.returncode == 2 and "not in matrix.yaml" in unknown.stderr
    missing = invoke("source", "--python=3.13", f"--source={tmp_path}/nope.tar.xz", cache=tmp_path)
    assert missing.returncode == 4
    assert "explicit: " in missing.stderr and "neither a file nor a directory" in missing.stderr
    nothing = invoke("clean", cache=tmp_path)
    assert nothing.returncode == 2 and "--sources" in nothing.stderr
