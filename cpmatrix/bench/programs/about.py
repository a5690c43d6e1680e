"""What this interpreter is and which run-time switches are in effect; writes JSON to argv[1].

Stdlib only; runs inside the interpreter under test with the column's environment. The JIT and
GIL are detected by the verify probe's own code: the runner ships this program as one file with
that code copied in (:func:`cpmatrix.verify.shipping.self_contained`), not from the mounted
programs directory.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import sys
import sysconfig
from typing import Any

from cpmatrix.verify.probe import ABSENT, _invoke, optimizer_313


def jit_state() -> dict[str, Any]:
    """The JIT as the verify probe reads it: ``sys._jit`` (3.14+), else 3.13's optimizer, which
    exists only in builds with the tier-2 optimizer (the JIT); None where it cannot be told."""
    available = _invoke(sys, "_jit.is_available")
    if available != ABSENT:
        return {"available": available, "enabled": _invoke(sys, "_jit.is_enabled")}
    optimizer = optimizer_313()
    if optimizer == ABSENT:
        return {"available": False, "enabled": False}
    if isinstance(optimizer, str) and optimizer.startswith("error"):
        return {"available": None, "enabled": None}
    return {"available": True, "enabled": optimizer is not None}


def main(output: str) -> None:
    gil = _invoke(sys, "_is_gil_enabled")  # before any extension loads
    gil_enabled = True if gil == ABSENT else bool(gil)
    record = {
        "version": platform.python_version(),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "build": " ".join(platform.python_build()),
        "compiler": platform.python_compiler(),
        "abiflags": getattr(sys, "abiflags", ""),
        "config_args": sysconfig.get_config_var("CONFIG_ARGS") or "",
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": gil_enabled,
        "jit": jit_state(),
        "gc_threshold": list(gc.get_threshold()),
        "cpu_count": os.cpu_count(),
        "switches": {k: v for k, v in os.environ.items() if k.startswith("PYTHON")},
    }
    with open(output, "w", encoding="utf-8") as stream:  # noqa: PTH123 (runs on any 3.x)
        json.dump(record, stream, indent=2)


if __name__ == "__main__":
    main(sys.argv[1])
