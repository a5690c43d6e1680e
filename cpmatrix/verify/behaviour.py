"""Behaviour sections of the probe, run INSIDE the interpreter under test (stdlib only).

    python -I behaviour.py threads 2          # the free-threading witness, then speed
    python -I behaviour.py witness            # the free-threading witness alone, once
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


SWITCH_INTERVAL = 1000.0
"""Seconds a thread waiting for a GIL lets the holder run before it asks for the GIL
(``sys.setswitchinterval``). Far beyond every deadline of the witness, so that a build with a
GIL never hands it over while the witness's threads spin in pure Python. CPython stores it in
microseconds in an ``unsigned long``: 1e9 fits the 32 bits of Windows, and the timed wait it
becomes (ms on Windows, a timespec on POSIX) holds it too."""
WITNESS_ROUNDS = 100
"""Handshake rounds; each needs both threads to run Python bytecode within it."""
STALL_CPU_SECONDS = 4.0
"""CPU seconds one thread spins, on its own clock, while the other, started and waiting for
nothing but a CPU, executes no bytecode: only a lock held across all of it (a GIL) does that.
A scheduler gives a runnable thread its turn within a few slices of its sibling's CPU time,
whatever the load, since load slows both clocks alike: the longest such wait measured on the
free-threaded 3.13.5 was 0.12 CPU s (20 runs at load 12 on 2 cores) and 57 ms with both threads
pinned to one CPU of a saturated machine (Windows quanta are 20-120 ms)."""
WITNESS_DEADLINE = 150.0
"""Wall seconds one attempt may take before it is "too slow here" (a process given under 3 % of
a CPU: at load 20 on 2 cores a GIL build's spinner needed 25-60 s); far below SWITCH_INTERVAL."""
WITNESS_ATTEMPTS = 2


def witness(
    rounds: int = WITNESS_ROUNDS,
    stall: float = STALL_CPU_SECONDS,
    deadline: float = WITNESS_DEADLINE,
) -> dict[str, Any]:
    """Two threads complete a handshake that needs both to execute Python bytecode in the same
    stretch of time, with the GIL's switch interval raised beyond the deadline.

    A leader writes token k and spins until the follower echoes k; the follower spins until it
    sees k, then echoes it. Under a GIL the thread holding it spins and the other never runs a
    bytecode (nothing in the loop releases the GIL: no I/O, no lock, no import; the eval breaker
    asks for a switch only after the switch interval): the spinner records ``serialized`` once
    it has spent ``stall`` CPU seconds of its own while the other made no step. Without a GIL
    both threads run (on one CPU too, interleaved by the OS) and the rounds complete: a witness
    a GIL build cannot produce at any speed. ``too-slow`` when the deadline passed first."""
    import threading

    token, echo, stop = [0], [0], [False]
    steps: tuple[list[int], list[int]] = ([0], [0])
    longest: list[float] = [0.0, 0.0]
    ends: list[tuple[str, int]] = [("never ended", 0), ("never ended", 0)]
    barrier = threading.Barrier(2)
    end = time.monotonic() + deadline

    def spin(me: int, box: list[int], k: int) -> str:
        mine, other = steps[me], steps[1 - me]
        seen, since = other[0], time.thread_time()
        while box[0] != k:
            mine[0] += 1
            now = time.thread_time()
            if other[0] != seen:
                seen, since = other[0], now
            elif now - since >= stall:
                longest[me] = max(longest[me], now - since)
                return "serialized"
            longest[me] = max(longest[me], now - since)
            if stop[0]:
                return "stopped"
            if time.monotonic() > end:
                return "too-slow"
        return ""

    def run(me: int) -> None:
        try:
            play(me)
        except BaseException as error:
            ends[me], stop[0] = (f"error: {type(error).__name__}: {error}", 0), True

    def play(me: int) -> None:
        barrier.wait(timeout=deadline)
        for k in range(1, rounds + 1):
            if me == 0:
                token[0] = k
            why = spin(me, echo if me == 0 else token, k)
            if why:
                ends[me], stop[0] = (why, k - 1), True
                return
            if me == 1:
                echo[0] = k
        ends[me] = ("", rounds)

    return _run_witness(run, rounds, deadline, steps, longest, ends)


def _run_witness(
    run: Callable[[int], None],
    rounds: int,
    deadline: float,
    steps: tuple[list[int], list[int]],
    longest: list[float],
    ends: list[tuple[str, int]],
) -> dict[str, Any]:
    import threading

    before = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    started, cpu = time.perf_counter(), time.process_time()
    try:
        pool = [threading.Thread(target=run, args=(me,), daemon=True) for me in (0, 1)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(deadline + 30)
    finally:
        sys.setswitchinterval(before)
    if any(thread.is_alive() for thread in pool):
        return {"error": f"the witness threads did not end within {deadline + 30:g} s"}
    return {
        "outcome": _outcome(ends, rounds),
        "rounds": rounds,
        "completed": min(done for _, done in ends),
        "steps": [steps[0][0], steps[1][0]],
        "longest_wait_cpu": [round(value, 4) for value in longest],
        "seconds": round(time.perf_counter() - started, 4),
        "cpu_seconds": round(time.process_time() - cpu, 4),
        "gil_enabled": _invoke(sys, "_is_gil_enabled"),
    }


def _outcome(ends: list[tuple[str, int]], rounds: int) -> str:
    """``parallel`` only when both threads played every round; a thread that crashed or never
    ended is named, never read as either verdict."""
    whys = [why for why, _ in ends]
    if all(why == "" and done == rounds for why, done in ends):
        return "parallel"
    for verdict in ("serialized", "too-slow"):
        if verdict in whys:
            return verdict
    return "; ".join(why for why in whys if why and why != "stopped") or "no round played"


def threads(workers: int) -> dict[str, Any]:
    """The free-threading witness (the verdict; measured again while too slow), then the speed
    of CPU-bound threads against serial and processes (information only; needs 2 cores)."""
    attempts: list[dict[str, Any]] = []
    while len(attempts) < WITNESS_ATTEMPTS:
        attempts.append(witness())
        if attempts[-1].get("outcome") != "too-slow":
            break
    speed = _measure_threads(workers) if _cores() >= 2 else {"skipped": "1 core"}
    return {"witness": attempts[-1], "attempts": attempts, "speed": speed}


def _measure_threads(workers: int, rounds: int = 3) -> dict[str, Any]:
    """Best-of-``rounds`` serial and threaded times for the same CPU-bound work, and the same
    work in processes (how much parallelism the machine offered right then). Information for
    the report: load changes every figure here, so no verdict reads them."""
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
        "speedup": best["serial"] / best["threads"],
        "capacity": best["proc_serial"] / best["procs"],
        "parallelism": max(cpu_per_wall),
    }


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
    """This file's text, to ship into a container or another machine."""
    return Path(__file__).read_text(encoding="utf-8")


if __name__ == "__main__":
    try:
        outcome = main(sys.argv[1:])
    except BaseException as error:
        outcome = {"error": f"{type(error).__name__}: {error}"}
    sys.stdout.write("\n" + json.dumps(outcome, default=str) + "\n")
