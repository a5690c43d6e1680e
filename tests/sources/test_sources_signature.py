"""Upstream's PGP signature, checked with the real gpg: good, BAD, signed by another key, and the
cases where it cannot be checked (each recorded as such)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cpmatrix.matrix import PythonRelease, matrixfile
from cpmatrix.sources import SourceCache, SourceTree, signature
from cpmatrix.sources.model import Tarball
from cpmatrix.util.errors import SourceError

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")


@pytest.fixture(scope="module")
def python() -> PythonRelease:
    return matrixfile.load().python("3.13")


@pytest.fixture
def real(python: PythonRelease, cpython_source: SourceTree) -> Tarball:
    """The cached 3.13.5 tarball with the .asc and signing key Debian shipped beside it."""
    slot = SourceCache.default().slot(python.sha256)
    if not (slot / "signing-key.asc").is_file():
        pytest.skip("the cached 3.13.5 came without upstream's .asc and key (not via Debian)")
    return Tarball(
        path=slot / python.tarball_name,
        sha256=python.sha256,
        origin="test",
        provider="cache",
        matrix_release=True,
        signature_file=slot / f"{python.tarball_name}.asc",
        key_file=slot / "signing-key.asc",
    )


def test_upstream_signature_verifies_against_the_matrix_key(
    python: PythonRelease, real: Tarball
) -> None:
    status = signature.check(python, real)
    assert status.startswith(f"verified (pgp {python.signature.pgp_fingerprint}, signed 2025-06-11")


def test_altered_tarball_is_a_bad_signature(
    python: PythonRelease, real: Tarball, tmp_path: Path
) -> None:
    altered = tmp_path / python.tarball_name
    data = bytearray(real.path.read_bytes())
    data[1000] ^= 0x01
    altered.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="BAD signature"):
        signature.check(python, Tarball(**{**_fields(real), "path": altered}))


@pytest.fixture
def other_signer(tmp_path: Path) -> Iterator[tuple[Path, Path, Path]]:
    """(file, detached .asc, public key), signed by a freshly made key that is not the RM's."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--passphrase", ""]
    subprocess.run(
        [*gpg, "--quick-gen-key", "Not The RM <x@example.invalid>", "ed25519", "sign", "never"],
        check=True,
        capture_output=True,
    )
    payload = tmp_path / "Python-3.13.5.tar.xz"
    payload.write_bytes(b"not really a tarball\n")
    subprocess.run(
        [*gpg, "--armor", "--detach-sign", str(payload)], check=True, capture_output=True
    )
    key = tmp_path / "key.asc"
    exported = subprocess.run([*gpg, "--armor", "--export"], check=True, capture_output=True)
    key.write_bytes(exported.stdout)
    try:
        yield payload, Path(f"{payload}.asc"), key
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def test_good_signature_by_another_key_is_refused(
    python: PythonRelease, other_signer: tuple[Path, Path, Path]
) -> None:
    payload, asc, key = other_signer
    tarball = Tarball(
        path=payload,
        sha256=python.sha256,
        origin="test",
        provider="explicit",
        matrix_release=True,
        signature_file=asc,
        key_file=key,
    )
    with pytest.raises(
        SourceError, match=f"not by the release manager's {python.signature.pgp_fingerprint}"
    ):
        signature.check(python, tarball)


def test_unchecked_cases_say_why(
    python: PythonRelease, real: Tarball, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fields = _fields(real)
    no_asc = Tarball(**{**fields, "signature_file": None})
    assert signature.check(python, no_asc) == "not checked: no .asc at hand"
    no_key = Tarball(**{**fields, "key_file": None})
    assert signature.check(python, no_key).startswith("not checked: no public key for 7169605F")
    newest = matrixfile.load().python("3.14")
    assert signature.check(newest, real) == (
        "not checked: 3.14+ is Sigstore-signed (PEP 761), no PGP .asc"
    )
    monkeypatch.setenv("PATH", str(tmp_path))
    assert signature.check(python, real) == "not checked: gpg is not installed"


def _fields(tarball: Tarball) -> dict[str, object]:
    return {name: getattr(tarball, name) for name in Tarball.__dataclass_fields__}
