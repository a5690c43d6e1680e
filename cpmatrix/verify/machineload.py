"""How busy this machine is, in words for a verdict that a wall-clock limit decided."""

from __future__ import annotations

import os


def load_average() -> float | None:
    getloadavg = getattr(os, "getloadavg", None)
    return float(getloadavg()[0]) if getloadavg else None


def cores() -> int:
    counter = getattr(os, "process_cpu_count", None) or os.cpu_count
    return int(counter() or 1)


def saturated() -> bool:
    """More runnable work than cores over the last minute (never on a system without a load
    average)."""
    load = load_average()
    return load is not None and load > cores()


def load_words() -> str:
    load = load_average()
    shown = "unknown" if load is None else f"{load:.1f}"
    return f"load {shown} on {cores()} cores"
