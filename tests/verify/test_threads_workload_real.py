"""The workload behind the threads speed the report shows (information beside the witness):
on a real free-threaded 3.13.5 it reads no counted constant whether it runs in ``__main__`` (as
the probe runs it) or imported from a module that importlib compiles from source. The workload
it replaced (a ``% 1_000_003`` literal) reads a counted constant when imported so, the cause of
its 0.79-0.86x; how much that costs depends on the machine, so its speed is the scaling bench's
business (workload ``constant-compiled``) and this test proves the cause, which does not vary."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cpmatrix.bench.places import PROGRAMS
from cpmatrix.matrix import layout
from cpmatrix.verify import behaviour
from cpmatrix.verify.runner import Place, local_target, open_place

FORMER_WORK = """
def _work(n):
    x = 0
    for i in range(n):
        x = (x + i * i) % 1_000_003
    return x
"""
"""The verifier's workload before it was made immune: the literal is a counted object when
built-in compile() made the code object."""

IMPORTED = """
import json, sys
sys.path.insert(0, sys.argv[1])
import behaviour, cpmatrix_bench_work
work = __import__(sys.argv[2])._work if sys.argv[2] != "-" else behaviour._work
found = behaviour.threads(2) if sys.argv[3] == "time" else {}
print(json.dumps({**found, "immortal": cpmatrix_bench_work.counted_objects(work)}))
"""
"""Imports behaviour.py (and optionally a replacement workload) from source: -B and a scratch
directory without __pycache__ mean importlib compiles each with built-in compile(). Reports
whether each large int constant the workload reads per iteration is immortal (the scaling
bench's ``counted_objects``), and times ``behaviour.threads`` when asked."""


BENCH_WORK = PROGRAMS / "cpmatrix_bench_work.py"


def last_json(output: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return found


def threads_in(place: Place, interpreter: str, how: str) -> dict[str, Any]:
    script = place.put("behaviour.py", behaviour.source().encode())
    if how == "__main__":
        argv = [interpreter, "-I", script, "threads", "2"]
    else:
        place.put("former.py", FORMER_WORK.encode())
        place.put(BENCH_WORK.name, BENCH_WORK.read_bytes())
        driver = place.put("imported.py", IMPORTED.encode())
        former = how == "former, imported"
        module, timed = ("former", "-") if former else ("-", "time")
        argv = [interpreter, "-I", "-B", driver, place.scratch, module, timed]
    done = place.run(argv, timeout=600)
    assert done.ok, done.output[-2000:]
    return last_json(done.output)


@pytest.mark.docker
@pytest.mark.slow
def test_the_threads_workload_reads_no_counted_constant_and_the_witness_holds_imported(
    freethreaded_cell: Any,
) -> None:
    cell, paths = freethreaded_cell.cell, freethreaded_cell.paths
    exe = paths.install / layout.interpreter_in_tree(
        cell.version, cell.features, cell.profile, cell.platform.os
    )
    with open_place(local_target(exe, description=cell.id)) as place:
        found = {
            how: threads_in(place, str(exe), how)
            for how in ("__main__", "imported", "former, imported")
        }
    assert found["former, imported"]["immortal"] == {"constant 1000003": False}
    assert found["imported"]["immortal"] == {}
    for how in ("__main__", "imported"):
        assert found[how]["witness"]["outcome"] == "parallel", (how, found[how])
