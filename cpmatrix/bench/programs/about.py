"""What this interpreter is and which run-time switches are in effect; writes JSON to argv[1].

Stdlib only; runs inside the interpreter under test with the column's environment.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import sys
import sysconfig
from typing import Any


def jit_state() -> dict[str, Any]:
    jit: Any = getattr(sys, "_jit", None)
    if jit is not None:
        return {"available": jit.is_available(), "enabled": jit.is_enabled()}
    try:
        import _testinternalcapi  # type: ignore[import-not-found]  # 3.13 has no sys._jit
    except ImportError:
        return {"available": None, "enabled": None}
    getter = getattr(_testinternalcapi, "get_optimizer", None)
    if getter is None:  # 3.13 has it only in builds with the tier-2 optimizer (the JIT)
        return {"available": False, "enabled": False}
    return {"available": True, "enabled": getter() is not None}


def main(output: str) -> None:
    gil_check: Any = getattr(sys, "_is_gil_enabled", None)
    gil_enabled = True if gil_check is None else bool(gil_check())  # before any extension loads
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
