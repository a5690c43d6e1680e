"""The configure / make / install steps, the preflight and the failure messages, composed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cpmatrix import features as fx
from cpmatrix.builders import base
from cpmatrix.matrix import Matrix
from cpmatrix.matrix.matrixfile import load


@pytest.fixture(scope="module")
def model() -> Matrix:
    return load()


def compose(model: Matrix, python: str, variant: str, **kw: str) -> base.Commands:
    cell = model.cell(python=python, variant=variant, platform="linux-x86_64", **kw)
    return base.commands(cell, source_dir="/src", destdir="/stage", jobs=3)


def test_jit_313_configure_make_install(model: Matrix) -> None:
    steps = compose(model, "3.13", "jit")
    prefix = "/opt/cpmatrix/cpython-3.13.5-jit-linux-x86_64"
    assert steps.configure == (
        "/src/configure",
        f"--prefix={prefix}",
        "--enable-option-checking=fatal",
        "--enable-experimental-jit=yes",
    )
    assert steps.configure_env == ()
    assert steps.make == ("make", "-j3")
    assert steps.install == ("make", "install", "DESTDIR=/stage", "COMPILEALL_OPTS=-j3")
    assert steps.prefix == prefix


def test_freethreaded_asks_for_mimalloc(model: Matrix) -> None:
    assert compose(model, "3.13", "freethreaded").configure[2:] == (
        "--enable-option-checking=fatal",
        "--disable-gil",
        "--with-mimalloc",
    )


def test_tailcall_uses_clang_19_and_optimized_adds_pgo_lto(model: Matrix) -> None:
    steps = compose(model, "3.14", "tailcall", profile="optimized")
    assert steps.configure_env == (
        ("CC", "clang-19"),
        ("LLVM_AR", "/usr/bin/llvm-ar-19"),
        ("LLVM_PROFDATA", "/usr/bin/llvm-profdata-19"),
        (
            "PROFILE_TASK",
            "-m test --pgo --timeout=$(TESTTIMEOUT) --ignore test_unpickle_module_race",
        ),
    )
    assert steps.configure[-3:] == (
        "--with-tail-call-interp",
        "--enable-optimizations",
        "--with-lto",
    )
    assert steps.prefix.endswith("cpython-3.14.5-tailcall-linux-x86_64-optimized")


def test_a_pgo_build_runs_the_instrumented_build_and_profile_task_as_their_own_phases(
    model: Matrix,
) -> None:
    """So the profile task's time is measured and shown (issue #25), not hidden in compile."""
    steps = compose(model, "3.13", "freethreaded", profile="optimized")
    assert steps.pgo == (
        ("instrument", ("make", "-j3", "profile-gen-stamp")),
        ("profile-task", ("make", "-j3", "profile-run-stamp")),
    )
    assert steps.make == ("make", "-j3")
    assert compose(model, "3.13", "freethreaded").pgo == ()
    assert compose(model, "3.13", "default", profile="debug").pgo == ()


def test_315_jit_passes_llvm_version(model: Matrix) -> None:
    assert compose(model, "3.15", "jit").configure_env == (("LLVM_VERSION", "21"),)


def test_debug_profile(model: Matrix) -> None:
    assert compose(model, "3.13", "default", profile="debug").configure[-1] == "--with-pydebug"


def test_required_tools_are_unique_and_name_llvm(model: Matrix) -> None:
    cell = model.cell(python="3.14", variant="jit+tailcall", platform="linux-x86_64")
    names = [t.command for t in base.required_tools(cell)]
    assert names == ["make", "cc", "clang-19", "llvm-readobj-19", "llvm-objdump-19", "python3"]


TOOLS = (
    fx.Tool("make", "make", "apt-get install make"),
    fx.Tool("clang-18", "JIT stencils (LLVM 18)", "apt-get install clang-18 llvm-18"),
    fx.Tool("llvm-readobj-18", "JIT stencils (LLVM 18)", "apt-get install clang-18 llvm-18"),
)


def test_preflight_script_checks_presence_and_llvm_major() -> None:
    script = base.preflight_script(TOOLS)
    assert "command -v make" in script
    assert "clang-18 --version" in script
    assert "make --version" not in script


def test_preflight_reports_missing_and_wrong_version() -> None:
    output = "\n".join(
        [
            "found make /usr/bin/make",
            "found clang-18 /usr/local/bin/clang-18",
            "version clang-18 Debian clang version 19.1.7",
            "missing llvm-readobj-18",
        ]
    )
    problems = base.preflight_problems(TOOLS, output)
    assert problems == [
        "clang-18 is not LLVM 18 ('Debian clang version 19.1.7'); "
        "install: apt-get install clang-18 llvm-18",
        "llvm-readobj-18 is missing (needed for JIT stencils (LLVM 18)); "
        "install: apt-get install clang-18 llvm-18",
    ]


