"""Upstream's detached PGP signature, checked against the release manager's key in matrix.yaml.

The key is imported into a private, throw-away GNUPGHOME; the user's keyring is never read or
written. A BAD signature, or a good one by another key, is a SourceError; a signature that
cannot be checked (no .asc, no gpg, no key) is recorded as "not checked: why".
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
import tempfile
from typing import assert_never

from cpmatrix.matrix import PythonRelease
from cpmatrix.sources.model import Tarball
from cpmatrix.util import console
from cpmatrix.util.errors import SourceError


def check(python: PythonRelease, tarball: Tarball) -> str:
    """A one-line status: ``verified (pgp …)`` or ``not checked: why``."""
    kind = python.signature.kind
    match kind:
        case "sigstore":
            return f"not checked: {python.series}+ is Sigstore-signed (PEP 761), no PGP .asc"
        case "none":
            return "not checked: matrix.yaml names no signing key"
        case "pgp":
            fingerprint = python.signature.pgp_fingerprint
            assert fingerprint is not None
            return _check_pgp(tarball, fingerprint)
        case _:
            assert_never(kind)


def _check_pgp(tarball: Tarball, fingerprint: str) -> str:
    if not tarball.matrix_release:
        return "not checked: not the release matrix.yaml names"
    if tarball.signature_file is None:
        return "not checked: no .asc at hand"
    gpg = shutil.which("gpg")
    if gpg is None:
        return "not checked: gpg is not installed"
    if tarball.key_file is None:
        return f"not checked: no public key for {fingerprint} at hand"
    with tempfile.TemporaryDirectory(prefix="cpmatrix-gnupg-") as home:
        base = [gpg, "--homedir", home, "--batch", "--no-tty", "--no-autostart"]
        imported = subprocess.run(
            [*base, "--import", str(tarball.key_file)], capture_output=True, text=True, check=False
        )
        if imported.returncode != 0:
            return f"not checked: could not import {tarball.key_file.name}: {imported.stderr[:200]}"
        verified = subprocess.run(
            [*base, "--status-fd", "1", "--verify", str(tarball.signature_file), str(tarball.path)],
            capture_output=True,
            text=True,
            check=False,
        )
    return _judge(verified.stdout, verified.stderr, fingerprint, tarball)


def _judge(status: str, stderr: str, fingerprint: str, tarball: Tarball) -> str:
    lines = [line.split()[1:] for line in status.splitlines() if line.startswith("[GNUPG:] ")]
    words = {fields[0]: fields[1:] for fields in lines if fields}
    where = f"{tarball.signature_file} for {tarball.path.name} (from {tarball.origin})"
    if "BADSIG" in words:
        raise SourceError(
            f"BAD signature: {where}",
            hint="the tarball or its .asc was altered; `invoke clean --sources`, then fetch again",
        )
    if "REVKEYSIG" in words:
        raise SourceError(f"signed by a revoked key: {where}")
    valid = words.get("VALIDSIG")
    if valid is None:
        console.warn(f"could not check the signature {where}: {stderr.strip()[:300]}")
        return "not checked: gpg could not verify the .asc with the key at hand"
    primary = valid[-1] if len(valid) >= 10 else valid[0]
    if fingerprint not in (primary, valid[0]):
        raise SourceError(
            f"{where} is signed by key {primary}, not by the release manager's {fingerprint}",
            hint="matrix.yaml's python.signature.pgp names the key that must have signed it",
        )
    note = f"verified (pgp {fingerprint}, signed {_day(valid[1])}"
    expired = words.get("KEYEXPIRED")
    if "EXPKEYSIG" in words and expired:
        note += f"; key expired {_day(expired[0])}, after signing"
    return note + ")"


def _day(value: str) -> str:
    if value.isdigit():
        return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC).date().isoformat()
    return value.split("T")[0]
