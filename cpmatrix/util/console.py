"""How the core reports: a sink held in a ContextVar, so library code never prints.

The default sink writes readable lines to stderr: phases with elapsed times, progress lines that
rewrite themselves on a terminal (one per key, e.g. one per cell building at once; plain lines
in a CI log), GitHub Actions ``::group::`` folding and ``::error::`` annotations under Actions.
Tests install a :class:`Recorder`.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, TextIO

Level = Literal["info", "warn", "error", "detail"]


class Sink(Protocol):
    def message(self, level: Level, text: str) -> None: ...

    def progress(self, text: str, key: str | None = None) -> None:
        """A transient status line (phase, elapsed time); replaced by the next one with the
        same key. Keyed lines stay (one per key) until :meth:`progress_end`."""

    def progress_end(self, key: str) -> None:
        """The keyed progress line is finished: remove it."""

    def group_start(self, title: str) -> None: ...

    def group_end(self) -> None: ...


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


@dataclass
class Terminal:
    """Lines for a person and for a CI log alike."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    verbose: bool = False
    _board: dict[str, str] = field(default_factory=dict)
    """The progress lines at the bottom of a terminal, by key ("" for the unkeyed one)."""
    _drawn: int = 0
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def interactive(self) -> bool:
        return self.stream.isatty() and not in_github_actions()

    def _clear_progress(self) -> None:
        if self._drawn:
            self.stream.write("\r\033[K" + "\033[1A\033[K" * (self._drawn - 1))
            self._drawn = 0

    def _draw(self) -> None:
        width = max(20, shutil.get_terminal_size().columns - 1)
        lines = [text[:width] for text in self._board.values()]
        if lines:
            self.stream.write("\n".join(lines))
        self._drawn = len(lines)

    def _above_progress(self, text: str) -> None:
        """Write lines above the progress board; the unkeyed line goes, keyed ones stay."""
        with self._lock:
            self._clear_progress()
            self._board.pop("", None)
            self.stream.write(text)
            if self.interactive:
                self._draw()
            self.stream.flush()

    def message(self, level: Level, text: str) -> None:
        if level == "detail" and not self.verbose:
            return
        annotation = ""
        if level == "error" and in_github_actions():
            first, _, _ = text.partition("\n")
            annotation = f"::error::{first}\n"
        prefix = {"info": "", "detail": "  ", "warn": "warning: ", "error": "error: "}[level]
        self._above_progress(f"{annotation}{prefix}{text}\n")

    def progress(self, text: str, key: str | None = None) -> None:
        with self._lock:
            if self.interactive:
                self._clear_progress()
                self._board[key or ""] = text
                self._draw()
            else:
                self.stream.write(f"{text}\n")
            self.stream.flush()

    def progress_end(self, key: str) -> None:
        with self._lock:
            if key in self._board:
                self._clear_progress()
                del self._board[key]
                self._draw()
                self.stream.flush()

    def group_start(self, title: str) -> None:
        self._above_progress(f"::group::{title}\n" if in_github_actions() else f"== {title}\n")

    def group_end(self) -> None:
        if in_github_actions():
            self._above_progress("::endgroup::\n")


@dataclass
class Recorder:
    """A sink that keeps what it was told; for tests."""

    lines: list[tuple[str, str]] = field(default_factory=list)

    def message(self, level: Level, text: str) -> None:
        self.lines.append((level, text))

    def progress(self, text: str, key: str | None = None) -> None:
        self.lines.append(("progress", text))

    def progress_end(self, key: str) -> None:
        self.lines.append(("progress-end", key))

    def group_start(self, title: str) -> None:
        self.lines.append(("group", title))

    def group_end(self) -> None:
        self.lines.append(("endgroup", ""))

    def text(self) -> str:
        return "\n".join(text for _, text in self.lines)


_sink: ContextVar[Sink] = ContextVar("cpmatrix_sink")


def sink() -> Sink:
    try:
        return _sink.get()
    except LookupError:
        default = Terminal()
        _sink.set(default)
        return default


@contextmanager
def using(new: Sink) -> Iterator[Sink]:
    token = _sink.set(new)
    try:
        yield new
    finally:
        _sink.reset(token)


def info(text: str) -> None:
    sink().message("info", text)


def detail(text: str) -> None:
    sink().message("detail", text)


def warn(text: str) -> None:
    sink().message("warn", text)


def error(text: str) -> None:
    sink().message("error", text)


def progress(text: str, key: str | None = None) -> None:
    sink().progress(text, key)


def progress_end(key: str) -> None:
    sink().progress_end(key)


def interactive() -> bool:
    """Progress lines rewrite themselves in place (a terminal, not a CI log)."""
    current = sink()
    return isinstance(current, Terminal) and current.interactive


@contextmanager
def group(title: str) -> Iterator[None]:
    target = sink()
    target.group_start(title)
    try:
        yield
    finally:
        target.group_end()


def elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.monotonic()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.start


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table that reads the same in a terminal and a CI log."""
    widths = [len(h) for h in headers]
    for row in rows:
        for index, value in enumerate(row):
            widths[index] = max(widths[index], len(value))
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines.extend(
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )
    return "\n".join(lines)


_MARKDOWN = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "\n": " ", "\r": " "}
)


def markdown_escape(text: str) -> str:
    """Text (a column, benchmark or file name) as Markdown shows it: no HTML, no table breaks."""
    return text.translate(_MARKDOWN)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub table; every cell is escaped (:func:`markdown_escape`), so a name cannot add
    HTML or columns."""
    lines = [
        "| " + " | ".join(map(markdown_escape, headers)) + " |",
        "|" + "---|" * len(headers),
    ]
    lines.extend("| " + " | ".join(map(markdown_escape, row)) + " |" for row in rows)
    return "\n".join(lines)


def write_step_summary(markdown: str) -> None:
    """Append to GitHub's job summary when running under Actions."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with Path(path).open("a", encoding="utf-8") as summary:
            summary.write(markdown + "\n")
    except OSError as error:
        warn(
            f"cannot append to GITHUB_STEP_SUMMARY={path[:200]!r} ({error.strerror or error}); "
            f"the summary follows here instead:\n{markdown}"
        )
