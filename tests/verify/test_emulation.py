"""qemu-user through binfmt_misc, read from files: what refuses an emulated proof, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpmatrix.features import arch as fa
from cpmatrix.util.errors import EnvironmentProblem
from cpmatrix.verify import emulation

ENTRY = (
    "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: {flags}\noffset 0\n"
    "magic 7f454c460201010000000000000000000200b700\n"
)


def binfmt(tmp_path: Path, flags: str | None, *, enabled: bool = True) -> Path:
    (tmp_path / "register").write_text("")
    if flags is not None:
        text = ENTRY.format(flags=flags)
        (tmp_path / "qemu-aarch64").write_text(text if enabled else "disabled" + text[7:])
    return tmp_path


def test_registered_with_fix_binary_is_enough(tmp_path: Path) -> None:
    assert emulation.entry_problem(fa.AARCH64, binfmt(tmp_path, "PF")) is None


@pytest.mark.parametrize(
    ("flags", "enabled", "words"),
    [
        (None, True, "no qemu-aarch64 entry"),
        ("P", True, "lacks the F (fix-binary) flag"),
        ("PF", False, "is disabled"),
    ],
)
def test_what_refuses(tmp_path: Path, flags: str | None, enabled: bool, words: str) -> None:
    problem = emulation.entry_problem(fa.AARCH64, binfmt(tmp_path, flags, enabled=enabled))
    assert problem is not None and words in problem


def test_unmounted_binfmt_misc_is_refused_not_waited_for(tmp_path: Path) -> None:
    problem = emulation.entry_problem(fa.AARCH64, tmp_path / "nothing")
    assert problem is not None and "not mounted" in problem


def test_require_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emulation.platform, "machine", lambda: "x86_64")
    with pytest.raises(EnvironmentProblem, match="cannot prove aarch64 artifacts here") as raised:
        emulation.require("aarch64", binfmt=tmp_path / "nothing")
    assert "scripts/setup.sh" in raised.value.render()


def test_qemu_version_and_the_manifest_words() -> None:
    text = "qemu-aarch64 version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright"
    assert emulation.qemu_version(text) == "7.2"
    assert emulation.Emulation(arch="aarch64", qemu_version="7.2").words == (
        "emulated (qemu-user 7.2)"
    )
