"""SIGTERM (a CI cancel, ``kill``) handled like Ctrl-C: every ``finally`` runs, containers are
removed, cells marked incomplete, a publication in dist/ discarded. And SIGINT at its default in
the interpreters we start, whatever we inherited."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def sigint_default_in_children() -> Iterator[None]:
    """Children started within the block get SIGINT at its default disposition.

    A job started with ``&`` from a non-interactive shell (a CI script, ``nohup … &``) has
    SIGINT ignored, every child inherits that, and CPython keeps an ignored SIGINT ignored:
    ``_thread.interrupt_main()`` then does nothing, so test_threading's interrupt tests fail
    and ``test_print_exception_gh_102056`` recurses forever (both seen on 2026-12-02). exec()
    resets a caught signal to its default but keeps an ignored one ignored, so catching it
    here for the moment of the fork is enough."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
    ):
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
