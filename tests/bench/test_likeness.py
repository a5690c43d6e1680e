"""The report says per column its profile and compiler, and whether its ratio against the
baseline measures its features alone (issue #25)."""

from __future__ import annotations

import pytest

from cpmatrix.bench import likeness
from cpmatrix.bench.likeness import Build


@pytest.mark.parametrize(
    ("config_args", "profile"),
    [
        ("'--prefix=/opt' '--enable-optimizations' '--with-lto'", "optimized"),
        ("'--enable-optimizations' '--with-lto=full'", "optimized"),
        ("'--with-lto'", "LTO only"),
        ("'--enable-optimizations'", "PGO only"),
        ("'--disable-gil' '--with-mimalloc'", "release"),
        ("'--with-pydebug' '--enable-optimizations'", "debug"),
        ("", "release"),
    ],
)
def test_the_profile_is_read_from_config_args(config_args: str, profile: str) -> None:
    assert likeness.profile_of(config_args) == profile


def test_the_build_record_names_the_profile_of_our_own_cells() -> None:
    assert likeness.profile_of("'--with-lto'", "optimized") == "optimized"


@pytest.mark.parametrize(
    ("text", "compiler"),
    [
        ("[Clang 19.1.7 ]", "Clang 19.1"),
        ("[GCC 14.2.0]", "GCC 14.2"),
        ("GCC 12.2.0", "GCC 12.2"),
        ("[MSC v.1942 64 bit (AMD64)]", "MSC 1942"),
        ("", "unknown"),
    ],
)
def test_the_compiler_is_named_by_major_and_minor(text: str, compiler: str) -> None:
    assert likeness.compiler_of(text) == compiler


def test_a_column_differing_only_in_features_is_like_for_like() -> None:
    default = Build(version="3.13.5", profile="optimized", compiler="Clang 19.1")
    freethreaded = Build(version="3.13.5", profile="optimized", compiler="Clang 19.1")
    release = Build(version="3.13.5", profile="release", compiler="Clang 19.1")
    debian = Build(version="3.13.5", profile="optimized", compiler="GCC 14.2")
    table = likeness.rows(
        [("default", default), ("freethreaded", freethreaded), ("rel", release), ("deb", debian)],
        "default",
    )
    assert [row[-1] for row in table] == [
        "(baseline)",
        "yes",
        "no: profile release vs optimized",
        "no: compiler GCC 14.2 vs Clang 19.1",
    ]
