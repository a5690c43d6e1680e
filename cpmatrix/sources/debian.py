"""The Debian provider: upstream's tarball as Debian's source package carries it, byte for byte.

A ``deb-src`` entry is composed from the archive URIs this machine's apt already uses (no mirror
host is written into the project) and lives in a private apt configuration under the cache, so
the system's apt state is never touched. Only ``pythonX.Y_<release>.orig.tar.xz`` whose sha256
equals matrix.yaml's is accepted; the ``.asc`` beside it and ``debian/upstream/signing-key.asc``
from Debian's packaging come along for the signature check.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from cpmatrix.matrix import PythonRelease
from cpmatrix.sources import aptsources
from cpmatrix.sources.model import ProviderFailed, Tarball
from cpmatrix.sources.store import SourceCache, admit
from cpmatrix.util import console, safetar

SUITES_FOR_SERIES: dict[str, tuple[str, ...]] = {"3.13": ("trixie",)}
"""The Debian suites whose ``pythonX.Y`` source package carries that minor's release; any
other minor is looked for in unstable (which may list it but not serve it)."""
FALLBACK_SUITES = ("sid",)
APT_TIMEOUT = 900.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SourcePackage:
    package: str
    version: str
    directory: str
    files: dict[str, str]

    def file_ending(self, suffix: str) -> str | None:
        return next((name for name in self.files if name.endswith(suffix)), None)


def suites_for(python: PythonRelease) -> tuple[str, ...]:
    return SUITES_FOR_SERIES.get(python.series.minor_text, FALLBACK_SUITES)


def provide(python: PythonRelease, cache: SourceCache, etc: Path = Path("/etc/apt")) -> Tarball:
    package = f"python{python.series.minor_text}"
    orig = f"{package}_{python.release}.orig.tar.xz"
    archive = aptsources.debian_archive(etc)
    failures: list[str] = []
    alarming = False
    for suite in suites_for(python):
        private = PrivateApt(cache.apt / suite)
        with cache.lock(f"apt-{suite}"):
            private.configure(aptsources.deb_src_entry(archive, suite))
            console.progress(f"reading Debian {suite}'s source index ({archive.uris[0]})")
            private.run(["apt-get", "update"])
            offered = private.show_source(package)
            found = [p for p in offered if orig in p.files]
            if not found:
                versions = ", ".join(p.version for p in offered) or "none"
                failures.append(f"{suite} has no {orig} ({package} versions there: {versions})")
                continue
            chosen = found[0]
            listed = chosen.files[orig]
            if listed != python.sha256:
                failures.append(
                    f"{suite}'s index lists {orig} with sha256 {listed}, matrix.yaml says "
                    f"{python.sha256}: not upstream's tarball, not downloaded"
                )
                alarming = True
                continue
            return _download(python, cache, private, chosen, orig, suite, archive.uris[0])
    raise ProviderFailed("; ".join(failures), alarming=alarming)


def _download(
    python: PythonRelease,
    cache: SourceCache,
    private: PrivateApt,
    chosen: SourcePackage,
    orig: str,
    suite: str,
    uri: str,
) -> Tarball:
    spec = f"{chosen.package}={chosen.version}"
    console.progress(f"downloading Debian {suite} source package {spec}")
    with cache.temp_dir("debian-") as work:
        private.run(["apt-get", "source", "--download-only", spec], cwd=work)
        extras: dict[str, Path] = {}
        if (work / f"{orig}.asc").is_file():
            extras[f"{python.tarball_name}.asc"] = work / f"{orig}.asc"
        packaging = chosen.file_ending(".debian.tar.xz") or chosen.file_ending(".debian.tar.gz")
        if packaging and _signing_key(work / packaging, work / "signing-key.asc"):
            extras["signing-key.asc"] = work / "signing-key.asc"
        return admit(
            cache,
            work / orig,
            name=python.tarball_name,
            expected=python.sha256,
            release_sha256=python.sha256,
            origin=f"{uri}/{chosen.directory}/{orig} (Debian {suite}, {spec})",
            provider="debian",
            extras=extras,
        )


def _signing_key(packaging: Path, target: Path) -> bool:
    """Copy ``debian/upstream/signing-key.asc`` out of Debian's packaging tarball (read only)."""
    try:
        with safetar.open_bounded(packaging) as archive:
            member = archive.getmember("debian/upstream/signing-key.asc")
            small = member.isfile() and member.size <= safetar.MAX_EXTENDED_HEADER
            stream = archive.extractfile(member) if small else None
            if stream is None:
                return False
            target.write_bytes(stream.read())
            return True
    except (KeyError, tarfile.TarError, OSError, safetar.ArchiveRefused):
        return False


class PrivateApt:
    """apt-get and apt-cache confined to their own sources, lists and cache directories."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def config(self) -> Path:
        return self.root / "apt.conf"

    def configure(self, entry: str) -> None:
        parts = self.root / "sources.list.d"
        for directory in (parts, self.root / "lists/partial", self.root / "cache/archives/partial"):
            directory.mkdir(parents=True, exist_ok=True)
        (parts / "cpmatrix.sources").write_text(entry, encoding="utf-8")
        settings = {
            "Dir::Etc::SourceList": "/dev/null",
            "Dir::Etc::SourceParts": str(parts),
            "Dir::State::Lists": str(self.root / "lists"),
            "Dir::Cache": str(self.root / "cache"),
        }
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            settings["APT::Sandbox::User"] = "root"
        text = "".join(f'{key} "{value}";\n' for key, value in settings.items())
        self.config.write_text(text, encoding="utf-8")

    def run(self, argv: list[str], cwd: Path | None = None) -> str:
        env = {**os.environ, "APT_CONFIG": str(self.config), "LC_ALL": "C"}
        try:
            done = subprocess.run(
                argv,
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=APT_TIMEOUT,
                check=False,
            )
        except FileNotFoundError:
            raise ProviderFailed(f"{argv[0]} is not installed (not a Debian-like host)") from None
        except subprocess.TimeoutExpired:
            raise ProviderFailed(f"{' '.join(argv)} took over {APT_TIMEOUT:.0f}s") from None
        if done.returncode != 0 or "\nE: " in f"\n{done.stderr}":
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-4:])
            raise ProviderFailed(f"`{' '.join(argv)}` failed (exit {done.returncode}): {tail}")
        return done.stdout

    def show_source(self, package: str) -> list[SourcePackage]:
        try:
            text = self.run(["apt-cache", "showsrc", package])
        except ProviderFailed:
            return []
        return parse_showsrc(text)


def parse_showsrc(text: str) -> list[SourcePackage]:
    """``apt-cache showsrc`` stanzas → packages with their files' sha256."""
    found: list[SourcePackage] = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        files: dict[str, str] = {}
        current = ""
        for line in stanza.splitlines():
            if line.startswith(" ") and current == "Checksums-Sha256":
                parts = line.split()
                if len(parts) == 3:
                    files[parts[2]] = parts[0]
            elif ":" in line and not line.startswith(" "):
                current, _, value = line.partition(":")
                fields[current] = value.strip()
        if "Package" in fields and "Version" in fields and files:
            found.append(
                SourcePackage(
                    package=fields["Package"],
                    version=fields["Version"],
                    directory=fields.get("Directory", ""),
                    files=files,
                )
            )
    return found
