"""The verifier's threads workload on a real free-threaded 3.13.5: it scales whether it runs in
``__main__`` (as the probe runs it) or imported from a module that importlib compiles from
source, where the workload it replaced (a ``% 1_000_003`` literal) does not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cpmatrix import layout
from cpmatrix.verify import behaviour
from cpmatrix.verify.checks import CAPACITY_MIN, threads_check
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
import behaviour
if sys.argv[2] != "-":
    behaviour._work = __import__(sys.argv[2])._work
print(json.dumps(behaviour.threads(2)))
"""
"""Imports behaviour.py (and optionally a replacement workload) from source: -B and a scratch
directory without __pycache__ mean importlib compiles each with built-in compile()."""


def last_json(output: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return found


def threads_in(place: Place, interpreter: str, how: str) -> dict[str, Any]:
    script = place.put("behaviour.py", behaviour.source().encode())
    if how == "__main__":
        argv = [interpreter, "-I", script, "threads", "2"]
    else:
        place.put("former.py", FORMER_WORK.encode())
        driver = place.put("imported.py", IMPORTED.encode())
        module = "former" if how == "former, imported" else "-"
        argv = [interpreter, "-I", "-B", driver, place.scratch, module]
    done = place.run(argv, timeout=600)
    assert done.ok, done.output[-2000:]
    return last_json(done.output)


@pytest.mark.docker
@pytest.mark.slow
def test_the_threads_workload_scales_in_main_and_imported_the_former_one_only_in_main(
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
    if any(f["capacity"] < CAPACITY_MIN for f in found.values()):
        pytest.skip(f"the machine is too busy to show parallelism: {found}")
    checks = {how: threads_check(f, True) for how, f in found.items()}
    assert checks["__main__"].status == "pass", checks["__main__"]
    assert checks["imported"].status == "pass", checks["imported"]
    assert checks["former, imported"].status == "fail", checks["former, imported"]
