"""The ``threads`` section of the behaviour script, run INSIDE the interpreter under test
(stdlib only): the free-threading witness (the verdict) and the speed of CPU-bound threads
against serial work and processes (information only).

Not a script of its own: behaviour.py imports it, and :mod:`cpmatrix.verify.shipping` copies
what behaviour.py uses into the one file that is shipped.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from cpmatrix.verify.probe import _cores, _invoke

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

    return _run_witness(play, rounds, deadline, steps, longest, ends, stop)


def _run_witness(
    play: Callable[[int], None],
    rounds: int,
    deadline: float,
    steps: tuple[list[int], list[int]],
    longest: list[float],
    ends: list[tuple[str, int]],
    stop: list[bool],
) -> dict[str, Any]:
    """Plays the witness's two threads with the switch interval raised; a thread that raises
    ends with its error and stops the other."""
    import threading

    def run(me: int) -> None:
        try:
            play(me)
        except BaseException as error:
            ends[me], stop[0] = (f"error: {type(error).__name__}: {error}", 0), True

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
