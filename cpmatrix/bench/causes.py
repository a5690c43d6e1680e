"""Why threads scale or not: each cause, the workload that isolates it, and the verdict per
column, derived from the scaling suite's measurements (pure functions, no interpreter runs).

Every workload is the same loop (cpmatrix/bench/programs/cpmatrix_bench_work.py); a cause's
workload differs from its control in the one way that brings the cause in. The speed-up of a
workload is its time on 1 worker thread over its time on N: so the thread that owns an object
(biased reference counting counts it without atomics) is never part of the comparison, and
only what N threads do to each other is measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

SCALES_FRACTION = 0.75
"""A workload scales when N threads finish at least this share of N times faster (1.5x on 2)."""
HOLDS_FRACTION = 0.8
"""A cause holds when its workload's speed-up is below this share of its control's."""
WORKLOAD_PREFIX = "workload-"


class Verdict(StrEnum):
    HOLDS = "holds"
    ABSENT = "does not hold"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True, kw_only=True)
class Cause:
    name: str
    workload: str
    """The workload that brings this cause in."""
    control: str | None
    """The same loop without it; None: the same work in N processes (the suite's own
    ``processes-N``)."""
    what: str
    source: str
    """Where CPython decides it."""


GIL = Cause(
    name="GIL",
    workload="private",
    control=None,
    what="one thread runs Python at a time: the private loop, which shares nothing, does not "
    "scale on threads while the same work scales on processes",
    source="Python/ceval_gil.c take_gil (3.13, 3.14); free-threaded builds (--disable-gil) "
    "have none, PYTHON_GIL=1 brings it back",
)
SHARED_REFCOUNT = Cause(
    name="shared reference count",
    workload="shared-global",
    control="private",
    what="every thread writes the reference count of one mortal object (a module global read "
    "in the loop): threads that do not own it count it with atomic operations on one shared "
    "field, so they take turns on its cache line",
    source="Include/object.h Py_INCREF/Py_DECREF (3.13; Include/refcount.h in 3.14): the "
    "owning thread counts in ob_ref_local, any other with an atomic add on ob_ref_shared "
    "(Objects/object.c _Py_DecRefShared), immortal objects are skipped; Python/bytecodes.c "
    "_LOAD_GLOBAL returns a new reference (_PyDict_LoadGlobal in 3.13, unspecialized in the "
    "free-threaded build: Include/internal/pycore_code.h ENABLE_SPECIALIZATION 0); the main "
    "branch specializes it and still takes a reference (_LOAD_GLOBAL_MODULE, "
    "_Py_TryIncrefCompareStackRef)",
)
COMPILED_CONSTANTS = Cause(
    name="mortal constants of compile()d code",
    workload="constant-compiled",
    control="constant-unmarshalled",
    what="the loop's literal 1_000_003 is immortal when its code object comes from a .pyc "
    "(marshal) or from compiling a script run as __main__, but a counted object when built-in "
    "compile() made it, which is how importlib makes a module from its .py when no .pyc is "
    "read (read-only directory, PYTHONDONTWRITEBYTECODE, first import): then every LOAD_CONST "
    "writes its count from every thread",
    source="Objects/codeobject.c intern_constants/intern_one_constant immortalize constants of "
    "free-threaded code objects unless gc.immortalize < 0 (3.13.5) or "
    "tstate->suppress_co_const_immortalization (3.14), which Python/bltinmodule.c "
    "builtin_compile_impl sets around compile(); Lib/importlib/_bootstrap_external.py "
    "source_to_code calls compile(); Python/bytecodes.c LOAD_CONST increfs (3.13; "
    "LOAD_CONST_MORTAL in 3.14.10, while 3.15.2 has no LOAD_CONST specialization: it borrows "
    "constants and writes no count)",
)
CAUSES = (GIL, SHARED_REFCOUNT, COMPILED_CONSTANTS)
WORKLOAD_NAMES = ("private", "shared-global", "constant-compiled", "constant-unmarshalled")
"""What cpmatrix_bench_work.WORKLOADS holds (a test keeps them equal)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    cause: Cause
    verdict: Verdict
    speedup: float | None
    control_speedup: float | None
    why: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Scaling:
    """One column's measurements: each workload's 1-thread over N-thread time, and the same
    work in N processes over serial (how much parallelism the machine offered)."""

    workers: int
    workloads: Mapping[str, float]
    processes: float | None
    counted: Mapping[str, str]
    """Per workload, what the interpreter said of the objects its loop reads every iteration
    (``constant 1000003: counted`` or ``immortal``)."""
    gil_enabled: bool | None = None
    """What the interpreter said (``sys._is_gil_enabled()``), if it was asked."""


def scales(speedup: float, workers: int) -> bool:
    return speedup >= SCALES_FRACTION * workers


def judge(cause: Cause, measured: Scaling) -> Finding:
    n = measured.workers
    speedup = measured.workloads.get(cause.workload)
    control = measured.processes if cause.control is None else measured.workloads.get(cause.control)
    control_name = f"{n} processes" if cause.control is None else cause.control

    def finding(verdict: Verdict, why: str) -> Finding:
        return Finding(
            cause=cause, verdict=verdict, speedup=speedup, control_speedup=control, why=why
        )

    if speedup is None or control is None:
        missing = cause.workload if speedup is None else control_name
        return finding(Verdict.INCONCLUSIVE, f"{missing} was not measured")
    pair = f"{cause.workload} {speedup:.2f}x, {control_name} {control:.2f}x on {n} workers"
    if cause.control is None:
        if scales(speedup, n):
            return finding(Verdict.ABSENT, f"{pair}: threads ran in parallel")
        if scales(control, n):
            return finding(Verdict.HOLDS, f"{pair}: processes scaled, threads did not")
        busy = "the machine was too busy to show parallelism"
        if measured.gil_enabled:
            return finding(Verdict.HOLDS, f"{pair}: {busy}, and the interpreter says its GIL is on")
        return finding(Verdict.INCONCLUSIVE, f"{pair}: {busy}")
    if not scales(control, n):
        return finding(
            Verdict.INCONCLUSIVE, f"{pair}: the control did not scale, so neither can tell"
        )
    if speedup < HOLDS_FRACTION * control:
        return finding(Verdict.HOLDS, f"{pair}: only the control scaled")
    return finding(Verdict.ABSENT, f"{pair}: both scaled")


def attribute(measured: Scaling) -> tuple[Finding, ...]:
    return tuple(judge(cause, measured) for cause in CAUSES)


def from_means(
    means: Mapping[str, float], counted: Mapping[str, str] | None = None
) -> Scaling | None:
    """A column's Scaling from its scaling benchmarks' mean times by name: each workload's
    ``workload-<name>-threads-1`` over ``-threads-<N>`` for the largest N measured, and
    ``scaling-serial`` over ``scaling-processes-<N>``."""
    workers = max(
        (int(key.rsplit("-", 1)[1]) for key in means if key.startswith(WORKLOAD_PREFIX)),
        default=0,
    )
    if workers < 2:
        return None
    workloads = {}
    for name in WORKLOAD_NAMES:
        one = means.get(f"{WORKLOAD_PREFIX}{name}-threads-1")
        many = means.get(f"{WORKLOAD_PREFIX}{name}-threads-{workers}")
        if one is not None and many is not None:
            workloads[name] = one / many
    serial, processes = means.get("scaling-serial"), means.get(f"scaling-processes-{workers}")
    capacity = serial / processes if serial is not None and processes is not None else None
    return Scaling(
        workers=workers, workloads=workloads, processes=capacity, counted=dict(counted or {})
    )
