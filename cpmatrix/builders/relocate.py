"""Make what a staged CPython tree tells a consumer's build work wherever it is unpacked.

Runs in the portable phase (:mod:`.finish_tree`, standard library only) on the install tree.
A consumer builds C extensions and embeds the interpreter with what the tree says: the
``_sysconfigdata`` module (setuptools, pip), ``config-3.X/Makefile``, ``bin/python3.X-config``
and the ``.pc`` files (pkg-config), and starts the console scripts (``pip3``, ``pydoc3``,
``idle3``). As ``make install`` writes them, they name the build's compiler (``clang-19``, which
the consumer lacks) and the build's ``--prefix`` (``/opt/cpmatrix/<cell-id>``, where nothing is
unpacked). Here they are rewritten:

- the build's C and C++ compilers become ``cc`` and ``c++`` (the consumer's own); flags only
  clang understands are dropped;
- ``_sysconfigdata`` computes the prefix from its own location when imported, the Makefile
  from its own path (GNU make), ``python3.X-config`` from its own path (quoted, so a path with a
  space works), the ``.pc`` files from ``${pcfiledir}``;
- console scripts get pip's ``/bin/sh`` trampoline, which runs the interpreter beside the
  script's real path;
- the static libpython's embedding flags (``--embed``, ``python-3.X-embed.pc``) export the
  program's symbols (``-Wl,--export-dynamic``), which the extension modules it imports link
  against, and name the system libraries libpython needs.

What the build really used is returned, for the build record and the manifest.
"""

from __future__ import annotations

import ast
import pprint
import re
from pathlib import Path

CONSUMER_CC = "cc"
CONSUMER_CXX = "c++"
EXPORT_DYNAMIC = "-Wl,--export-dynamic"
CLANG_ONLY_FLAGS = re.compile(
    r"\s(?:-fprofile-instr-(?:use|generate)(?:=\"[^\"]*\"|=\S*)?|-Qunused-arguments"
    r"|-Wno-(?:unknown-warning-option|cast-function-type-mismatch)"
    r"|-flto=thin|-Wl,--thinlto-cache-dir=\S*|-fuse-ld=lld)(?=\s|$)"
)
"""Flags gcc refuses or that name clang's own tools; a consumer's ``cc`` is usually gcc."""
COMPILER_VARS = ("CC", "CXX", "LDSHARED", "LDCXXSHARED", "BLDSHARED", "LINKCC", "CPP", "MAINCC")
"""The variables whose build-time values the record keeps beside what a consumer sees."""
CLANG_PROFILE_VARS = (
    "PGO_PROF_GEN_FLAG",
    "PGO_PROF_USE_FLAG",
    "LLVM_PROF_FILE",
    "LLVM_PROF_MERGER",
)
"""CPython's own PGO steps with clang's tools: nothing a consumer runs; emptied."""
PROFILE_EVIDENCE_VARS = ("PGO_PROF_GEN_FLAG", "PY_CFLAGS_NODIST", "PY_LDFLAGS_NODIST")
"""What proves the build profile (features.proofs.OPTIMIZATION_VARIABLES; a test keeps the two
equal): emptied or made gcc-safe here, so their build-time values go to the build record, where
the verifier reads them (issue #25)."""
TRAMPOLINE = (
    '#!/bin/sh\n\'\'\'exec\' "$(dirname -- "$(realpath -- "$0")")/{name}" "$0" "$@"\n\' \'\'\'\n'
)
"""pip's and distlib's relocatable launcher: a shell line that is a Python string literal."""


def compiler_words(cc: str, cxx: str) -> dict[str, str]:
    """The build's compiler commands (first word of CC and CXX) → the consumer's."""
    words = {}
    if cc.split():
        words[cc.split()[0]] = CONSUMER_CC
    if cxx.split():
        words[cxx.split()[0]] = CONSUMER_CXX
    return words


