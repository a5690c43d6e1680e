"""A malformed or inconsistent matrix.yaml is refused with FILE:LINE:COL and what to change."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpmatrix.features import debian
from cpmatrix.matrix import matrixfile
from cpmatrix.util.errors import ConfigError

REAL = matrixfile.DEFAULT_MATRIX.read_text(encoding="utf-8")


def refused(text: str, tmp_path: Path) -> str:
    path = tmp_path / "matrix.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        matrixfile.load(path)
    return caught.value.render()


def edited(old: str, new: str) -> str:
    assert REAL.count(old) == 1, f"fixture text not unique in matrix.yaml: {old!r}"
    return REAL.replace(old, new)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_real_matrix_validates() -> None:
    assert matrixfile.load().pythons


def test_the_linux_glibc_floors_are_the_sysroots_glibc() -> None:
    """matrix.yaml says what glibc a Linux artifact needs; the builder links against the
    features' sysroot suite, whose glibc is that floor. The two must not drift apart."""
    platforms = matrixfile.load().platforms
    floors = {p.name: p.glibc_floor for p in platforms.values() if p.builder == "docker"}
    assert floors
    assert set(floors.values()) == {debian.SUITE_GLIBC[debian.SYSROOT_SUITE]}, floors


def test_yaml_syntax_error(tmp_path: Path) -> None:
    text = edited("  jit: [jit]\n", "  jit: [jit\n")
    message = refused(text, tmp_path)
    assert message.startswith("matrix.yaml:")
    assert "YAML syntax error" in message


def test_unknown_top_level_key_suggests(tmp_path: Path) -> None:
    text = REAL + "platfroms: {}\n"
    message = refused(text, tmp_path)
    line = line_of(text, "platfroms")
    assert message.startswith(f"matrix.yaml:{line}:1: unknown key 'platfroms' in the matrix file")
    assert "did you mean 'platforms'" in message


def test_unknown_key_in_a_python_entry(tmp_path: Path) -> None:
    text = edited("    llvm: 18\n", "    llvm: 18\n    sha512: abc\n")
    message = refused(text, tmp_path)
    assert (
        f"matrix.yaml:{line_of(text, 'sha512')}:5: unknown key 'sha512' in pythons.3.13" in message
    )


def test_unknown_feature(tmp_path: Path) -> None:
    text = edited("  tailcall: [tailcall]\n", "  tailcall: [tail-call]\n")
    message = refused(text, tmp_path)
    assert f"matrix.yaml:{line_of(text, '[tail-call]')}:14: unknown feature 'tail-call'" in message
    assert "did you mean 'tailcall'" in message


def test_variant_naming_a_feature_twice(tmp_path: Path) -> None:
    text = edited("  hardened: [noremotedebug]\n", "  hardened: [noremotedebug, noremotedebug]\n")
    message = refused(text, tmp_path)
    line = line_of(text, "hardened: [")
    assert message.startswith(f"matrix.yaml:{line}:29: variants.hardened names noremotedebug twice")


def test_variant_spelled_as_features_must_list_them(tmp_path: Path) -> None:
    text = edited("  jit: [jit]\n", "  jit: [jit-off]\n")
    message = refused(text, tmp_path)
    assert "variant 'jit' is spelled as features but lists" in message
    assert "name it 'jit-off'" in message


def test_version_without_sha256(tmp_path: Path) -> None:
    text = edited(
        "    sha256: 93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640\n", ""
    )
    message = refused(text, tmp_path)
    assert (
        f"matrix.yaml:{line_of(text, 'release: 3.13.5')}:5: pythons.3.13 needs 'sha256'" in message
    )


def test_malformed_sha256(tmp_path: Path) -> None:
    text = edited(
        "sha256: 93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640",
        "sha256: 93e583f2",
    )
    assert "pythons.3.13.sha256 must be 64 hex digits" in refused(text, tmp_path)


def test_llvm_major_checked_against_cpythons_rule(tmp_path: Path) -> None:
    text = edited("    llvm: 18\n", "    llvm: 19\n")
    message = refused(text, tmp_path)
    assert "CPython 3.13's JIT is built with LLVM 18 (Tools/jit), not 19" in message
    assert "hint: set llvm: 18" in message


def test_release_must_belong_to_its_minor(tmp_path: Path) -> None:
    text = edited("    release: 3.13.5\n", "    release: 3.14.5\n")
    assert "pythons.3.13.release must be a 3.13.N release" in refused(text, tmp_path)


def test_platform_without_runner(tmp_path: Path) -> None:
    text = edited(
        "  macos-arm64: {runner: macos-15, builder: native}\n",
        "  macos-arm64: {builder: native}\n",
    )
    message = refused(text, tmp_path)
    line = line_of(text, "macos-arm64: {builder")
    assert f"matrix.yaml:{line}:16: platforms.macos-arm64 has no runner" in message
    assert "hint: add runner:" in message


def test_platform_with_a_builder_that_cannot_build_it(tmp_path: Path) -> None:
    text = edited(
        "  macos-arm64: {runner: macos-15, builder: native}\n",
        "  macos-arm64: {runner: macos-15, builder: docker}\n",
    )
    assert "builder 'docker' cannot build macos-arm64" in refused(text, tmp_path)


def test_exclude_that_matches_nothing(tmp_path: Path) -> None:
    exclude = next(line for line in REAL.splitlines(keepends=True) if "{variant: jit-off" in line)
    text = edited(exclude, exclude + '    - {python: "3.13", variant: jit-interpreter}\n')
    message = refused(text, tmp_path)
    line = line_of(text, "variant: jit-interpreter}")
    assert message.startswith(f"matrix.yaml:{line}:7: this exclude matches no cell of the matrix")


def test_matrix_naming_an_unknown_variant(tmp_path: Path) -> None:
    text = edited("    - jit+tailcall\n", "    - jit+tailcal\n")
    message = refused(text, tmp_path)
    assert "matrix.variants names unknown 'jit+tailcal'" in message
    assert "did you mean 'jit+tailcall'" in message


def test_include_must_name_one_whole_cell(tmp_path: Path) -> None:
    text = edited(
        "  profiles: [optimized]\n",
        "  profiles: [optimized]\n  include:\n"
        '    - {python: "3.13", variant: default, platform: linux-x86_64}\n',
    )
    assert "an include names one cell" in refused(text, tmp_path)


def test_unknown_profile(tmp_path: Path) -> None:
    text = edited("profiles: [release, optimized, debug]\n", "profiles: [release, optimised]\n")
    message = refused(text, tmp_path)
    assert "unknown profile 'optimised'" in message and "did you mean 'optimized'" in message


def test_empty_file(tmp_path: Path) -> None:
    assert refused("", tmp_path) == "matrix.yaml:1:1: the file is empty"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        matrixfile.load(tmp_path / "nope.yaml")