def test_preflight_passes_when_everything_is_there() -> None:
    output = "found make /usr/bin/make\nfound clang-18 /x\nversion clang-18 clang version 18.1.8\n"
    output += "found llvm-readobj-18 /y\nversion llvm-readobj-18   LLVM version 18.1.8\n"
    assert base.preflight_problems(TOOLS, output) == []


def test_preflight_error_names_cell_and_place(model: Matrix) -> None:
    cell = model.cell(python="3.15", variant="jit", platform="linux-x86_64")
    error = base.preflight_error(cell, "the builder image x:1", ["clang-21 is missing"])
    assert "the builder image x:1 lacks what cpython-3.15.0-jit-linux-x86_64 needs" in error.message
    assert "  - clang-21 is missing" in error.message
    assert error.exit_code == 3


def test_unrecognized_switch_is_mapped_back_to_its_feature(model: Matrix, tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text(
        "checking build system type... x86_64\n"
        "configure: error: unrecognized options: --with-tail-call-interp, --without-remote-debug\n"
    )
    cell = model.cell(python="3.13", variant="default", platform="linux-x86_64")
    error = base.phase_failed(cell, "configure", 1, log)
    first = error.message.splitlines()[0]
    assert first == (
        "configure failed for cpython-3.13.5-default-linux-x86_64: "
        "CPython 3.13.5 does not have --with-tail-call-interp (tailcall needs 3.14+); "
        "CPython 3.13.5 does not have --without-remote-debug (noremotedebug needs 3.14+)"
    )
    assert str(log) in error.message
    assert error.hint == f"the full log is kept at {log}"


def test_failure_message_carries_the_last_30_lines(model: Matrix, tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text("".join(f"line {n}\n" for n in range(100)))
    cell = model.cell(python="3.13", variant="jit", platform="linux-x86_64")
    message = base.phase_failed(cell, "compile", 2, log).message
    assert "compile failed for cpython-3.13.5-jit-linux-x86_64: exit code 2" in message
    assert "line 70\n" in message
    assert "line 99" in message
    assert "line 69\n" not in message


def test_shell_line_quotes() -> None:
    assert base.shell_line(["a b", "c"], {"CC": "clang-19"}) == "CC=clang-19 'a b' c"


def test_an_optimized_sysroot_build_names_the_llvm_tools_of_its_clang(model: Matrix) -> None:
    """configure looks for unversioned llvm-ar / llvm-profdata; Debian ships llvm-ar-19."""
    from cpmatrix.builders.portable import Sysroot

    cell = model.cell(
        python="3.13", variant="default", platform="linux-x86_64", profile="optimized"
    )
    env = dict(
        base.commands(
            cell, source_dir="/src", destdir="/stage", jobs=2, sysroot=Sysroot()
        ).configure_env
    )
    assert env["CC"] == "clang-19"
    assert env["CPPFLAGS"] == env["LDFLAGS"] == "--sysroot=/opt/sysroot"
    assert env["LLVM_AR"] == "/usr/bin/llvm-ar-19"
    assert env["LLVM_PROFDATA"] == "/usr/bin/llvm-profdata-19"
    release = model.cell(python="3.13", variant="default", platform="linux-x86_64")
    plain = base.commands(release, source_dir="/src", destdir="/stage", jobs=2, sysroot=Sysroot())
    assert "LLVM_AR" not in dict(plain.configure_env)


@pytest.mark.parametrize("variant", ["default", "jit", "freethreaded"])
def test_configure_recognizes_the_sysroot_compiler_as_clang(model: Matrix, variant: str) -> None:
    """configure.ac: ``CC_BASENAME=$(expr "//$CC" : '.*/\\(.*\\)')``, then ``*clang*)`` sets the
    PGO flags. With ``--sysroot=/opt/sysroot`` in CC the word was ``sysroot``: no PGO at all."""
    from cpmatrix.builders.portable import Sysroot

    cell = model.cell(python="3.13", variant=variant, platform="linux-x86_64", profile="optimized")
    env = dict(
        base.commands(
            cell, source_dir="/src", destdir="/stage", jobs=2, sysroot=Sysroot()
        ).configure_env
    )
    named = subprocess.run(
        ["expr", f"//{env['CC']}", ":", ".*/\\(.*\\)"], capture_output=True, text=True
    )
    assert "clang" in named.stdout, f"configure would name CC={env['CC']!r} {named.stdout!r}"
