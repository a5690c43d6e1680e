"""User-facing errors: what was wrong, where, and what to do. Each kind has its own exit code.

Library code raises these; only ``tasks.py`` turns them into a message and an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a file, 1-based, as editors and CI annotations expect."""

    path: Path
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path.name}:{self.line}:{self.column}"


class CpmatrixError(Exception):
    """Base of every error a user can act on."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return self.message if self.hint is None else f"{self.message}\n  hint: {self.hint}"


class ConfigError(CpmatrixError):
    """matrix.yaml is malformed or inconsistent."""

    exit_code = 2

    def __init__(
        self, message: str, *, location: Location | None = None, hint: str | None = None
    ) -> None:
        prefix = f"{location}: " if location is not None else ""
        super().__init__(prefix + message, hint=hint)
        self.location = location


class UsageError(CpmatrixError):
    """A command-line value is unknown or a request cannot be satisfied."""

    exit_code = 2


class ImpossibleCellError(UsageError):
    """An explicitly requested cell cannot be built; says why before any work starts."""


class EnvironmentProblem(CpmatrixError):
    """Something the machine must provide is missing (Docker engine, a compiler, LLVM)."""

    exit_code = 3


class SourceError(CpmatrixError):
    """CPython's source could not be obtained or proven to be the published one."""

    exit_code = 4


class BuildFailed(CpmatrixError):
    """configure, make or install failed; the log is kept."""

    exit_code = 5


class VerificationFailed(CpmatrixError):
    """A built interpreter is not what its cell claims."""

    exit_code = 6


class ArtifactError(CpmatrixError):
    """An artifact cannot be made, is missing, or does not match its recorded sha256."""

    exit_code = 7


class BenchmarkFailed(CpmatrixError):
    """A benchmark program failed or timed out in an interpreter under test; its log is kept."""

    exit_code = 8


class Interrupted(CpmatrixError):
    """Ctrl-C; partial outputs were marked incomplete."""

    exit_code = 130


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    """A hint naming the closest valid choice, and every valid choice."""
    import difflib

    ordered = sorted(choices)
    close = difflib.get_close_matches(word, ordered, n=1)
    listing = ", ".join(ordered)
    if close:
        return f"did you mean {close[0]!r}? valid: {listing}"
    return f"valid: {listing}"
