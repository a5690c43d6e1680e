"""Progress lines: one per cell, rewritten in place on a terminal, plain lines in a CI log, with
an estimate from the last build of the same cell."""

from __future__ import annotations

import io
import json
import os
import select
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest

from cpmatrix.builders import steps
from cpmatrix.util import console


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TextIO, int]]:
    """A real pseudo-terminal: what is written to it can be read back from its master side."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    master, slave = os.openpty()
    stream = os.fdopen(slave, "w", encoding="utf-8")
    try:
        yield stream, master
    finally:
        stream.close()
        os.close(master)


def written(master: int) -> str:
    """Everything the terminal received so far (the tty turns \\n into \\r\\n)."""
    chunks = []
    while select.select([master], [], [], 0.2)[0]:
        chunks.append(os.read(master, 65536))
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_each_cell_keeps_its_own_line_on_a_terminal(terminal: tuple[TextIO, int]) -> None:
    stream, master = terminal
    sink = console.Terminal(stream=stream)
    assert sink.interactive
    sink.progress("a: configure [1.0s]", key="a")
    sink.progress("b: compile [2.0s]", key="b")
    sink.progress("a: compile [3.0s]", key="a")
    assert written(master).endswith("a: compile [3.0s]\nb: compile [2.0s]")
    sink.message("info", "a message")
    assert written(master).endswith("a message\na: compile [3.0s]\nb: compile [2.0s]")
    sink.progress_end("a")
    out = written(master)
    assert out.endswith("\x1b[Kb: compile [2.0s]") and "a: compile" not in out


def test_a_ci_log_gets_plain_lines() -> None:
    stream = io.StringIO()
    sink = console.Terminal(stream=stream)
    sink.progress("a: configure [1.0s]", key="a")
    sink.message("info", "done")
    sink.progress_end("a")
    assert stream.getvalue() == "a: configure [1.0s]\ndone\n"


def test_the_estimate_comes_from_the_last_good_build(tmp_path: Path) -> None:
    record = tmp_path / "build.json"
    phases = {"preflight": 1.0, "configure": 20.0, "compile": 90.0, "install": 9.0}
    record.write_text(json.dumps({"result": "ok", "phases": phases}))
    assert steps.last_build_seconds(record) == 120.0
    log_path = tmp_path / "build.log"
    with (
        console.using(console.Recorder()) as recorder,
        steps.BuildLog(log_path, "c", previous=record) as log,
    ):
        log.begin("configure", "./configure")
    kind, text = recorder.lines[0]
    assert kind == "progress" and text.startswith("c: configure [")
    assert "; last build 2m00s, ~" in text
    assert recorder.lines[-1] == ("progress-end", "c")
    record.write_text(json.dumps({"result": "failed: configure", "phases": phases}))
    assert steps.last_build_seconds(record) is None
    assert steps.last_build_seconds(tmp_path / "none.json") is None


def test_the_note_says_when_a_build_runs_longer_than_last_time() -> None:
    assert steps.progress_note(72.0, None) == "1m12s"
    assert steps.progress_note(72.0, 125.0) == "1m12s; last build 2m05s, ~53.0s left"
    assert steps.progress_note(130.0, 125.0) == "2m10s; last build 2m05s, longer than last time"
