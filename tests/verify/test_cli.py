"""invoke verify's options: what each combination asks for, and the errors a user can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpmatrix.features import Feature, Version
from cpmatrix.matrix import matrixfile
from cpmatrix.util.errors import UsageError
from cpmatrix.verify import cli

OPTIONS = {
    "python": "",
    "variant": "",
    "platform": "",
    "profile": "",
    "interpreter": "",
    "expect": "",
    "image": "",
    "where": "auto",
}


def ask(**given: str) -> cli.Request:
    return cli.request(matrixfile.load(), **{**OPTIONS, **given})


def test_an_image_interpreter_is_verified_where_it_lives_against_the_features_given() -> None:
    asked = ask(image="debian:sid", interpreter="/usr/bin/python3.14", expect="jit-off")
    assert asked.target.image == "debian:sid"
    assert asked.target.interpreter == "/usr/bin/python3.14"
    assert "SYS_PTRACE" in asked.target.cap_add
    assert asked.expect.features == frozenset({Feature.JIT_OFF})
    assert asked.expect.python is None


def test_expect_takes_plus_joined_features_and_python_a_series() -> None:
    asked = ask(image="x", interpreter="/py", expect="tailcall+freethreaded", python="3.14")
    assert asked.expect.features == frozenset({Feature.TAILCALL, Feature.FREETHREADED})
    assert asked.expect.python == Version(3, 14)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"interpreter": "/py", "image": "x"}, "--interpreter needs --expect"),
        ({"image": "x"}, "--image and --expect go with --interpreter"),
        ({"interpreter": "/py", "variant": "jit", "expect": "jit"}, "either --variant"),
        ({"interpreter": "/py", "image": "x", "expect": "jitt"}, "unknown variant or feature"),
        ({"interpreter": "/nowhere/python3", "expect": "jit"}, "does not exist"),
        ({"variant": "jit", "python": "3.13", "where": "moon"}, "unknown --where"),
    ],
)
def test_bad_options_say_what_to_do(given: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as raised:
        ask(**given)
    assert message in raised.value.message


def test_an_unbuilt_cell_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPMATRIX_BUILD_DIR", str(tmp_path))
    with pytest.raises(UsageError) as raised:
        ask(variant="jit", python="3.13")
    assert "is not built" in raised.value.message
    assert "invoke build" in str(raised.value.hint)


def test_tiers() -> None:
    assert cli.parse_tiers("none") == ()
    assert cli.parse_tiers("pgo") == ("pgo",)
    with pytest.raises(UsageError):
        cli.parse_tiers("fast")
