"""``dist/<cell-id>.cdx.json``: a CycloneDX 1.6 SBOM per artifact, from what its manifest knows.

The archive is the metadata component; it contains CPython (the release, its source sha256 and
the patches applied, as pedigree) and each library the portable phase bundled, named by its
Debian package (purl ``pkg:deb/debian/<package>@<version>``), with its licence and the soname
and file it ships as. A bundled library whose upstream or Debian release no longer gets
security updates carries ``cpmatrix:support-ended`` properties; the manifest's
``portable.unsupported`` lists the same. Pure functions of the manifest: the same manifest gives
the same bytes.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Mapping
from typing import Any

import cpmatrix
from cpmatrix.features import debian

SPEC_VERSION = "1.6"
CPYTHON_LICENSE = "PSF-2.0"
SUITE = debian.SYSROOT_SUITE
"""The Debian release the bundled libraries come from (the builder's sysroot)."""


SUFFIX = ".cdx.json"


def sbom_name(cell_id: str) -> str:
    return f"{cell_id}{SUFFIX}"


def _date(epoch: int) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).isoformat().replace("+00:00", "Z")


def unsupported(bundled: list[Mapping[str, Any]], today: str) -> list[dict[str, str]]:
    """Each bundled package (once, however many of its libraries are bundled) past its
    upstream's or its Debian release's support."""
    packages = dict.fromkeys(str(entry["package"]) for entry in bundled)
    return [
        {"package": package, "support": end.by, "ended": end.ended}
        for package in packages
        for end in debian.support_ended(package, SUITE, today)
    ]


def library(entry: Mapping[str, Any], today: str) -> dict[str, Any]:
    package, version = str(entry["package"]), str(entry["version"])
    component: dict[str, Any] = {
        "type": "library",
        "bom-ref": f"bundled:{entry['soname']}",
        "name": package,
        "version": version,
        "purl": f"pkg:deb/debian/{package}@{version}?arch=amd64&distro=debian-11",
        "properties": [
            {"name": "cpmatrix:soname", "value": str(entry["soname"])},
            {"name": "cpmatrix:file", "value": str(entry["file"])},
        ],
    }
    spdx = debian.BUNDLED_LICENSES.get(package)
    if spdx:
        component["licenses"] = [{"expression": spdx}]
    for end in debian.support_ended(package, SUITE, today):
        component["properties"].append(
            {"name": "cpmatrix:support-ended", "value": f"{end.by}: {end.ended}"}
        )
    return component


def cpython(manifest: Mapping[str, Any]) -> dict[str, Any]:
    source = manifest["source"]
    component: dict[str, Any] = {
        "type": "application",
        "bom-ref": "cpython",
        "name": "cpython",
        "version": str(manifest["python"]),
        "purl": f"pkg:generic/cpython@{manifest['python']}",
        "licenses": [{"license": {"id": CPYTHON_LICENSE}}],
        "hashes": [{"alg": "SHA-256", "content": str(source["sha256"])}],
    }
    patches = [str(name) for name in source.get("patches") or []]
    if patches:
        component["pedigree"] = {
            "patches": [{"type": "unofficial", "diff": {"url": name}} for name in patches]
        }
    return component


def document(manifest: Mapping[str, Any], *, today: str) -> dict[str, Any]:
    """The SBOM of one artifact; ``today`` (ISO date) decides which support has ended."""
    artifact = manifest["artifact"]
    bundled = list((manifest.get("portable") or {}).get("bundled", []))
    libraries = [library(entry, today) for entry in bundled]
    top = {
        "type": "application",
        "bom-ref": str(manifest["id"]),
        "name": str(manifest["id"]),
        "version": str(manifest["python"]),
        "hashes": [{"alg": "SHA-256", "content": str(artifact["sha256"])}],
    }
    serial = uuid.uuid5(uuid.NAMESPACE_URL, f"cpmatrix:{artifact['sha256']}")
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{serial}",
        "version": 1,
        "metadata": {
            "timestamp": _date(int(artifact["source_date_epoch"])),
            "tools": {
                "components": [
                    {"type": "application", "name": "cpmatrix", "version": cpmatrix.__version__}
                ]
            },
            "component": top,
        },
        "components": [cpython(manifest), *libraries],
        "dependencies": [
            {"ref": top["bom-ref"], "dependsOn": ["cpython", *(c["bom-ref"] for c in libraries)]}
        ],
    }


def dumps(sbom: Mapping[str, Any]) -> str:
    return json.dumps(sbom, indent=2, sort_keys=True) + "\n"
