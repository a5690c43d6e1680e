"""Garbage-collector pauses: every collection's duration, from ``gc.callbacks``' ``start`` to its
``stop``, on a workload whose cyclic garbage only the cycle collector can free.

usage: gcpauses.py OUTPUT RUNS    (or ``gcpauses.py --once``: one run's record on stdout)

Each run is a fresh interpreter (``gcpauses.py --once``), so runs are independent samples;
their records are appended to OUTPUT (a JSON list), which the host turns into statistics.
Stdlib only; 3.13+.

Why the workload is shaped so:

- **A large old heap.** ``OLD_ENTRIES`` long-lived objects (two tracked containers each) are
  built first and stay reachable: they end in the oldest generation, so a full (or, on an
  incremental collector, an old-space) collection must traverse them. "Maximum pause times are
  reduced by an order of magnitude or more for larger heaps" is a claim about exactly this: a
  small heap has short full collections whatever the collector does.
- **Garbage that is cyclic.** Every object the churn drops is in a reference cycle (two nodes
  pointing at each other, a dict pointing back), so reference counting never frees it; only the
  cycle collector does, and the run records how many objects the collector found unreachable
  (``collected``), which proves it.
- **Young and old garbage.** Each round makes a self-cycle that dies at once (freed by a young
  collection) and a cycle that stays alive for ``KEEP_ROUNDS`` rounds, long enough to survive
  many young collections and be promoted, so it dies old: a generational collector frees it only
  in a full collection, an incremental one in its increments.
- **Allocation-heavy.** Eight tracked containers allocated per round (three nodes and their
  lists, a list and a dict), ``ROUNDS`` rounds: with the default young threshold (2000) about a
  thousand young collections and a handful of full ones per run.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections import deque
from typing import Any

OLD_ENTRIES = 400_000
ROUNDS = 300_000
KEEP_ROUNDS = 20_000


class Node:
    __slots__ = ("children", "peer", "value")

    def __init__(self, value: int) -> None:
        self.value = value
        self.peer: Node | None = None
        self.children: list[Any] = []


def old_heap(entries: int) -> list[Node]:
    heap = []
    for i in range(entries):
        node = Node(i)
        node.children.append(i)
        heap.append(node)
    return heap


def churn(rounds: int, keep_rounds: int) -> int:
    kept: deque[Node] = deque(maxlen=keep_rounds)
    checksum = 0
    for i in range(rounds):
        short = Node(i)
        short.peer = short
        left, right = Node(i), Node(i + 1)
        left.peer, right.peer = right, left
        left.children = [right, {"owner": left}]
        kept.append(left)
        checksum += short.value & 1
    return checksum + len(kept)


def run_once() -> dict[str, Any]:
    heap = old_heap(OLD_ENTRIES)
    gc.collect()
    pauses: list[int] = []
    collected = [0]
    started = [0]

    def record(phase: str, info: dict[str, int]) -> None:
        now = time.perf_counter_ns()
        if phase == "start":
            started[0] = now
        else:
            pauses.append(now - started[0])
            collected[0] += info.get("collected", 0)

    gc.callbacks.append(record)
    begin = time.perf_counter_ns()
    churn(ROUNDS, KEEP_ROUNDS)
    wall = time.perf_counter_ns() - begin
    gc.callbacks.remove(record)
    return {
        "pauses_ns": pauses,
        "wall_ns": wall,
        "collected": collected[0],
        "old_heap_objects": 2 * len(heap),
        "threshold": list(gc.get_threshold()),
    }


def main(argv: list[str]) -> None:
    output, runs = argv[0], int(argv[1])
    records: list[Any] = []
    if os.path.exists(output):  # noqa: PTH110 (runs on any 3.x, like pyperf --append)
        with open(output, encoding="utf-8") as stream:  # noqa: PTH123
            records = json.load(stream)
    for _ in range(runs):
        completed = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--once"],  # noqa: PTH100
            capture_output=True,
            text=True,
            check=True,
        )
        records.append(json.loads(completed.stdout))
    with open(output, "w", encoding="utf-8") as stream:  # noqa: PTH123
        json.dump(records, stream)


if __name__ == "__main__":
    if sys.argv[1:] == ["--once"]:
        json.dump(run_once(), sys.stdout)
    else:
        main(sys.argv[1:])
