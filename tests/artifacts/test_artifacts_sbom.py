"""The CycloneDX SBOM of an artifact, validated by CycloneDX's own library."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cpmatrix.artifacts import sbom

BUNDLED = [
    {"soname": "libssl.so.1.1", "file": "lib/cpmatrix-libs/libssl.so.1.1", "package": "libssl1.1",
     "version": "1.1.1w-0+deb11u8"},
    {"soname": "libffi.so.7", "file": "lib/cpmatrix-libs/libffi.so.7", "package": "libffi7",
     "version": "3.3-6"},
]  # fmt: skip


def manifest() -> dict[str, Any]:
    return {
        "id": "cpython-3.13.5-jit-linux-x86_64",
        "python": "3.13.5",
        "artifact": {"sha256": "ab" * 32, "source_date_epoch": 315532800},
        "source": {"sha256": "93e583f2" * 8, "patches": ["getpath-proc-self-exe.patch"]},
        "portable": {"bundled": BUNDLED},
    }


def validate(document: dict[str, Any]) -> None:
    validation = pytest.importorskip("cyclonedx.validation.json")
    schema = pytest.importorskip("cyclonedx.schema")
    validator = validation.JsonStrictValidator(schema.SchemaVersion.V1_6)
    error = validator.validate_str(sbom.dumps(document))
    assert error is None, error


def test_the_sbom_is_valid_cyclonedx_and_names_cpython_its_patches_and_each_library() -> None:
    document = sbom.document(manifest(), today="2026-12-05")
    validate(document)
    cpython, ssl, ffi = document["components"]
    assert cpython["purl"] == "pkg:generic/cpython@3.13.5"
    assert cpython["pedigree"]["patches"][0]["diff"]["url"] == "getpath-proc-self-exe.patch"
    assert ssl["purl"] == "pkg:deb/debian/libssl1.1@1.1.1w-0+deb11u8?arch=amd64&distro=debian-11"
    assert ssl["licenses"] == [{"expression": "OpenSSL"}]
    assert ffi["licenses"] == [{"expression": "MIT"}]
    assert document["dependencies"][0]["dependsOn"] == [
        "cpython",
        "bundled:libssl.so.1.1",
        "bundled:libffi.so.7",
    ]


def test_libraries_past_their_support_are_marked_as_of_the_day() -> None:
    before = sbom.document(manifest(), today="2023-01-01")
    after = sbom.document(manifest(), today="2026-12-05")
    ended = [
        p["value"]
        for p in after["components"][1]["properties"]
        if p["name"] == "cpmatrix:support-ended"
    ]
    assert ended == ["OpenSSL 1.1.1 upstream: 2023-09-11", "Debian 11 LTS: 2026-08-31"]
    assert not [p for p in before["components"][1]["properties"] if "support" in p["name"]]
    crypto = {**BUNDLED[0], "soname": "libcrypto.so.1.1"}  # the same package, listed once
    assert sbom.unsupported([*BUNDLED, crypto], "2026-12-05") == [
        {"package": "libssl1.1", "support": "OpenSSL 1.1.1 upstream", "ended": "2023-09-11"},
        {"package": "libssl1.1", "support": "Debian 11 LTS", "ended": "2026-08-31"},
        {"package": "libffi7", "support": "Debian 11 LTS", "ended": "2026-08-31"},
    ]


def test_the_same_manifest_gives_the_same_bytes() -> None:
    first = sbom.dumps(sbom.document(manifest(), today="2026-12-05"))
    assert first == sbom.dumps(sbom.document(manifest(), today="2026-12-05"))
    assert json.loads(first)["serialNumber"].startswith("urn:uuid:")
