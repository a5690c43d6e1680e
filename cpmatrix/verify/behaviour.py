"""Behaviour sections of the probe, run INSIDE the interpreter under test (stdlib only).

    python -I behaviour.py threads 2          # the free-threading witness, then speed
    python -I behaviour.py witness            # the free-threading witness alone, once
    python -I behaviour.py remote             # sys.remote_exec into child processes (3.14+)
    python -I behaviour.py venv DIR           # venv + ensurepip + pip installs a local wheel
    python -I behaviour.py interpreters       # InterpreterPoolExecutor (3.14+)
    python -I behaviour.py relocate DIR       # copy the install tree, run the copy

Prints one JSON object last. The threads section lives in freethreading.py; the helpers it
shares with probe.py are probe.py's: :func:`source` ships all it uses as one file
(:mod:`cpmatrix.verify.shipping`).
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from cpmatrix.verify.freethreading import threads, witness
from cpmatrix.verify.probe import ABSENT, _attr, _call, _cores

CHILD = """
import os, sys, time
print("ready", flush=True)
turns = 0
while not os.path.exists(sys.argv[1]):
    if os.path.exists(sys.argv[2]):
        turns += 1
        print(turns, flush=True)
    time.sleep(0.01)
"""
"""Loops until the marker exists (the parent kills it otherwise); once the parent has made the
``sent`` file (after ``sys.remote_exec`` returned) it prints each turn: every turn passes the
eval breaker, where a pending remote script runs."""
REMOTE_TURNS = 200
"""Turns of the child's loop after ``sys.remote_exec`` returned without the script running
that prove it never will (it runs at the first): a count of the child's own progress, the same
on a quiet or a saturated machine."""
REMOTE_WALL_LIMIT = 90.0
"""Wall seconds after which a child that made fewer turns is "too slow here", not a verdict."""


def _turns_until_ran(child: subprocess.Popen[str], marker: Path) -> str:
    assert child.stdout is not None
    deadline = time.monotonic() + REMOTE_WALL_LIMIT
    for line in child.stdout:
        if marker.exists():
            return "ran"
        if line.strip().isdigit() and int(line) >= REMOTE_TURNS:
            return f"accepted but the script never ran ({REMOTE_TURNS} turns of the child)"
        if time.monotonic() > deadline:
            return f"{_too_slow(REMOTE_WALL_LIMIT)}: the child made too few turns"
    return "ran" if marker.exists() else f"the child exited {child.wait()} before the script ran"


def _remote_exec_into(env: dict[str, str], scratch: str, label: str) -> Any:
    remote_exec = _attr(sys, "remote_exec")
    if remote_exec is None:
        return ABSENT
    marker, sent = Path(scratch) / f"{label}.ran", Path(scratch) / f"{label}.sent"
    script = Path(scratch) / f"{label}.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('ran')\n", encoding="utf-8")
    child = subprocess.Popen(
        [sys.executable, "-s", "-c", CHILD, str(marker), str(sent)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        child.stdout.readline()
        try:
            remote_exec(child.pid, str(script))
        except BaseException as error:
            return f"{type(error).__name__}: {error}"
        sent.touch()
        return _turns_until_ran(child, marker)
    finally:
        child.kill()
        child.wait()


def remote() -> dict[str, Any]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    with tempfile.TemporaryDirectory(prefix="cpmatrix-remote-") as scratch:
        return {
            "enabled_child": _call(lambda: _remote_exec_into(base, scratch, "plain")),
            "disabled_child": _call(
                lambda: _remote_exec_into(
                    {**base, "PYTHON_DISABLE_REMOTE_DEBUG": "1"}, scratch, "disabled"
                )
            ),
        }


# -- health ------------------------------------------------------------------------------------

WHEEL_NAME = "cpmatrix_probe_pkg"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def make_wheel(directory: str) -> str:
    """A minimal pure-Python wheel, written with zipfile (no network, no build backend)."""
    info = f"{WHEEL_NAME}-1.0.dist-info"
    files = {
        f"{WHEEL_NAME}.py": b"VALUE = 42\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {WHEEL_NAME}\nVersion: 1.0\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: cpmatrix\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = [_record_line(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = str(Path(directory) / f"{WHEEL_NAME}-1.0-py3-none-any.whl")
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


TOO_SLOW = "too slow here"
"""The words of an outcome that a wall-clock limit, not the interpreter, decided."""


def _too_slow(limit: float) -> str:
    return f"{TOO_SLOW}: not done after {limit:g} s (load {_load()})"


def _load() -> str:
    getloadavg = getattr(os, "getloadavg", None)
    return f"{getloadavg()[0]:.1f} on {_cores()} cores" if getloadavg else "unknown"


def _step(argv: list[str], timeout: float = 240) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"ok": None, "tail": _too_slow(timeout)}
    tail = (done.stdout + done.stderr)[-600:]
    return {"ok": done.returncode == 0, "exit": done.returncode, "tail": tail}


def venv(directory: str) -> dict[str, Any]:
    Path(directory).mkdir(parents=True, exist_ok=True)
    target = str(Path(directory) / "venv")
    steps: dict[str, Any] = {"venv": _step([sys.executable, "-m", "venv", target])}
    bin_dir = "Scripts" if os.name == "nt" else "bin"
    python = str(Path(target) / bin_dir / ("python.exe" if os.name == "nt" else "python"))
    if steps["venv"]["ok"]:
        wheel = make_wheel(directory)
        pip = [python, "-m", "pip", "install", "--no-index", "--disable-pip-version-check", wheel]
        steps["pip_install"] = _step(pip)
        code = f"import {WHEEL_NAME}, sys; print({WHEEL_NAME}.VALUE, sys.prefix)"
        run = _step([python, "-c", code], timeout=60)
        steps["import"] = {**run, "ok": run["ok"] and run["tail"].startswith("42 ")}
    return steps


def interpreters() -> dict[str, Any]:
    executor_type = _attr(__import__("concurrent.futures").futures, "InterpreterPoolExecutor")
    if executor_type is None:
        return {"outcome": ABSENT}
    _interpreters = importlib.import_module("_interpreters")
    main_id = _interpreters.get_current()[0]
    limit = 120
    with executor_type(max_workers=1) as pool:
        try:
            worker = pool.submit(_interpreters.get_current).result(timeout=limit)
            total = pool.submit(sum, [1, 2, 3]).result(timeout=limit)
        except TimeoutError:
            return {"outcome": _too_slow(limit)}
    return {"outcome": "ran", "main_id": main_id, "worker_id": worker[0], "sum": total}


RELOCATED = """
import json, sys, sysconfig
old = sys.argv[1]
import ssl, sqlite3, decimal, ctypes, zlib  # first: their libraries must be mapped when read
mapped = set()
try:
    with open("/proc/self/maps") as maps:
        for line in maps:
            parts = line.split()
            if len(parts) >= 6 and parts[5].startswith(old + "/"):
                mapped.add(parts[5])
