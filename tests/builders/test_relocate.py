"""The portable phase's relocation of what a consumer's build reads (fake trees, real tools)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cpmatrix.builders import relocate
from cpmatrix.features import proofs

PREFIX = "/opt/cpmatrix/cpython-3.13.5-default-linux-x86_64"
SYSCONFIG = f"""# system configuration generated and used by the sysconfig module
build_time_vars = {{'CC': 'clang-19',
 'CXX': 'clang++-19',
 'LDSHARED': 'clang-19 -shared -fprofile-instr-use=code.profclangd',
 'CFLAGS': '-fno-strict-overflow -Wsign-compare -Qunused-arguments -O3 -Wall',
 'INCLUDEPY': '{PREFIX}/include/python3.13',
 'INSTALL': '/usr/bin/install -c',
 'CONFIG_ARGS': "'--prefix={PREFIX}' 'CC=clang-19'",
 'LIBPL_FLAG': '-L{PREFIX}/lib/python3.13/config',
 'LIBDIR': '{PREFIX}/lib',
 'prefix': '{PREFIX}',
 'Py_GIL_DISABLED': 0,
 'SIZEOF_LONG': 8}}
"""
CONFIG_SH = f"""#!/bin/sh
installed_prefix ()
{{
    RESULT=$(dirname $(cd $(dirname "$1") && pwd -P))
    if which readlink >/dev/null 2>&1 ; then
        if readlink -f "$RESULT" >/dev/null 2>&1; then
          RESULT=$(readlink -f "$RESULT")
        fi
    fi
    echo $RESULT
}}
prefix_real=$(installed_prefix "$0")
prefix="{PREFIX}"
includedir=$(echo "{PREFIX}/include" | sed "s#$prefix#$prefix_real#")
SYSLIBS="-lm "
LIBS_EMBED="-lpython3.13 -ldl  $SYSLIBS"
OPT="-DNDEBUG -Qunused-arguments -O3"
case "$1" in
    --includes) echo "-I$includedir/python3.13" ;;
    --embed-libs) echo "$LIBS_EMBED" ;;
    --opt) echo "$OPT" ;;
esac
"""
EMBED_PC = f"""prefix={PREFIX}
exec_prefix=${{prefix}}
libdir=${{exec_prefix}}/lib
includedir=${{prefix}}/include

