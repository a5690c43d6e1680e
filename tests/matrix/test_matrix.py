"""Resolving the real matrix.yaml into cells, and explicit requests for one cell."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cpmatrix.features import Feature
from cpmatrix.matrix import Matrix, Selection, Variant, host_platform, matrixfile
from cpmatrix.util.errors import ImpossibleCellError, UsageError


@pytest.fixture(scope="module")
def model() -> Matrix:
    return matrixfile.load()


def test_matrix_yaml_loads_with_three_versions(model: Matrix) -> None:
    assert [str(v) for v in sorted(model.pythons)] == ["3.13", "3.14", "3.15"]
    assert str(model.newest.release) == "3.15.0"
    py313 = model.python("3.13")
    assert py313.sha256 == "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640"
    assert py313.url == "https://www.python.org/ftp/python/3.13.5/Python-3.13.5.tar.xz"
    assert py313.signature.kind == "pgp"
    assert model.python("3.14").signature.kind == "sigstore"


def test_cell_id_is_stable_and_profile_only_when_not_release(model: Matrix) -> None:
    cell = model.cell(python="3.13", variant="freethreaded", platform="linux-x86_64")
    assert cell.id == "cpython-3.13.5-freethreaded-linux-x86_64"
    debug = model.cell(python="3.13", variant="default", platform="linux-x86_64", profile="debug")
    assert debug.id == "cpython-3.13.5-default-linux-x86_64-debug"


def test_the_same_set_has_the_same_name_in_any_order(model: Matrix) -> None:
    assert model.variant("tailcall+freethreaded") == model.variant("freethreaded+tailcall")
    assert model.variant("tailcall+freethreaded").name == "freethreaded+tailcall"
    assert model.variant("default") == Variant(frozenset())


def test_alias_resolves_to_its_set_and_canonical_id(model: Matrix) -> None:
    hardened = model.variant("hardened")
    assert hardened.features == frozenset({Feature.NOREMOTEDEBUG})
    cell = model.cell(python="3.14", variant="hardened", platform="linux-x86_64")
    assert cell.id == "cpython-3.14.5-noremotedebug-linux-x86_64"


def test_defaults_are_newest_python_host_platform_release(model: Matrix) -> None:
    cell = model.cell(variant="jit")
    assert cell.python == model.newest
    assert cell.platform.name == host_platform()
    assert cell.profile == "release"


def test_tailcall_on_313_fails_before_any_work_and_says_why(model: Matrix) -> None:
    with pytest.raises(ImpossibleCellError, match=r"tailcall needs CPython 3\.14\+"):
        model.cell(python="3.13", variant="tailcall", platform="linux-x86_64")


def test_jit_with_freethreaded_is_refused_explicitly(model: Matrix) -> None:
    with pytest.raises(ImpossibleCellError, match="not supported by CPython yet"):
        model.cell(python="3.14", variant="jit+freethreaded", platform="linux-x86_64")


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("variant", "jti", r"unknown variant or feature 'jti'.*did you mean 'jit'"),
        ("variant", "jit+jit", "names jit twice"),
        ("python", "3.12", r"CPython 3\.12 is not in matrix\.yaml.*valid: 3\.13"),
        ("python", "3.13.4", r"CPython 3\.13\.4 is not in"),
        ("python", "latest", "unknown --python 'latest'"),
        ("platform", "linux-x64", r"unknown --platform.*did you mean 'linux-x86_64'"),
        ("profile", "fast", r"unknown --profile 'fast'.*valid: debug, optimized, release"),
    ],
)
def test_unknown_command_line_values_list_the_valid_ones(
    model: Matrix, kind: str, value: str, expected: str
) -> None:
    with pytest.raises(UsageError) as caught:
        model.selection(**{kind: value})
    assert re.search(expected, caught.value.render(), re.DOTALL), caught.value.render()


class TestExpansion:
    def test_whole_matrix_skips_impossible_cells_with_reasons(self, model: Matrix) -> None:
        resolution = model.expand(Selection())
        ids = {cell.id for cell in resolution.cells}
        assert "cpython-3.13.5-jit-linux-x86_64-optimized" in ids
        assert not any("3.13.5-tailcall" in i for i in ids)
        reasons = {s.description: s.reason for s in resolution.skipped}
        assert "tailcall needs CPython 3.14+" in reasons["3.13.5 tailcall linux-x86_64 optimized"]
        assert (
            "noremotedebug needs CPython 3.14+"
            in reasons["3.13.5 noremotedebug windows-x64 optimized"]
        )

    def test_every_published_cell_is_optimized(self, model: Matrix) -> None:
        """Teams get PGO + LTO (issue #25); `release` is the quick local profile."""
        cells = model.expand(Selection()).cells
        assert cells and {c.profile for c in cells} == {"optimized"}
        assert {c.platform.os for c in cells} == {"linux", "macos", "windows"}

    def test_every_cell_is_buildable_and_unique(self, model: Matrix) -> None:
        cells = model.expand(Selection()).cells
        assert len({c.id for c in cells}) == len(cells)
        for cell in cells:
            assert model.make_cell(cell.python, cell.variant, cell.platform, cell.profile) == cell

    def test_excludes_apply(self, model: Matrix) -> None:
        ids = {c.id for c in model.expand(Selection()).cells}
        assert "cpython-3.14.5-jit-off-linux-x86_64-optimized" in ids
        assert "cpython-3.14.5-jit-off-windows-x64-optimized" not in ids
        assert "cpython-3.14.5-jit-off-macos-arm64-optimized" not in ids

    def test_includes_add_cells(self, tmp_path: Path) -> None:
        text = matrixfile.DEFAULT_MATRIX.read_text(encoding="utf-8").replace(
            "  profiles: [optimized]\n",
            "  profiles: [optimized]\n  include:\n"
            '    - {python: "3.13", variant: default, platform: linux-x86_64, profile: debug}\n',
        )
        (tmp_path / "matrix.yaml").write_text(text)
        ids = {c.id for c in matrixfile.load(tmp_path / "matrix.yaml").expand(Selection()).cells}
        assert "cpython-3.13.5-default-linux-x86_64-debug" in ids
        assert "cpython-3.13.5-default-linux-x86_64-optimized" in ids

    def test_filters_narrow(self, model: Matrix) -> None:
        selection = model.selection(
            python="3.13", variant="jit,freethreaded", platform="linux-x86_64"
        )
        ids = sorted(c.id for c in model.expand(selection).cells)
        assert ids == [
            "cpython-3.13.5-freethreaded-linux-x86_64-optimized",
            "cpython-3.13.5-jit-linux-x86_64-optimized",
        ]

    def test_a_filter_outside_the_listed_values_widens_that_axis(self, model: Matrix) -> None:
        selection = model.selection(
            python="3.14", variant="jit-interpreter", platform="linux-x86_64"
        )
        assert [c.id for c in model.expand(selection).cells] == [
            "cpython-3.14.5-jit-interpreter-linux-x86_64-optimized"
        ]

    def test_every_platform_has_runner_and_builder(self, model: Matrix) -> None:
        kinds = {name: (p.os, p.builder) for name, p in model.platforms.items()}
        assert kinds == {
            "linux-x86_64": ("linux", "docker"),
            "linux-aarch64": ("linux", "docker"),
            "macos-arm64": ("macos", "native"),
            "macos-x86_64": ("macos", "native"),
            "windows-x64": ("windows", "windows"),
            "windows-arm64": ("windows", "windows"),
        }
        assert all(p.runner for p in model.platforms.values())

    def test_cell_by_id_round_trips(self, model: Matrix) -> None:
        for cell in model.expand(Selection()).cells[:10]:
            assert model.cell_by_id(cell.id) == cell
        with pytest.raises(UsageError, match="no cell"):
            model.cell_by_id("cpython-9.9.9-default-linux-x86_64")
