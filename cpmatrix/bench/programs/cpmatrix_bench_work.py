"""The workloads, written for cpmatrix. Runs inside the interpreter under test (3.13+, stdlib only).

Kept importable by name (the programs' directory is on ``PYTHONPATH``) so that worker processes
and subinterpreters can unpickle ``spin`` by reference.
"""

from __future__ import annotations

import json
import marshal
import math
import sys
import types
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

# -- single-thread workloads -------------------------------------------------------------------

Body = list[float]  # x, y, z, vx, vy, vz, mass


def _planets() -> list[Body]:
    """A sun and four bodies on roughly circular orbits (units: AU, years, solar masses)."""
    four_pi_squared = 4.0 * math.pi * math.pi
    bodies = [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, four_pi_squared]]
    for radius, mass, phase in ((1.0, 3e-6, 0.3), (5.2, 9.5e-4, 1.7), (9.5, 2.9e-4, 2.9),
                                (19.2, 4.4e-5, 4.1)):  # fmt: skip
        speed = 2.0 * math.pi / math.sqrt(radius)
        bodies.append(
            [
                radius * math.cos(phase),
                radius * math.sin(phase),
                0.01 * radius,
                -speed * math.sin(phase),
                speed * math.cos(phase),
                0.0,
                mass * four_pi_squared,
            ]
        )
    return bodies


def nbody(steps: int) -> float:
    """Semi-implicit Euler steps of a small gravitational system; returns its kinetic energy."""
    bodies = _planets()
    pairs = [(a, b) for i, a in enumerate(bodies) for b in bodies[i + 1 :]]
    dt = 0.001
    for _ in range(steps):
        for a, b in pairs:
            dx, dy, dz = a[0] - b[0], a[1] - b[1], a[2] - b[2]
            distance_squared = dx * dx + dy * dy + dz * dz
            scale = dt / (distance_squared * math.sqrt(distance_squared))
            pull_a, pull_b = b[6] * scale, a[6] * scale
            a[3] -= dx * pull_a
            a[4] -= dy * pull_a
            a[5] -= dz * pull_a
            b[3] += dx * pull_b
            b[4] += dy * pull_b
            b[5] += dz * pull_b
        for body in bodies:
            body[0] += dt * body[3]
            body[1] += dt * body[4]
            body[2] += dt * body[5]
    return sum(0.5 * b[6] * (b[3] ** 2 + b[4] ** 2 + b[5] ** 2) for b in bodies)


class Packet:
    __slots__ = ("destination", "payload")

    def __init__(self, destination: int, payload: int) -> None:
        self.destination = destination
        self.payload = payload


class Task:
    """A cooperative task of the scheduler below: it consumes packets and may emit one."""

    __slots__ = ("handled", "ident", "inbox", "total")

    def __init__(self, ident: int) -> None:
        self.ident = ident
        self.inbox: deque[Packet] = deque()
        self.handled = 0
        self.total = 0

    def step(self, task_count: int) -> Packet | None:
        if not self.inbox:
            return None
        packet = self.inbox.popleft()
        self.handled += 1
        self.total = (self.total + packet.payload * 31) & 0xFFFF
        if packet.payload % 7 == 0:
            return None
        return Packet((self.ident * 3 + packet.payload) % task_count, packet.payload - 1)


def richards(rounds: int, task_count: int = 8) -> int:
    """A richards-style operating-system simulation of our own: a round-robin scheduler whose
    tasks pass packets to each other through queues, with method calls and attribute traffic."""
    tasks = [Task(i) for i in range(task_count)]
    for seed in range(task_count * 4):
        tasks[seed % task_count].inbox.append(Packet(seed % task_count, 50 + seed))
    for _ in range(rounds):
        for task in tasks:
            emitted = task.step(task_count)
            if emitted is not None:
                tasks[emitted.destination].inbox.append(emitted)
        if not any(task.inbox for task in tasks):
            for seed in range(task_count):
                tasks[seed].inbox.append(Packet(seed, 99))
    return sum(task.total for task in tasks)


class Vector:
    __slots__ = ("x", "y", "z")

    def __init__(self, seed: float) -> None:
        self.x = math.sin(seed)
        self.y = math.cos(seed) * 3.0
        self.z = self.x * self.x / 2.0

    def normalized(self) -> Vector:
        length = math.sqrt(self.x * self.x + self.y * self.y + self.z * self.z)
        self.x /= length
        self.y /= length
        self.z /= length
        return self

    def widest(self, other: Vector) -> Vector:
        self.x = max(self.x, other.x)
        self.y = max(self.y, other.y)
        self.z = max(self.z, other.z)
        return self


def floats(count: int) -> float:
    """Allocate many small float-holding objects, normalise them, reduce them."""
    vectors = [Vector(float(i)).normalized() for i in range(count)]
    widest = vectors[0]
    for vector in vectors[1:]:
        widest = widest.widest(vector)
    return widest.x + widest.y + widest.z


def json_document() -> dict[str, object]:
    return {
        "release": "3.13.5",
        "cells": [
            {
                "id": f"cell-{i}",
                "features": ["jit", "freethreaded"][: i % 3],
                "seconds": i * 1.25,
                "passed": i % 5 != 0,
                "notes": None if i % 2 else "rebuilt after a cache miss \u2713",
                "checks": {"probe": i, "stdlib": [i, i + 1, i + 2]},
            }
            for i in range(40)
        ],
    }


