"""Cross builds composed on paper: the plan per host, the configure/CC/finish commands of an
aarch64 cell, the build python it names, the refusal before any work, the gate's ELF machines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cpmatrix.artifacts import validate
from cpmatrix.builders import base, cross
from cpmatrix.features import arch as fa
from cpmatrix.matrix import Cell, Matrix
from cpmatrix.matrix.matrixfile import load
from cpmatrix.util.errors import UsageError


@pytest.fixture(scope="module")
def model() -> Matrix:
    return load()


def aarch64(model: Matrix, variant: str = "default", python: str = "3.13") -> Cell:
    return model.cell(python=python, variant=variant, platform="linux-aarch64")


@pytest.mark.parametrize(
    ("target", "host", "how"),
    [
        ("aarch64", "x86_64", "cross"),
        ("aarch64", "aarch64", "native"),
        ("aarch64", "arm64", "native"),
        ("x86_64", "x86_64", "native"),
        ("x86_64", "amd64", "native"),
    ],
)
def test_plan_per_host(target: str, host: str, how: str) -> None:
    assert fa.build_plan(target, host).how == how


@pytest.mark.parametrize(
    ("target", "host", "words"),
    [
        ("x86_64", "aarch64", "a aarch64 machine neither runs nor cross-builds x86_64"),
        ("riscv64", "x86_64", "cpmatrix knows no Linux architecture 'riscv64'"),
        ("aarch64", "ppc64le", "a ppc64le machine neither runs nor cross-builds aarch64"),
    ],
)
def test_plan_refuses_with_the_reason(target: str, host: str, words: str) -> None:
    plan = fa.build_plan(target, host)
    assert plan.refused
    assert words in plan.reason


def test_refused_before_any_work(model: Matrix) -> None:
    x86 = model.cell(python="3.13", variant="default", platform="linux-x86_64")
    with pytest.raises(UsageError, match="neither runs nor cross-builds x86_64"):
        cross.refuse_unbuildable([x86], machine="aarch64")
    cross.refuse_unbuildable([aarch64(model)], machine="x86_64")  # cross: accepted
    optimized = model.cell(
        python="3.13", variant="default", platform="linux-aarch64", profile="optimized"
    )
    with pytest.raises(UsageError, match="PGO profile task"):
        cross.refuse_unbuildable([optimized], machine="x86_64")


def test_build_python_is_the_native_default_of_the_same_release(model: Matrix) -> None:
    native = cross.build_python_cell(aarch64(model, "jit"), machine="x86_64")
    assert native.id == "cpython-3.13.5-default-linux-x86_64"
    assert native.platform.arch == "x86_64"


def composed(cell: Cell) -> base.Commands:
    sysroot = cross.cross_sysroot(fa.AARCH64, fa.X86_64, "/build-python/bin/python3.13")
    return base.commands(cell, source_dir="/src", destdir="/stage", jobs=2, sysroot=sysroot)


def test_configure_cross_compiles_for_aarch64(model: Matrix) -> None:
    steps = composed(aarch64(model))
    assert "--build=x86_64-linux-gnu" in steps.configure
    assert "--host=aarch64-linux-gnu" in steps.configure
    assert "--with-build-python=/build-python/bin/python3.13" in steps.configure
    env = dict(steps.configure_env)
    assert env["CC"] == "clang-19 --target=aarch64-linux-gnu"
    assert "/" not in env["CC"]  # configure's CC_BASENAME must still read clang
    assert env["CPPFLAGS"] == env["LDFLAGS"] == "--sysroot=/opt/sysroot-aarch64-linux-gnu"
    assert env["PKG_CONFIG_SYSROOT_DIR"] == "/opt/sysroot-aarch64-linux-gnu"
    assert env["ac_cv_file__dev_ptmx"] == "yes"
    assert env["ac_cv_buggy_getaddrinfo"] == "no"
    assert steps.finish is not None
    assert steps.finish[-2:] == ("--binutils-prefix", "aarch64-linux-gnu-")


def test_jit_cross_keeps_its_llvm_and_features(model: Matrix) -> None:
    steps = composed(aarch64(model, "jit"))
    assert "--enable-experimental-jit=yes" in steps.configure or (
        "--enable-experimental-jit" in steps.configure
    )
    assert base.toolchain(aarch64(model, "jit")).llvm_major == 18
    free = composed(aarch64(model, "freethreaded"))
    assert "--disable-gil" in free.configure


def test_native_commands_are_unchanged(model: Matrix) -> None:
    cell = model.cell(python="3.13", variant="default", platform="linux-x86_64")
    steps = base.commands(cell, source_dir="/src", destdir="/stage", jobs=2, sysroot=None)
    assert not any(
        a.startswith(("--host", "--build", "--with-build-python")) for a in steps.configure
    )


def test_3_14_cross_cells_compose_too(model: Matrix) -> None:
    steps = composed(aarch64(model, "tailcall", python="3.14"))
    assert "--with-tail-call-interp" in steps.configure
    assert "--host=aarch64-linux-gnu" in steps.configure
    assert dict(steps.configure_env)["CC"] == "clang-19 --target=aarch64-linux-gnu"


def test_gate_refuses_a_tree_with_one_x86_64_file(tmp_path: Path) -> None:
    true = shutil.which("true")
    assert true is not None
    (tmp_path / "bin").mkdir()
    shutil.copy(true, tmp_path / "bin" / "stray")
    refused = validate.wrong_machine(
        {"bin/stray": validate.elfinfo.read(tmp_path / "bin" / "stray")}, "aarch64"
    )
    assert [str(v) for v in refused] == [
        "bin/stray: is x86_64 (ELF e_machine 62), not aarch64 (183)"
    ]
    problems = validate.check_tree(tmp_path, glibc_floor="9.99", arch="aarch64")
    assert any("not aarch64 (183)" in str(p) for p in problems)
    assert not any(
        "not x86_64" in str(p)
        for p in validate.check_tree(tmp_path, glibc_floor="9.99", arch="x86_64")
    )


def test_arch_facts() -> None:
    assert fa.AARCH64.elf_machine == 183
    assert fa.X86_64.elf_machine == 62
    assert fa.arch_named("arm64") is fa.AARCH64
    assert fa.machine_name(183) == "aarch64"
    assert fa.machine_name(243) == "EM_243"
    assert fa.emulated("aarch64", "x86_64")
    assert not fa.emulated("aarch64", "aarch64")


def test_uv_index_entry_for_an_aarch64_artifact() -> None:
    from cpmatrix.artifacts.uvindex import uv_files

    entry = {
        "python": "3.13.5",
        "os": "linux",
        "arch": "aarch64",
        "features": [],
        "variant": "jit",
        "profile": "release",
        "file": "cpython-3.13.5-jit-linux-aarch64.tar.gz",
        "sha256": "0" * 64,
        "id": "cpython-3.13.5-jit-linux-aarch64",
    }
    files = uv_files([entry], "file:///dist")
    download = files["jit.json"]["cpython-3.13.5-linux-aarch64-gnu"]
    assert download["arch"] == {"family": "aarch64", "variant": None}
    assert download["url"] == "file:///dist/cpython-3.13.5-jit-linux-aarch64.tar.gz"


def test_the_build_python_builds_first_and_unverified_when_not_asked_for(
    model: Matrix, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cross, "host_machine", lambda: "x86_64")
    jit = aarch64(model, "jit")
    (extra, unverified), (natives, _), (crosses, verified) = cross.rounds([jit])
    assert [c.id for c in extra] == ["cpython-3.13.5-default-linux-x86_64"]
    assert (unverified, natives, [c.id for c in crosses], verified) == (False, [], [jit.id], True)
    x86 = model.cell(python="3.13", variant="default", platform="linux-x86_64")
    (extra, _), (natives, _), (crosses, _) = cross.rounds([jit, x86])
    assert (extra, natives, crosses) == ([], [x86], [jit])  # asked for: built and verified
    assert cross.rounds([x86]) == [([x86], True)]
    assert set(cross.cross_builders([jit, x86])) == {jit.id}
