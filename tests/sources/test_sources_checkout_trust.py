"""A checkout's git config must not run commands as the user running cpmatrix.

``core.fsmonitor`` names a command ``git status`` runs. With ``-c safe.directory=<root>`` the
old code switched off git's ownership check, and a checkout owned by another uid ran its
command as root during ``invoke source --source DIR``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sourcekit import small_release

from cpmatrix.sources import prepare
from cpmatrix.util.errors import SourceError

STRANGER = 12345


def checkout_with_fsmonitor(root: Path, marker: Path) -> Path:
    """A small CPython-shaped git checkout whose config runs a command that leaves ``marker``."""
    for name, text in {
        "configure": "#!/bin/sh\n",
        "Include/patchlevel.h": '#define PY_VERSION "3.13.99+"\n',
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "x")
    git("config", "core.fsmonitor", f"touch {marker}; false")
    (root / "configure").write_text("#!/bin/sh\n# edited, so status has work to do\n")
    return root


RELEASE = small_release("https://example.invalid/x.tar.xz", b"unused")


def test_fsmonitor_of_an_owned_checkout_does_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "fsmonitor-ran"
    checkout = checkout_with_fsmonitor(tmp_path / "cpython", marker)
    tree = prepare(RELEASE, source=str(checkout))
    assert tree.git_dirty is True and tree.git_commit
    assert not marker.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
def test_a_checkout_owned_by_another_uid_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "fsmonitor-ran"
    checkout = checkout_with_fsmonitor(tmp_path / "cpython", marker)
    subprocess.run(["chown", "-R", f"{STRANGER}:{STRANGER}", str(checkout)], check=True)
    with pytest.raises(SourceError) as refused:
        prepare(RELEASE, source=str(checkout))
    assert f"owned by uid {STRANGER}, not by you" in refused.value.message
    assert refused.value.hint and "git clone" in refused.value.hint
    assert not marker.exists()
