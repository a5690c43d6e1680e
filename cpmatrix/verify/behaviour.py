"""Behaviour sections of the probe, run INSIDE the interpreter under test (stdlib only).

    python -I behaviour.py threads 2          # CPU-bound threads vs serial vs processes
    python -I behaviour.py remote             # sys.remote_exec into child processes (3.14+)
    python -I behaviour.py venv DIR           # venv + ensurepip + pip installs a local wheel
    python -I behaviour.py interpreters       # InterpreterPoolExecutor (3.14+)
    python -I behaviour.py relocate DIR       # copy the install tree, run the copy

Like probe.py it is shipped as one self-contained file and prints one JSON object last.
"""

from __future__ import annotations

import base64
import functools
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

ABSENT: dict[str, bool] = {"absent": True}
"""As in probe.py: an object no check can mistake for an answer."""


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


def _cores() -> int:
    counter = getattr(os, "process_cpu_count", None) or os.cpu_count
    return int(counter() or 1)


MODULUS = "1000003"


def _work(n: int) -> int:
    """CPU-bound work that scales on free-threaded builds wherever it is defined and however
    its code object was made. Threads that write the reference count of one shared object take
    turns on it (biased reference counting), and a literal such as 1_000_003 is such an object
    when built-in compile() made the code (free-threaded 3.13+ immortalizes code constants,
    except under compile(): importlib compiles a module so when it reads no .pyc, while a
    script run as __main__ or a .pyc gets immortal constants: the former ``% 1_000_003`` loop,
    imported so, ran 0.79-0.86x on 2 threads of 3.13.5t at 1.7 CPU s/s). So the loop reads only
    small ints (immortal in every build) and a modulus its own thread made, which that thread
    counts without atomics (2.05-2.11x imported, 1.51-1.79x in __main__, same machine)."""
    modulus = int(MODULUS)
    x = 0
    for i in range(n):
        x = (x + i * i) % modulus
    return x


def _timed(function: Callable[[], Any]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


WORK = """
import sys
modulus = int("1000003")
x = 0
for i in range(int(sys.argv[1])):
    x = (x + i * i) % modulus
"""


def _processes(workers: int, size: int, together: bool) -> None:
    argv = [sys.executable, "-I", "-c", WORK, str(size)]
    if together:
        for child in [subprocess.Popen(argv) for _ in range(workers)]:
            child.wait()
    else:
        for _ in range(workers):
            subprocess.run(argv, check=True)


CAPACITY_MIN = 1.4
"""Below this process speed-up the machine is too busy to show parallelism; measure again."""
PARALLEL_MIN = 1.5
"""CPU seconds per wall second of the threaded phase that only parallel threads reach."""


def threads(workers: int, attempts: int = 4) -> dict[str, Any]:
    """Thread speed-up and machine capacity; re-measured while the machine is too busy."""
    found: dict[str, Any] = {}
    for attempt in range(1, attempts + 1):
        found = _measure_threads(workers)
        found["attempts"] = attempt
        if found["capacity"] >= CAPACITY_MIN or found["parallelism"] >= PARALLEL_MIN:
            break
    return found


def _measure_threads(workers: int, rounds: int = 3) -> dict[str, Any]:
    """Best-of-``rounds`` serial and threaded times for the same CPU-bound work, and the same
    work in processes: how much parallelism the machine offers right now (its capacity)."""
    import threading

    size = 20_000
    while _timed(functools.partial(_work, size)) < 0.15 and size < 50_000_000:
        size *= 2

    def serial() -> None:
        for _ in range(workers):
            _work(size)

    def parallel() -> None:
        pool = [threading.Thread(target=_work, args=(size,)) for _ in range(workers)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()

    times: dict[str, list[float]] = {"serial": [], "threads": [], "proc_serial": [], "procs": []}
    cpu_per_wall: list[float] = []
    for _ in range(rounds):
        times["serial"].append(_timed(serial))
        cpu_before = time.process_time()
        times["threads"].append(_timed(parallel))
        cpu_per_wall.append((time.process_time() - cpu_before) / times["threads"][-1])
        times["proc_serial"].append(_timed(functools.partial(_processes, workers, size, False)))
        times["procs"].append(_timed(functools.partial(_processes, workers, size, True)))
    best = {name: min(values) for name, values in times.items()}
    return {
        "workers": workers,
        "cores": _cores(),
        "unit_size": size,
        "serial_seconds": times["serial"],
        "parallel_seconds": times["threads"],
        "process_seconds": {"serial": times["proc_serial"], "parallel": times["procs"]},
        "speedup": best["serial"] / best["threads"],
        "capacity": best["proc_serial"] / best["procs"],
        "cpu_per_wall": cpu_per_wall,
        "parallelism": max(cpu_per_wall),
        "gil_enabled": _invoke(sys, "_is_gil_enabled"),
    }


CHILD = """
import os, sys, time
print("ready", flush=True)
deadline = time.monotonic() + 20
while time.monotonic() < deadline and not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
"""


def _remote_exec_into(env: dict[str, str], scratch: str, label: str) -> Any:
    remote_exec = _attr(sys, "remote_exec")
    if remote_exec is None:
        return ABSENT
    marker = Path(scratch) / f"{label}.ran"
    script = Path(scratch) / f"{label}.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('ran')\n", encoding="utf-8")
    child = subprocess.Popen(
        [sys.executable, "-s", "-c", CHILD, str(marker)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        child.stdout.readline()
        try:
            remote_exec(child.pid, str(script))
        except BaseException as error:
            return f"{type(error).__name__}: {error}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not marker.exists():
            time.sleep(0.02)
        return "ran" if marker.exists() else "accepted but the script never ran"
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


def _step(argv: list[str], timeout: float = 300) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
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
        run = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
        steps["import"] = {"ok": run.stdout.startswith("42 "), "output": run.stdout.strip()}
    return steps


def interpreters() -> dict[str, Any]:
    executor_type = _attr(__import__("concurrent.futures").futures, "InterpreterPoolExecutor")
    if executor_type is None:
        return {"outcome": ABSENT}
    _interpreters = importlib.import_module("_interpreters")
    main_id = _interpreters.get_current()[0]
    with executor_type(max_workers=1) as pool:
        worker = pool.submit(_interpreters.get_current).result(timeout=60)
        total = pool.submit(sum, [1, 2, 3]).result(timeout=60)
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
    done = subprocess.run(
        [copy, "-I", "-c", RELOCATED, source], capture_output=True, text=True, timeout=120
    )
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
    """This file's text, to ship into a container or another machine."""
    return Path(__file__).read_text(encoding="utf-8")


if __name__ == "__main__":
    try:
        outcome = main(sys.argv[1:])
    except BaseException as error:
        outcome = {"error": f"{type(error).__name__}: {error}"}
    sys.stdout.write("\n" + json.dumps(outcome, default=str) + "\n")
