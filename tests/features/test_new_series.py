"""Adding a CPython series touches ``cpmatrix/features/`` and ``matrix.yaml`` only (#23).

A fake 3.16 is pinned the way a real one would be: its toolchain in ``features.toolchains.SERIES``
(LLVM 22 here, not the 21 SERIES pins for 3.16 today, so the test sees the value travel from
features to every consumer) and a ``pythons`` entry in a copy of matrix.yaml. Nothing else is
told about 3.16, and every module downstream (the matrix, the builders' commands, the CI matrix,
Debian's source suites, verification) handles it; a scan shows no module outside ``features/``
names the series.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from cpmatrix.builders import base
from cpmatrix.features import Feature, Version, debian, proofs, toolchains
from cpmatrix.matrix import Matrix, Selection, ci, matrixfile
from cpmatrix.util.errors import ConfigError
from cpmatrix.verify import evaluate
from cpmatrix.verify.observe import Observation
from cpmatrix.verify.report import Expectation

PACKAGE = Path(__file__).resolve().parents[2] / "cpmatrix"
PROBES = Path(__file__).resolve().parents[1] / "data" / "probes"
FAKE_LLVM = 22
V316 = Version(3, 16, 0)


@pytest.fixture
def model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Matrix:
    """The project's matrix.yaml plus 3.16, and features' pin of 3.16: the whole edit."""
    fake = toolchains.SeriesToolchain(llvm=FAKE_LLVM, windows_tailcall=toolchains.MSVC_V145)
    monkeypatch.setitem(toolchains.SERIES, (3, 16), fake)
    data = yaml.safe_load(matrixfile.DEFAULT_MATRIX.read_text(encoding="utf-8"))
    data["pythons"]["3.16"] = {
        "release": "3.16.0",
        "url": "https://www.python.org/ftp/python/3.16.0/Python-3.16.0.tar.xz",
        "sha256": "ab" * 32,
        "llvm": FAKE_LLVM,
        "signature": data["pythons"]["3.15"]["signature"],
    }
    data["matrix"]["pythons"].append("3.16")
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return matrixfile.load(path)


def test_the_matrix_loads_and_lists_the_new_series(model: Matrix) -> None:
    assert model.newest.release == V316
    cells = model.expand(Selection(pythons=(Version(3, 16),))).cells
    variants = {cell.variant.name for cell in cells}
    assert {"default", "jit", "tailcall", "freethreaded+tailcall", "jit+tailcall"} <= variants


def test_the_matrix_refuses_an_llvm_features_does_not_pin(tmp_path: Path, model: Matrix) -> None:
    text = model.path.read_text(encoding="utf-8").replace(f"llvm: {FAKE_LLVM}", "llvm: 21")
    (tmp_path / "wrong.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=f"LLVM {FAKE_LLVM}"):
        matrixfile.load(tmp_path / "wrong.yaml")


def test_cells_compose_with_the_series_toolchain(model: Matrix) -> None:
    jit = model.cell(python="3.16", variant="jit", platform="linux-x86_64")
    commands = base.commands(jit, source_dir="/src", destdir="/stage", jobs=2)
    assert "--enable-experimental-jit=yes" in commands.configure
    assert ("LLVM_VERSION", str(FAKE_LLVM)) in commands.configure_env
    assert base.toolchain(jit).llvm_major == FAKE_LLVM
    tailcall = model.cell(python="3.16", variant="tailcall", platform="linux-x86_64")
    assert base.toolchain(tailcall).cc == f"clang-{FAKE_LLVM}"
    assert (
        "--with-tail-call-interp"
        in base.commands(tailcall, source_dir="/src", destdir="/stage", jobs=2).configure
    )
    windows = model.cell(python="3.16", variant="tailcall", platform="windows-x64")
    assert base.toolchain(windows).windows_toolset == toolchains.MSVC_V145


def test_the_ci_matrix_lists_the_series_with_its_llvm(model: Matrix) -> None:
    cells = model.expand(Selection(pythons=(Version(3, 16),), platforms=("linux-x86_64",))).cells
    jobs = ci.github_matrix(cells)["include"]
    assert {job["series"] for job in jobs} == {"3.16"}
    assert {job["llvm"] for job in jobs if job["variant"] == "jit"} == {str(FAKE_LLVM)}


def test_debian_is_asked_for_the_series_in_unstable() -> None:
    assert debian.source_suites(V316) == (debian.UNSTABLE_SUITE,)


def test_the_proofs_resolve_and_judge_a_316_interpreter(model: Matrix) -> None:
    """Debian's jit-off 3.15, as a 3.16 would show itself, passes as a 3.16 jit-off cell."""
    assert proofs.config_proof(Feature.TAILCALL, V316) is not None
    assert "compression.zstd" in proofs.expected_modules(V316, "linux")
    observed = Observation.load(PROBES / "debian-sid-python3.15.json")
    observed = replace(observed, facts={**observed.facts, "version_info": [3, 16, 0]})
    cell = model.cell(python="3.16", variant="jit-off", platform="linux-x86_64")
    expect = replace(Expectation.of_cell(cell), profile=None)  # Debian's build claims none
    checks = evaluate(observed, expect)
    assert {c.name for c in checks if c.status not in ("pass", "skip")} == set()
    assert sum(c.status == "pass" for c in checks) >= 20


def series_literals(path: Path) -> Iterator[str]:
    """Where code (not a docstring) names 3.16: a "3.16" string, (3, 16) or Version(3, 16)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {  # a string standing alone as a statement documents what precedes or follows
        id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings and re.search(r"(?<![\d.])3\.16(?!\d)", node.value):
                yield f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
        elif isinstance(node, ast.Tuple | ast.Call):
            items = node.elts if isinstance(node, ast.Tuple) else node.args
            values = [i.value for i in items[:2] if isinstance(i, ast.Constant)]
            if values == [3, 16]:
                yield f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"


def test_no_module_outside_features_names_the_series() -> None:
    found = [
        where
        for path in sorted(PACKAGE.rglob("*.py"))
        if "features" not in path.relative_to(PACKAGE).parts
        for where in series_literals(path)
    ]
    assert found == []
    assert list(series_literals(PACKAGE / "features" / "toolchains.py"))  # the scan does see it
