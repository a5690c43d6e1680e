"""`invoke build` and `invoke image` as a user runs them: options, refusals, a missing engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cpmatrix.matrix.layout import PROJECT_ROOT


def invoke(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


def test_no_engine_is_one_clear_message_with_native_hint(tmp_path: Path) -> None:
    done = invoke(
        "build",
        "--python=3.13",
        env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock", "CPMATRIX_BUILD_DIR": str(tmp_path)},
    )
    assert done.returncode == 3
    assert "error: no Docker engine answers" in done.stderr
    assert "--builder=native" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_builder_and_wrong_builder_for_platform() -> None:
    unknown = invoke("build", "--builder=dokcer")
    assert unknown.returncode == 2
    assert "did you mean 'docker'" in unknown.stderr
    wrong = invoke("build", "--platform=windows-x64", "--builder=docker")
    assert wrong.returncode == 2
    assert "--builder=docker cannot build windows-x64 cells" in wrong.stderr


def test_help_documents_every_option() -> None:
    done = invoke("build", "--help")
    for option in ("--variant", "--python", "--platform", "--profile", "--builder", "--jobs",
                   "--all", "--verbose", "--no-verify", "--source", "--force"):  # fmt: skip
        assert option in done.stdout
    assert "--bootstrap" in invoke("image", "--help").stdout
