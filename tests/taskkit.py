"""Running real `invoke` processes from the project root, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys

from cpmatrix.matrix.layout import PROJECT_ROOT


def invoke(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )
