"""Named points where the crash tests stop cpmatrix the hard way.

``CPMATRIX_FAULT=<point>`` makes the process SIGKILL itself when it reaches that point, as a
power cut or the OOM killer would: no ``finally`` runs. ``<point>:sigterm`` sends SIGTERM
instead, as a CI cancel does. Unset, a point costs an environment lookup. ``reached`` lists
the points passed, in order, which is how a test learns them.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "CPMATRIX_FAULT"

reached: list[str] = []


def point(name: str) -> None:
    reached.append(name)
    wanted = os.environ.get(VARIABLE)
    if wanted == name:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
    elif wanted == f"{name}:sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