Name: Python
Description: Embed Python into an application
Version: 3.13
Libs.private: -ldl  -lm
Libs: -L${{libdir}} -lpython3.13
Cflags: -I${{includedir}}/python3.13
"""


def fake_tree(root: Path) -> Path:
    tree = root / "opt" / "x"
    (tree / "bin").mkdir(parents=True)
    (tree / "lib/python3.13/config-3.13-x86_64-linux-gnu").mkdir(parents=True)
    (tree / "lib/pkgconfig").mkdir(parents=True)
    data = tree / "lib/python3.13/_sysconfigdata__linux_x86_64-linux-gnu.py"
    data.write_text(SYSCONFIG)
    config = tree / "bin/python3.13-config"
    config.write_text(CONFIG_SH)
    config.chmod(0o755)
    pip = tree / "bin/pip3"
    pip.write_text(f"#!{PREFIX}/bin/python3.13\nimport sys\nprint('pip', sys.argv[1:])\n")
    pip.chmod(0o755)
    (tree / "lib/pkgconfig/python-3.13-embed.pc").write_text(EMBED_PC)
    (tree / "lib/pkgconfig/python-3.13.pc").write_text(EMBED_PC.replace("Embed", "Build"))
    makefile = tree / "lib/python3.13/config-3.13-x86_64-linux-gnu/Makefile"
    makefile.write_text(
        f"prefix=\t\t{PREFIX}\nCC=\t\tclang-19\nINCLUDEPY=\t$(prefix)/include/python3.13\n"
        f"CONFIG_ARGS=\t'--prefix={PREFIX}' 'CC=clang-19'\n"
    )
    return tree


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    built = fake_tree(tmp_path)
    relocate.relocate(built)
    return built


def test_sysconfig_names_the_consumers_compilers_and_drops_clang_only_flags() -> None:
    text, built, prefix = relocate.sysconfigdata(SYSCONFIG)
    assert prefix == PREFIX
    assert built["CC"] == "clang-19" and built["LDSHARED"].startswith("clang-19 -shared")
    namespace: dict[str, object] = {"__file__": f"/x y/lib/python3.13/{'_s'}.py"}
    exec(compile(text, "_s.py", "exec"), namespace)
    values = namespace["build_time_vars"]
    assert isinstance(values, dict)
    assert values["CC"] == "cc" and values["CXX"] == "c++"
    assert values["LDSHARED"] == "cc -shared"
    assert values["CFLAGS"] == "-fno-strict-overflow -Wsign-compare -O3 -Wall"
    assert values["INCLUDEPY"] == "/x y/include/python3.13"
    assert values["LIBPL_FLAG"] == "-L/x y/lib/python3.13/config"
    assert values["CONFIG_ARGS"] == "'--prefix=/x y' 'CC=cc'"
    assert values["INSTALL"] == "/usr/bin/install -c"
    assert values["SIZEOF_LONG"] == 8


def test_the_literal_is_what_uvs_parser_reads_with_the_prefix_uv_replaces() -> None:
    """uv reads ``_sysconfigdata`` as its header line, then ``build_time_vars = {`` and a
    literal, and rewrites prefixes that start with /install (python-build-standalone's)."""
    text, _, _ = relocate.sysconfigdata(SYSCONFIG)
    assert text.startswith(relocate.SYSCONFIG_HEADER + "build_time_vars = {")
    literal = text[len(relocate.SYSCONFIG_HEADER) :].split("\n\n", 1)[0]
    assert PREFIX not in literal and "'INCLUDEPY': '/install/include/python3.13'" in literal


def test_a_word_that_only_contains_the_compiler_name_is_left_alone() -> None:
    words = relocate.compiler_words("clang-19", "clang++-19")
    assert relocate.neutral("/usr/lib/clang-19/x clang-19 -c", words) == "/usr/lib/clang-19/x cc -c"


def test_the_relocated_sysconfig_module_imports_from_where_it_lies(tree: Path) -> None:
    moved = tree.rename(tree.parent / "un packed")
    code = (
        "import importlib, sys; sys.path.insert(0, sys.argv[1]); "
        "m = importlib.import_module('_sysconfigdata__linux_x86_64-linux-gnu'); "
        "print(m.build_time_vars['INCLUDEPY'], m.build_time_vars['CC'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(moved / "lib/python3.13")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == f"{moved}/include/python3.13 cc"


def test_python_config_finds_its_prefix_from_a_path_with_a_space(tree: Path) -> None:
    moved = tree.rename(tree.parent / "with space")
    config = moved / "bin/python3.13-config"
    includes = subprocess.run([config, "--includes"], capture_output=True, text=True, check=True)
    assert includes.stdout.strip() == f"-I{moved}/include/python3.13"
    embed = subprocess.run([config, "--embed-libs"], capture_output=True, text=True, check=True)
    assert embed.stdout.split() == ["-lpython3.13", "-ldl", "-lm", relocate.EXPORT_DYNAMIC]
    opt = subprocess.run([config, "--opt"], capture_output=True, text=True, check=True)
    assert opt.stdout.strip() == "-DNDEBUG -O3"


@pytest.mark.skipif(shutil.which("pkg-config") is None, reason="pkg-config is not installed")
def test_pkg_config_answers_where_the_tree_is_and_the_embed_file_links_a_static_libpython(
    tree: Path,
) -> None:
    moved = tree.rename(tree.parent / "elsewhere")
    env = {**os.environ, "PKG_CONFIG_PATH": str(moved / "lib/pkgconfig")}

    def ask(*argv: str) -> list[str]:
        done = subprocess.run(["pkg-config", *argv], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
        return [
            flag[:2] + os.path.normpath(flag[2:]) if flag[:2] in ("-I", "-L") else flag
            for flag in done.stdout.split()
        ]

    assert ask("--cflags", "python-3.13") == [f"-I{moved}/include/python3.13"]
    embed = ask("--libs", "python-3.13-embed")
    assert embed[:2] == [f"-L{moved}/lib", "-lpython3.13"]
    assert {"-ldl", "-lm", relocate.EXPORT_DYNAMIC} <= set(embed)
    assert relocate.EXPORT_DYNAMIC not in ask("--libs", "python-3.13")


def test_console_scripts_run_the_interpreter_beside_their_real_path(tree: Path) -> None:
    moved = tree.rename(tree.parent / "a b")
    python = moved / "bin/python3.13"
    python.symlink_to(sys.executable)
    link = moved.parent / "pip-link"
    link.symlink_to(moved / "bin/pip3")
    for script in (moved / "bin/pip3", link):
        done = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
        assert done.stdout.strip() == "pip ['--version']"


def test_the_makefile_finds_its_prefix_from_its_own_path(tree: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    moved = tree.rename(tree.parent / "moved")
    config = next(moved.glob("lib/python3.13/config-*"))
    probe = moved / "probe.mk"
    probe.write_text(f"include {config}/Makefile\nshow:\n\t@echo $(INCLUDEPY) $(CC)\n")
    done = subprocess.run(
        ["make", "-s", "-f", str(probe), "show"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == f"{moved}/include/python3.13 cc"
    assert PREFIX not in (config / "Makefile").read_text()


def test_the_report_keeps_what_the_build_used(tmp_path: Path) -> None:
    report = relocate.relocate(fake_tree(tmp_path))
    assert report["build_used"] == {
        "CC": "clang-19",
        "CXX": "clang++-19",
        "LDSHARED": "clang-19 -shared -fprofile-instr-use=code.profclangd",
        "CONFIG_ARGS": f"'--prefix={PREFIX}' 'CC=clang-19'",
    }
    assert report["compilers"] == {"clang-19": "cc", "clang++-19": "c++"}
    assert len(report["files"]) == 6  # type: ignore[arg-type]


def test_the_profiles_flags_are_kept_as_built_and_shipped_without_clangs(tmp_path: Path) -> None:
    """The verifier proves PGO and LTO from the record (#25): the tree drops them."""
    assert relocate.PROFILE_EVIDENCE_VARS == proofs.OPTIMIZATION_VARIABLES
    flags = {
        "PGO_PROF_GEN_FLAG": "-fprofile-instr-generate",
        "PY_CFLAGS_NODIST": "-std=c11 -flto=thin",
        "PY_LDFLAGS_NODIST": "-flto=thin -Wl,--thinlto-cache-dir=x",
    }
    entries = "".join(f", {k!r}: {v!r}" for k, v in flags.items())
    text = SYSCONFIG.replace("'SIZEOF_LONG': 8}", f"'SIZEOF_LONG': 8{entries}}}")
    tree = fake_tree(tmp_path)
    next(tree.glob("lib/python3.13/_sysconfigdata_*.py")).write_text(text)
    report = relocate.relocate(tree)
    used = report["build_used"]
    assert isinstance(used, dict) and {k: used[k] for k in flags} == flags
    data = next(tree.glob("lib/python3.13/_sysconfigdata_*.py")).read_text()
    assert "-fprofile-instr-generate" not in data and "-flto=thin" not in data