def neutral(text: str, compilers: dict[str, str]) -> str:
    """Text with the build's compilers named as the consumer's and clang-only flags dropped."""
    for word, replacement in compilers.items():
        text = re.sub(rf"(?<![\w./+-]){re.escape(word)}(?![\w.+-])", replacement, text)
    previous = None
    while previous != text:
        previous, text = text, CLANG_ONLY_FLAGS.sub("", f" {text}")[1:]
    return text


SYSCONFIG_HEADER = "# system configuration generated and used by the sysconfig module\n"
"""CPython's first line; uv's parser requires it, then ``build_time_vars = {`` at once."""
PLACEHOLDER = "/install"
"""What the prefix reads as in the literal: python-build-standalone's placeholder, which uv
replaces with the real prefix when it installs an archive (it rewrites the file, dropping any
code after the literal); for tar users the code after the literal replaces it on import."""
PLACEHOLDER_TOKEN = r"(?:^|(?<=[\s='\":])|(?<=-I)|(?<=-L))/install(?=[/\s'\":]|$)"
"""The placeholder where a path starts (``/install/lib``, ``-I/install/include``), never inside
another path (``/usr/bin/install``)."""


def sysconfigdata(text: str) -> tuple[str, dict[str, str], str]:
    """The rewritten ``_sysconfigdata`` module, the compiler variables as built, the prefix."""
    tree = ast.parse(text)
    assigned = [n for n in tree.body if isinstance(n, ast.Assign)]
    values = ast.literal_eval(assigned[0].value)
    compilers = compiler_words(str(values.get("CC", "")), str(values.get("CXX", "")))
    kept = (*COMPILER_VARS, "CONFIG_ARGS", "LIBM", *PROFILE_EVIDENCE_VARS)
    built = {name: str(values[name]) for name in kept if values.get(name)}
    prefix = str(values["prefix"])
    rewritten = {
        key: neutral(value, compilers).replace(prefix, PLACEHOLDER)
        if isinstance(value, str)
        else value
        for key, value in values.items()
    }
    rewritten.update({name: "" for name in CLANG_PROFILE_VARS if name in values})
    body = (
        f"{SYSCONFIG_HEADER}build_time_vars = {pprint.pformat(rewritten, indent=1, width=100)}\n"
        "\n# cpmatrix: the compilers are the consumer's (cc, c++); the prefix, /install in the\n"
        f"# literal (the build had {prefix}), is where this file lies, two levels up.\n"
        "import os as _os\nimport re as _re\n\n"
        "_prefix = _os.path.dirname(_os.path.dirname(_os.path.dirname("
        "_os.path.abspath(__file__))))\n"
        "build_time_vars = {\n"
        f"    _key: _re.sub({PLACEHOLDER_TOKEN!r}, lambda _m: _prefix, _value)\n"
        "    if isinstance(_value, str)\n    else _value\n"
        "    for _key, _value in build_time_vars.items()\n"
        "}\n"
    )
    return body, built, prefix


def makefile(text: str, prefix: str, compilers: dict[str, str]) -> str:
    """config-3.X/Makefile: the prefix from the Makefile's own path, the consumer's compilers."""
    lines = []
    for line in text.splitlines(keepends=True):
        if re.match(r"prefix=\s", line):
            line = "prefix:=\t$(abspath $(dir $(lastword $(MAKEFILE_LIST)))../../..)\n"
        else:
            line = neutral(line, compilers).replace(prefix, "$(prefix)")
        lines.append(line)
    return "".join(lines)


