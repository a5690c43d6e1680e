"""Named points where the crash tests stop cpmatrix the hard way.

``CPMATRIX_FAULT=<point>`` makes the process SIGKILL itself when it reaches that point, as a
power cut or the OOM killer would: no ``finally`` runs. Unset, a point costs an environment
lookup. ``reached`` lists the points passed, in order, which is how a test learns them.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "CPMATRIX_FAULT"

reached: list[str] = []


def point(name: str) -> None:
    reached.append(name)
    if os.environ.get(VARIABLE) == name:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
