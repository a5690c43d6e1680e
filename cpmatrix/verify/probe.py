"""Runs INSIDE the interpreter under test (CPython 3.13 to 3.16, GIL or free-threaded).

Standard library only; shipped as one self-contained file. Each section prints one JSON object
on the last line of stdout::

    python -I probe.py facts --modules ssl,sqlite3   # build facts, run-time state, modules
    python -s probe.py runtime                       # run-time state only (honours PYTHON_JIT …)

A missing attribute is recorded as :data:`ABSENT`, a JSON object no check can mistake for an
answer (a string such as ``"absent"`` would contain the ``t`` of free-threading's ABI flag);
nothing here may crash on an interpreter that lacks a feature. ``-I`` ignores ``PYTHON_JIT``
and friends, so the ``runtime`` section must be started with ``-s`` and a cleaned environment
instead. The behaviour sections (threads, remote_exec, venv, subinterpreters, relocation) are
in behaviour.py.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import platform
import shlex
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

ABSENT: dict[str, bool] = {"absent": True}
"""What the probe records for an attribute, variable or file the interpreter does not have."""
CONFIG_VARS = (
    "Py_GIL_DISABLED",
    "Py_DEBUG",
    "Py_TAIL_CALL_INTERP",
    "_Py_TAIL_CALL_INTERP",
    "Py_REMOTE_DEBUG",
    "Py_ENABLE_SHARED",
    "MULTIARCH",
    "EXT_SUFFIX",
)
DEFINE_SOURCES = ("PY_CORE_CFLAGS", "CFLAGS_NODIST", "PY_CFLAGS_NODIST")
BUILD_FLAG_VARS = ("PGO_PROF_GEN_FLAG", "PY_CFLAGS_NODIST", "PY_LDFLAGS_NODIST")
"""What the build profile left in sysconfig: the PGO flag configure chose, -flto (see
cpmatrix.features.proofs.OPTIMIZATION_VARIABLES)."""
HOT_ITERATIONS = 100_000


def _call(function: Callable[[], Any]) -> Any:
    try:
        return function()
    except Exception as error:
        return f"error: {type(error).__name__}: {error}"


def _attr(obj: Any, dotted: str) -> Any:
    for name in dotted.split("."):
        if not hasattr(obj, name):
            return None
        obj = getattr(obj, name)
    return obj


def _invoke(obj: Any, dotted: str) -> Any:
    function = _attr(obj, dotted)
    return ABSENT if function is None else _call(function)


def build_defines() -> dict[str, str]:
    """``-D_Py_*`` defines from the core's compiler flags (the JIT's live there, not pyconfig)."""
    found: dict[str, str] = {}
    for var in DEFINE_SOURCES:
        for word in shlex.split(str(sysconfig.get_config_var(var) or "")):
            if word.startswith("-D_Py_"):
                name, _, value = word[2:].partition("=")
                found[name] = value or "1"
    return found


def pyconfig_h() -> dict[str, Any]:
    """The CONFIG_VARS as the installed ``pyconfig.h`` defines them: its value, 0 for a
    ``/* #undef NAME */`` line, ABSENT when the file does not mention it. Read here because
    ``sysconfig.parse_config_h`` skips names that start with ``_`` (3.15's
    ``_Py_TAIL_CALL_INTERP``). A multiarch wrapper (Debian's ``/usr/include/python3.X``) that
    defines none of them is followed to the header it includes that exists."""
    path = Path(sysconfig.get_config_h_filename())
    try:
        found, included = _config_h(path)
    except OSError as error:
        return {"path": str(path), "error": f"{type(error).__name__}: {error}"}
    real = [path.parent.parent / name for name in included if (path.parent.parent / name).is_file()]
    if real and all(value == ABSENT for value in found.values()):
        return {"path": str(real[0]), "via": str(path), "values": _config_h(real[0])[0]}
    return {"path": str(path), "values": found}


def _config_h(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The CONFIG_VARS a header defines or #undefs, and the pyconfig.h files it includes."""
    found: dict[str, Any] = dict.fromkeys(CONFIG_VARS, ABSENT)
    included: list[str] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        words = line.replace("/*", " ").replace("*/", " ").replace("#", "# ", 1).split()
        if len(words) < 3 or words[0] != "#":
            continue
        directive, name = words[1], words[2]
        if directive == "include" and name.startswith("<") and name.endswith("pyconfig.h>"):
            included.append(name.strip("<>"))
        elif directive in ("define", "undef") and name in found:
            value = words[3] if directive == "define" and len(words) > 3 else "1"
            found[name] = 0 if directive == "undef" else _number(value)
    return found, included


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


def hot_loop_fraction() -> Any:
    """Share of 100,000 iterations in which ``sys._jit.is_active()`` is True (on the hot path)."""
    is_active = _attr(sys, "_jit.is_active")
    if is_active is None:
        return ABSENT
    hits = 0
    for _ in range(HOT_ITERATIONS):
        hits += 1 if is_active() else 0
    return hits / HOT_ITERATIONS


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def hot_loop_executors() -> Any:
    """Tier-2 executors attached to a loop after it ran hot (``_opcode.get_executor``)."""
    try:
        _opcode = importlib.import_module("_opcode")
    except ImportError:
        return ABSENT
    get_executor = getattr(_opcode, "get_executor", None)
    if get_executor is None:
        return ABSENT
    _spin(50_000)
    code = _spin.__code__
    count = 0
    for offset in range(0, len(code.co_code), 2):
        try:
            get_executor(code, offset)
        except Exception:
            continue
        count += 1
    return count


def executable_anonymous_bytes() -> Any:
    """Bytes of executable memory mapped from no file (``/proc/self/maps``, Linux only).

    JIT-compiled code needs such a mapping; the tier-2 interpreter and the plain interpreter
    never create one (measured on 3.13.5 builds and Debian's 3.14 / 3.15)."""
    try:
        lines = Path("/proc/self/maps").read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return ABSENT
    total = 0
    for line in lines:
        fields = line.split()
        if len(fields) == 5 and "x" in fields[1]:  # no sixth field: no file, no [name]
            start, _, end = fields[0].partition("-")
            total += int(end, 16) - int(start, 16)
    return total


def optimizer_313() -> Any:
    """3.13's evidence of the JIT: ``_testinternalcapi.get_optimizer()`` (None when off)."""
    try:
        _testinternalcapi = importlib.import_module("_testinternalcapi")
    except ImportError as error:
        return f"error: {error}"
    get = getattr(_testinternalcapi, "get_optimizer", None)
    if get is None:
        return ABSENT
    optimizer = _call(get)
    return None if optimizer is None else type(optimizer).__name__


def runtime_state() -> dict[str, Any]:
    """Keys are the calls that were made, so feature proofs can name them."""
    before = _call(executable_anonymous_bytes)
    state: dict[str, Any] = {
        "sys._is_gil_enabled()": _invoke(sys, "_is_gil_enabled"),
        "sys._jit.is_available()": _invoke(sys, "_jit.is_available"),
        "sys._jit.is_enabled()": _invoke(sys, "_jit.is_enabled"),
        "sys.is_remote_debug_enabled()": _invoke(sys, "is_remote_debug_enabled"),
        "_testinternalcapi.get_optimizer()": (
            optimizer_313() if sys.version_info < (3, 14) else ABSENT
        ),
        "hot_loop.is_active_fraction": _call(hot_loop_fraction),
        "hot_loop.executors": _call(hot_loop_executors),
        "hot_loop.executable_anonymous_bytes": {
            "before": before,
            "after": _call(executable_anonymous_bytes),
        },
        "env": {k: v for k, v in os.environ.items() if k.startswith("PYTHON")},
    }
    return state


def _extension_names() -> list[str]:
    names: set[str] = set()
    suffixes = tuple(sorted(_extension_suffixes(), key=len, reverse=True))
    dynload = Path(sysconfig.get_path("platstdlib"))
    for directory in (dynload, dynload / "lib-dynload"):
        if not directory.is_dir():
            continue
        for entry in (path.name for path in directory.iterdir()):
            for suffix in suffixes:
                if entry.endswith(suffix):
                    names.add(entry[: -len(suffix)])
                    break
    return sorted(n for n in names if not n.startswith(("_test", "xx", "_ctypes_test")))


def _extension_suffixes() -> list[str]:
    import importlib.machinery

    return list(importlib.machinery.EXTENSION_SUFFIXES)


def import_modules(wanted: list[str]) -> dict[str, Any]:
    imported: list[str] = []
    failed: dict[str, str] = {}
    for name in sorted(set(wanted) | set(_extension_names())):
        try:
            __import__(name)
        except BaseException as error:
            failed[name] = f"{type(error).__name__}: {error}"
        else:
            imported.append(name)
    return {"imported": imported, "failed": failed}


def ssl_state() -> dict[str, Any]:
    import ssl

    context = ssl.create_default_context()
    return {
        "openssl": ssl.OPENSSL_VERSION,
        "verify_mode": str(context.verify_mode),
        "check_hostname": context.check_hostname,
        "ca_certs": len(context.get_ca_certs()),
    }


def _digest(module: Any, name: str) -> str:
    return str(module.new(name, b"cpmatrix").hexdigest()[:16])


def hashlib_state() -> dict[str, Any]:
    import hashlib as hl

    openssl = sorted(getattr(hl, "algorithms_available", set()))
    works = {}
    for name in ("sha256", "sha3_256", "blake2b", "md5"):
        works[name] = _call(functools.partial(_digest, hl, name))
    sha256 = type(hl.new("sha256"))
    backend = f"{sha256.__module__}.{sha256.__name__}"
    return {"available": openssl, "digests": works, "sha256_type": backend}


def facts(modules: list[str]) -> dict[str, Any]:
    config = {}
    for var in CONFIG_VARS:
        value = sysconfig.get_config_var(var)
        config[var] = ABSENT if value is None else value
    result: dict[str, Any] = {
        "version": platform.python_version(),
        "version_info": list(sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "abiflags": getattr(sys, "abiflags", ABSENT),
        "config_args": sysconfig.get_config_var("CONFIG_ARGS") or "",
        "config_vars": config,
        "build_flags": {var: sysconfig.get_config_var(var) or "" for var in BUILD_FLAG_VARS},
        "pyconfig_h": _call(pyconfig_h),
        "defines": build_defines(),
        "compiler": platform.python_compiler(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "platform": sysconfig.get_platform(),
        "cores": _cores(),
        "test_package": _has_test_package(),
        "runtime": runtime_state(),
    }
    result["modules"] = import_modules(modules)
    result["gil_enabled_after_imports"] = _invoke(sys, "_is_gil_enabled")
    result["ssl"] = _call(ssl_state)
    result["hashlib"] = _call(hashlib_state)
    return result


def _cores() -> int:
    counter = getattr(os, "process_cpu_count", None) or os.cpu_count
    return int(counter() or 1)


def _has_test_package() -> bool:
    return (Path(sysconfig.get_path("stdlib")) / "test" / "libregrtest" / "main.py").is_file()


def main(argv: list[str]) -> dict[str, Any]:
    section, args = (argv[0], argv[1:]) if argv else ("facts", [])
    match section:
        case "facts":
            modules = args[1].split(",") if len(args) > 1 and args[0] == "--modules" else []
            return facts([m for m in modules if m])
        case "runtime":
            return runtime_state()
        case _:
            return {"error": f"unknown probe section {section!r}"}


def source() -> str:
    """This file's text, to ship into a container or another machine."""
    return Path(__file__).read_text(encoding="utf-8")


if __name__ == "__main__":
    try:
        outcome = main(sys.argv[1:])
    except BaseException as error:
        outcome = {"error": f"{type(error).__name__}: {error}"}
    sys.stdout.write("\n" + json.dumps(outcome, default=str) + "\n")