def config_script(text: str, compilers: dict[str, str]) -> str:
    """``bin/python3.X-config`` (CPython's shell version): a quoted prefix lookup, the
    consumer's compilers, the embedding flags a static libpython needs."""
    quoted = 'RESULT=$(dirname -- "$(cd -- "$(dirname -- "$1")" && pwd -P)")'
    text = re.sub(r"RESULT=\$\(dirname \$\(cd \$\(dirname \"\$1\"\) && pwd -P\)\)", quoted, text)
    text = text.replace('RESULT=$(readlink -f "$RESULT")', 'RESULT=$(readlink -f -- "$RESULT")')
    text = text.replace("echo $RESULT", 'echo "$RESULT"')
    text = re.sub(
        r'^(LIBS_EMBED=".*) \$SYSLIBS"$',
        rf'\1 $SYSLIBS {EXPORT_DYNAMIC}"',
        text,
        flags=re.MULTILINE,
    )
    return neutral(text, compilers)


def pkgconfig(text: str, prefix: str, *, embed: bool, libm: str = "-lm") -> str:
    """A ``.pc`` file: the prefix from its own directory; the embed file links a static
    libpython (its private libraries and libm become public) and exports the program's
    symbols."""
    text = re.sub(r"^prefix=.*$", "prefix=${pcfiledir}/../..", text, flags=re.MULTILINE)
    text = text.replace(prefix, "${prefix}")
    if not embed:
        return text
    private = re.search(r"^Libs\.private:(.*)$", text, flags=re.MULTILINE)
    extra = f"{private.group(1).strip() if private else ''} {libm}".strip()
    return re.sub(
        r"^(Libs:.*?)\s*$",
        lambda m: f"{m.group(1)} {extra} {EXPORT_DYNAMIC}".replace("  ", " "),
        text,
        count=1,
        flags=re.MULTILINE,
    )


def shebang(text: str, prefix: str) -> str | None:
    """A console script started by ``#!<prefix>/bin/<python>``, with pip's trampoline
    instead; None for any other file."""
    first, _, rest = text.partition("\n")
    match = re.fullmatch(rf"#!\s*{re.escape(prefix)}/bin/(\S+)\s*", first)
    if match is None:
        return None
    return TRAMPOLINE.format(name=match.group(1)) + rest


def _files(tree: Path, pattern: str) -> list[Path]:
    """Regular files only: ``python3-embed.pc`` and ``pydoc3`` are symlinks to rewritten files."""
    return sorted(p for p in tree.glob(pattern) if p.is_file() and not p.is_symlink())


def relocate(tree: Path) -> dict[str, object]:
    """Rewrite every file a consumer's build reads; return what changed and what was built."""
    changed: list[str] = []
    built: dict[str, str] = {}
    prefix = ""
    for data in _files(tree, "lib/python3*/_sysconfigdata_*.py"):
        text, built, prefix = sysconfigdata(data.read_text(encoding="utf-8"))
        _write(tree, data, text, changed)
    if not prefix:
        return {"files": [], "build_used": {}, "compilers": {}}
    compilers = compiler_words(built.get("CC", ""), built.get("CXX", ""))
    for path in _files(tree, "lib/python3*/config-*/Makefile"):
        _write(tree, path, makefile(path.read_text(encoding="utf-8"), prefix, compilers), changed)
    for path in _files(tree, "lib/pkgconfig/*.pc"):
        text = path.read_text(encoding="utf-8")
        libm = built.get("LIBM", "-lm")
        _write(tree, path, pkgconfig(text, prefix, embed="-embed" in path.name, libm=libm), changed)
    for path in _files(tree, "bin/*"):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, ValueError):
            continue
        if path.name.endswith("-config") and text.startswith("#!/bin/sh"):
            _write(tree, path, config_script(text, compilers), changed)
        elif (launcher := shebang(text, prefix)) is not None:
            _write(tree, path, launcher, changed)
    return {"files": changed, "build_used": built, "compilers": compilers}


def _write(tree: Path, path: Path, text: str, changed: list[str]) -> None:
    if path.read_text(encoding="utf-8") == text:
        return
    mode = path.stat().st_mode
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    for stale in path.parent.glob(f"__pycache__/{path.stem}.*.pyc"):
        stale.unlink()
    changed.append(str(path.relative_to(tree)))
