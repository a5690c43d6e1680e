"""Concurrency-scaling suite: the same CPU-bound tasks run serially, then on 1..N workers made of
threads, subinterpreters (``InterpreterPoolExecutor``, 3.14+) and processes.

With a GIL, threads cannot beat serial; free-threading lets them; subinterpreters have one GIL
each. Then each of ``cpmatrix_bench_work.WORKLOADS`` on 1 thread and on N threads: loops that
differ in one way each, so that which of them scales tells why threads scale or not
(cpmatrix/bench/causes.py). Run by the interpreter under test with pyperf on its path.
"""

from __future__ import annotations

import concurrent.futures as futures
import os
import time
from collections.abc import Callable
from typing import Any

import cpmatrix_bench_work as work
import pyperf  # type: ignore[import-not-found,unused-ignore]


def executors() -> dict[str, Callable[[int], futures.Executor]]:
    kinds: dict[str, Callable[[int], futures.Executor]] = {
        "threads": lambda n: futures.ThreadPoolExecutor(max_workers=n),
    }
    interpreters: Any = getattr(futures, "InterpreterPoolExecutor", None)
    if interpreters is not None:
        kinds["interpreters"] = lambda n: interpreters(max_workers=n)
    kinds["processes"] = lambda n: futures.ProcessPoolExecutor(max_workers=n)
    return kinds


def time_serial(loops: int, tasks: int, iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        for _ in range(tasks):
            work.spin(iterations)
    return time.perf_counter() - start


def time_pool(
    loops: int,
    make: Callable[[int], futures.Executor],
    workers: int,
    tasks: int,
    iterations: int,
    function: Callable[[int], int] = work.spin,
) -> float:
    """``tasks`` calls of one function object on a pool of ``workers``."""
    start = time.perf_counter()
    for _ in range(loops):
        with make(workers) as pool:
            list(pool.map(function, [iterations] * tasks))
    return time.perf_counter() - start


def workload_name(workload: str, workers: int) -> str:
    return f"workload-{workload}-threads-{workers}"


def counted(function: Callable[[int], int]) -> str:
    found = work.counted_objects(function)
    return ", ".join(f"{k}: {'immortal' if v else 'counted'}" for k, v in found.items()) or "-"


def add_options(cmd: list[str], args: Any) -> None:
    cmd.extend(("--max-workers", str(args.max_workers), "--tasks", str(args.tasks)))
    cmd.extend(("--iterations", str(args.iterations)))


def main() -> None:
    runner = pyperf.Runner(metadata={"tags": ["scaling"]}, add_cmdline_args=add_options)
    options = runner.argparser
    options.add_argument("--max-workers", type=int, default=os.cpu_count() or 1)
    options.add_argument("--tasks", type=int, default=0, help="default: 2 x max workers")
    options.add_argument("--iterations", type=int, default=300_000, help="work per task")
    args = runner.parse_args()
    tasks = args.tasks or 2 * args.max_workers
    meta = {"scaling_tasks": tasks}
    runner.bench_time_func("scaling-serial", time_serial, tasks, args.iterations, metadata=meta)
    for kind, make in executors().items():
        for workers in range(1, args.max_workers + 1):
            runner.bench_time_func(
                f"scaling-{kind}-{workers}",
                time_pool,
                make,
                workers,
                tasks,
                args.iterations,
                metadata={**meta, "scaling_kind": kind, "scaling_workers": workers},
            )
    threads = executors()["threads"]
    for workload, define in work.WORKLOADS.items():
        function = define()
        for workers in sorted({1, args.max_workers}):
            runner.bench_time_func(
                workload_name(workload, workers),
                time_pool,
                threads,
                workers,
                tasks,
                args.iterations,
                function,
                metadata={
                    **meta,
                    "scaling_workload": workload,
                    "scaling_workers": workers,
                    "scaling_counted": counted(function),
                },
            )


if __name__ == "__main__":
    main()