def json_dumps(document: dict[str, object]) -> int:
    return len(json.dumps(document)) + len(json.dumps(document, indent=2, sort_keys=True))


def json_loads(text: str) -> int:
    return len(json.loads(text)["cells"])


def _numbers(limit: int) -> Iterator[int]:
    yield from range(limit)


def _squares(source: Iterator[int]) -> Iterator[int]:
    for value in source:
        yield value * value


def _odd(source: Iterator[int]) -> Iterator[int]:
    for value in source:
        if value & 1:
            yield value


def generators(limit: int) -> int:
    """A pipeline of chained generators (yield, yield from, resumption)."""
    return sum(_odd(_squares(_numbers(limit))))


def unpack_sequence(rounds: int) -> int:
    """Tuple and list packing/unpacking in a tight loop."""
    total = 0
    row = (1, 2, 3, 4, 5, 6, 7, 8)
    items = [9, 8, 7, 6]
    for _ in range(rounds):
        a, b, c, d, e, f, g, h = row
        w, x, y, z = items
        a, b = b, a
        first, *middle, last = row
        total += a + h + w + z + first + last + len(middle) + c + d + e + f + g + x + y
    return total


# -- concurrency workloads ---------------------------------------------------------------------
#
# Free-threaded CPython counts references per object: the thread that made an object counts it
# without atomics, every other thread with atomic operations on one shared field (biased
# reference counting, Include/internal/pycore_object.h). Immortal objects are never counted.
# A loop that writes the count of one object from every thread therefore serialises on that
# object's cache line, and does not scale however free the threads are. Each workload below is
# the same loop; each differs from ``private`` in one way only, which isolates one cause.

MODULUS_TEXT = "1000003"
SHARED_MODULUS = int(MODULUS_TEXT)
"""A mortal int made once, by the thread that imports this module, and read by every thread."""


def spin(iterations: int) -> int:
    """CPU-bound pure Python that free-threading and subinterpreters can run in parallel and a
    GIL cannot. Immune to reference-count contention wherever it is defined or however it was
    compiled: its constants are small ints (immortal in every build) and its modulus is made by
    the thread that runs the loop, which then counts it without atomics."""
    modulus = int(MODULUS_TEXT)
    value = 0
    for i in range(iterations):
        value = (value * 31 + i) % modulus
    return value


def shared_global(iterations: int) -> int:
    """``spin`` with the modulus read from a module global, one object for all threads: every
    iteration writes its reference count from every thread."""
    value = 0
    for i in range(iterations):
        value = (value * 31 + i) % SHARED_MODULUS
    return value


CONSTANT_LOOP = """
def constant_loop(iterations):
    value = 0
    for i in range(iterations):
        value = (value * 31 + i) % 1_000_003
    return value
"""
"""``spin`` with the modulus as a literal: a constant of the code object, shared by all threads
that run it. Whether it is counted depends on how the code object was made (below)."""


def _defined(code: types.CodeType) -> Callable[[int], int]:
    namespace: dict[str, Any] = {"__name__": __name__}
    exec(code, namespace)
    function: Callable[[int], int] = namespace["constant_loop"]
    return function


def constant_compiled() -> Callable[[int], int]:
    """The loop as built-in ``compile()`` makes it, which is how importlib makes a module from
    its .py when no .pyc is read (a read-only directory, PYTHONDONTWRITEBYTECODE, the first
    import), and runpy too. Free-threaded 3.13 and later intern and immortalize code constants
    except under ``compile()`` (Python/bltinmodule.c builtin_compile_impl), so here the literal
    stays a mortal int that every thread counts."""
    return _defined(compile(CONSTANT_LOOP, "<constant-compiled>", "exec"))


def constant_unmarshalled() -> Callable[[int], int]:
    """The same code object through marshal, as a module comes from its .pyc: unmarshalling
    builds the code object with _PyCode_New, which (free-threaded) immortalizes the literal, as
    compiling a script run as ``__main__`` does."""
    compiled = compile(CONSTANT_LOOP, "<constant-unmarshalled>", "exec")
    return _defined(marshal.loads(marshal.dumps(compiled)))


WORKLOADS: dict[str, Callable[[], Callable[[int], int]]] = {
    "private": lambda: spin,
    "shared-global": lambda: shared_global,
    "constant-compiled": constant_compiled,
    "constant-unmarshalled": constant_unmarshalled,
}
"""The loops the scaling suite runs on 1 and N threads, by name (cpmatrix/bench/causes.py
says which cause each isolates)."""


def is_immortal(obj: object) -> bool:
    """``sys._is_immortal`` (3.14+), else the huge count an immortal object reports."""
    check = getattr(sys, "_is_immortal", None)
    return bool(check(obj)) if check is not None else sys.getrefcount(obj) >= 2**29


def counted_objects(function: Callable[[int], int]) -> dict[str, bool]:
    """Whether the ints the loop reads on every iteration (its large constants and the shared
    global) are immortal, i.e. never counted."""
    code = function.__code__
    found = {
        f"constant {c}": is_immortal(c)
        for c in code.co_consts
        if type(c) is int and not -5 <= c <= 256
    }
    if "SHARED_MODULUS" in code.co_names:
        found["global SHARED_MODULUS"] = is_immortal(SHARED_MODULUS)
    return found
