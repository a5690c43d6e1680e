"""This machine's apt sources (deb822 ``*.sources`` and one-line ``*.list``), read only to learn
which Debian archive it uses, and the ``deb-src`` entry composed from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cpmatrix.features import debian
from cpmatrix.sources.model import ProviderFailed


@dataclass(frozen=True, slots=True, kw_only=True)
class AptEntry:
    uris: tuple[str, ...]
    suites: tuple[str, ...]
    signed_by: str | None = None

    @property
    def is_debian_archive(self) -> bool:
        bases = {suite.split("-")[0].split("/")[0] for suite in self.suites}
        only_security = all(suite.endswith("-security") for suite in self.suites)
        return bool(bases & debian.SUITE_NAMES) and not only_security


def read_entries(etc: Path) -> list[AptEntry]:
    entries: list[AptEntry] = []
    parts = etc / "sources.list.d"
    for path in sorted(parts.glob("*.sources")) if parts.is_dir() else []:
        entries.extend(parse_deb822(path.read_text(encoding="utf-8", errors="replace")))
    lists = [etc / "sources.list", *(sorted(parts.glob("*.list")) if parts.is_dir() else [])]
    for path in lists:
        if path.is_file():
            entries.extend(parse_one_line(path.read_text(encoding="utf-8", errors="replace")))
    return entries


def parse_deb822(text: str) -> list[AptEntry]:
    entries: list[AptEntry] = []
    for paragraph in _paragraphs(text):
        if paragraph.get("enabled", "yes").lower() == "no":
            continue
        types = paragraph.get("types", "").split()
        if not {"deb", "deb-src"} & set(types):
            continue
        signed_by = paragraph.get("signed-by", "").strip()
        entries.append(
            AptEntry(
                uris=tuple(paragraph.get("uris", "").split()),
                suites=tuple(paragraph.get("suites", "").split()),
                signed_by=signed_by
                if signed_by.startswith("/") and "\n" not in signed_by
                else None,
            )
        )
    return entries


def _paragraphs(text: str) -> list[dict[str, str]]:
    paragraphs: list[dict[str, str]] = [{}]
    key = ""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if paragraphs[-1]:
                paragraphs.append({})
            continue
        if line[0] in " \t" and key:
            paragraphs[-1][key] += "\n" + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip().lower()
            paragraphs[-1][key] = value.strip()
    return [p for p in paragraphs if p]


def parse_one_line(text: str) -> list[AptEntry]:
    entries: list[AptEntry] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith(("deb ", "deb-src ")):
            continue
        signed_by = None
        if "[" in line and "]" in line:
            options, line = line[line.index("[") + 1 : line.index("]")], line[line.index("]") + 1 :]
            for option in options.split():
                if option.startswith("signed-by="):
                    signed_by = option.partition("=")[2]
        else:
            line = line.split(None, 1)[1]
        words = line.split()
        if len(words) >= 2:
            entries.append(AptEntry(uris=(words[0],), suites=(words[1],), signed_by=signed_by))
    return entries


def debian_archive(etc: Path) -> AptEntry:
    """The Debian archive this machine uses (URIs merged), or ProviderFailed saying why."""
    archives = [entry for entry in read_entries(etc) if entry.is_debian_archive]
    if not archives:
        raise ProviderFailed(
            f"no Debian archive in {etc}/sources.list or {etc}/sources.list.d/ "
            "(looked for an entry with a Debian suite such as bookworm or trixie)"
        )
    uris = tuple(dict.fromkeys(uri.rstrip("/") for entry in archives for uri in entry.uris))
    signed_by = next((entry.signed_by for entry in archives if entry.signed_by), None)
    return AptEntry(uris=uris, suites=(), signed_by=signed_by)


def deb_src_entry(archive: AptEntry, suite: str) -> str:
    lines = [
        "Types: deb-src",
        f"URIs: {' '.join(archive.uris)}",
        f"Suites: {suite}",
        "Components: main",
    ]
    if archive.signed_by:
        lines.append(f"Signed-By: {archive.signed_by}")
    return "\n".join(lines) + "\n"
