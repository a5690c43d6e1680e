"""dist/uv/<variant>.json: uv's download list, one file per variant (docker test runs uv)."""

from __future__ import annotations

from pathlib import Path

from cpmatrix.artifacts import uvindex


def entry(variant: str, features: list[str], profile: str = "release") -> dict[str, object]:
    cell_id = f"cpython-3.13.5-{variant}-linux-x86_64"
    return {
        "id": cell_id,
        "python": "3.13.5",
        "variant": variant,
        "features": features,
        "os": "linux",
        "arch": "x86_64",
        "profile": profile,
        "file": f"{cell_id}.tar.gz",
        "sha256": "ab" * 32,
    }


def test_one_file_per_variant_keyed_the_way_uv_keys_downloads() -> None:
    files = uvindex.uv_files(
        [
            entry("default", []),
            entry("jit", ["jit"]),
            entry("freethreaded", ["freethreaded"]),
            entry("default", [], profile="debug"),
        ],
        "file:///srv/dist",
    )
    assert sorted(files) == ["default.json", "freethreaded.json", "jit.json"]
    [(key, jit)] = files["jit.json"].items()
    assert key == "cpython-3.13.5-linux-x86_64-gnu"
    assert jit["url"] == "file:///srv/dist/cpython-3.13.5-jit-linux-x86_64.tar.gz"
    assert (jit["major"], jit["minor"], jit["patch"], jit["libc"]) == (3, 13, 5, "gnu")
    assert jit["arch"] == {"family": "x86_64", "variant": None} and jit["variant"] is None
    [(key, free)] = files["freethreaded.json"].items()
    assert key == "cpython-3.13.5+freethreaded-linux-x86_64-gnu"
    assert free["variant"] == "freethreaded"


def test_the_default_base_url_points_into_dist(tmp_path: Path) -> None:
    assert uvindex.base_url_for(tmp_path) == tmp_path.resolve().as_uri()