except OSError:
    mapped = None
print(json.dumps({"prefix": sys.prefix, "stdlib": sysconfig.get_path("stdlib"),
                  "mapped_from_old": sorted(mapped) if mapped is not None else "unknown"}))
"""


SYSTEM_PREFIXES = frozenset({"/", "/usr", "/usr/local", "/opt/homebrew"})


def relocate(directory: str) -> dict[str, Any]:
    source = os.path.realpath(sys.base_prefix)
    executable = os.path.realpath(sys.executable)
    if source in SYSTEM_PREFIXES or not executable.startswith(source + os.sep):
        return {"outcome": "not-a-tree", "prefix": source, "executable": executable}
    Path(directory).mkdir(parents=True, exist_ok=True)
    moved = str(Path(directory).resolve() / "moved")
    shutil.copytree(
        source, moved, symlinks=True, ignore=shutil.ignore_patterns("test", "__pycache__")
    )
    copy = str(Path(moved) / os.path.relpath(executable, source))
    limit = 120
    try:
        done = subprocess.run(
            [copy, "-I", "-c", RELOCATED, source], capture_output=True, text=True, timeout=limit
        )
    except subprocess.TimeoutExpired:
        return {"outcome": _too_slow(limit), "moved_to": moved, "from": source}
    result: dict[str, Any] = {"outcome": "ran" if done.returncode == 0 else "failed"}
    result.update({"moved_to": moved, "from": source, "exit": done.returncode})
    if done.returncode == 0:
        result.update(json.loads(done.stdout.strip().splitlines()[-1]))
    else:
        result["tail"] = (done.stdout + done.stderr)[-800:]
    return result


def main(argv: list[str]) -> dict[str, Any]:
    section, args = (argv[0], argv[1:]) if argv else ("", [])
    match section:
        case "threads":
            return threads(int(args[0]) if args else 2)
        case "witness":
            return witness()
        case "remote":
            return remote()
        case "venv":
            return venv(args[0])
        case "interpreters":
            return interpreters()
        case "relocate":
            return relocate(args[0])
        case _:
            return {"error": f"unknown behaviour section {section!r}"}


def source() -> str:
    """This file's text with what it imports from cpmatrix copied in, to ship into a container
    or another machine (runs on the host only)."""
    from cpmatrix.verify.shipping import self_contained

    return self_contained(Path(__file__))


if __name__ == "__main__":
    try:
        outcome = main(sys.argv[1:])
    except BaseException as error:
        outcome = {"error": f"{type(error).__name__}: {error}"}
    sys.stdout.write("\n" + json.dumps(outcome, default=str) + "\n")
