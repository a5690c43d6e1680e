"""Make a staged CPython install tree portable; runs where the build ran, standard library only.

Five steps, each needed for an artifact that other teams can run with nothing installed:

1. **bundle**: every shared library an ELF file in the tree needs, other than glibc, libgcc_s and
   the loader, is copied from the sysroot the build linked against into ``lib/cpmatrix-libs/``
   and found there through an ``$ORIGIN``-relative RUNPATH (set with patchelf). Libraries that
   need each other find their neighbours through ``$ORIGIN``.
2. **sanitize**: the sysroot the build used (``--sysroot=…``, ``-I/opt/sysroot/…``) is removed
   from what the interpreter tells extension builds (``_sysconfigdata``, the Makefile,
   ``python-config``, pkg-config files): a consumer's compiler has no such directory.
3. **relocate**: what a consumer's build reads names the consumer's compilers and finds the
   prefix wherever the tree is unpacked; console scripts start the interpreter beside them
   (:mod:`cpmatrix.builders.relocate`).
4. **native**: an LTO build leaves LLVM bitcode in the static libpython and ``python.o``, which a
   team's gcc and GNU ld cannot link ("file format not recognized" when embedding); each bitcode
   member is compiled to machine code by the build's clang (the profile's branch weights are in
   the bitcode), so what a team embeds links with any toolchain.
5. **split**: every ELF file's debug information goes to ``<dbgsym>/.build-id/xx/rest.debug``
   (gdb's and perf's layout) and the file itself is stripped (``--strip-unneeded``; static
   archives and object files, ``lib/libpython3.X.a`` included, ``--strip-debug``). The copy of
   the static libpython in ``config-3.X/`` becomes a symlink to ``lib/`` when they are equal.

It prints one JSON object: the bundled libraries (soname, file, Debian package and version),
the files it rewrote, what the build's compilers were, and the debug files it wrote. cpmatrix
copies this file and ``relocate.py`` (as ``cpmatrix/builders/relocate.py``) into the build
directory and runs it with the build container's python3 (see ``builders/portable.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cpmatrix.builders import native_code, relocate
from cpmatrix.builders.native_code import archive_members

BUNDLE_DIR = "lib/cpmatrix-libs"
ELF_MAGIC = b"\x7fELF"
LOADABLE = (2, 3)
"""ELF types the loader maps (ET_EXEC, ET_DYN); object files (``config-3.X/python.o``) are not."""
BINUTILS_PREFIX = [""]
"""``strip``/``objcopy`` of the tree's architecture: ``aarch64-linux-gnu-`` in a cross build
(the builder's own binutils read x86_64 only); set once by --binutils-prefix."""
BUILD_ID = re.compile(r"Build ID:\s*([0-9a-f]+)")


def elf_type(path: Path) -> int | None:
    """The ELF ``e_type`` of a regular file (little- or big-endian), None for anything else."""
    if path.is_symlink() or not path.is_file():
        return None
    with path.open("rb") as handle:
        header = handle.read(18)
    if len(header) < 18 or header[:4] != ELF_MAGIC:
        return None
    return int.from_bytes(header[16:18], "little" if header[5] == 1 else "big")


def is_elf(path: Path) -> bool:
    """A file the loader maps: what bundling, the gate and --strip-unneeded are about."""
    return elf_type(path) in LOADABLE


def holds_elf_objects(path: Path) -> bool:
    """An ELF object file, or a static archive of them: what ``strip --strip-debug`` can read.
    An LTO build's ``python.o`` and ``libpython3.X.a`` hold LLVM bitcode (``BC\\xc0\\xde``),
    which strip refuses ("file format not recognized") and which has no DWARF to strip."""
    if path.is_symlink() or not path.is_file():
        return False
    if path.suffix == ".o":
        return elf_type(path) == 1
    if path.suffix == ".a":
        members = archive_members(path)
        return bool(members) and all(head == ELF_MAGIC for head in members)
    return False


def elf_files(tree: Path) -> list[Path]:
    return sorted(p for p in tree.rglob("*") if is_elf(p))


def run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def needed(path: Path) -> list[str]:
    if path.suffix == ".a":
        return []
    return [
        line.strip()
        for line in run("patchelf", "--print-needed", str(path)).splitlines()
        if line.strip()
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What cpmatrix's features/ tell this script (it cannot import them): the libraries an
    artifact may take from the host, and where the sysroot keeps its libraries."""

    host_libraries: frozenset[str]
    library_dirs: tuple[str, ...]

    def to_json(self) -> str:
        data = {"host_libraries": sorted(self.host_libraries), "library_dirs": self.library_dirs}
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Facts:
        data = json.loads(text)
        return cls(
            host_libraries=frozenset(data["host_libraries"]),
            library_dirs=tuple(data["library_dirs"]),
        )


def find_in_sysroot(soname: str, sysroot: Path, library_dirs: tuple[str, ...]) -> Path | None:
    for directory in library_dirs:
        candidate = sysroot / directory / soname
        if candidate.exists():
            return candidate.resolve()
    return None


def dpkg_owners(sysroot: Path) -> dict[str, tuple[str, str]]:
    """Real file path (inside the sysroot) → (Debian package, version), from dpkg's database."""
    info, status = sysroot / "var/lib/dpkg/info", sysroot / "var/lib/dpkg/status"
    versions: dict[str, str] = {}
    if status.is_file():
        package = ""
        for line in status.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("Package: "):
                package = line.split(": ", 1)[1]
            elif line.startswith("Version: ") and package:
                versions[package] = line.split(": ", 1)[1]
    owners: dict[str, tuple[str, str]] = {}
    links: dict[str, tuple[str, str]] = {}
    for listing in sorted(info.glob("*.list")) if info.is_dir() else []:
        package = listing.stem.split(":")[0]
        for line in listing.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line:
                continue
            listed = str(sysroot) + line
            # the package that ships the file itself, not one with a symlink to it (-dev's .so)
            chosen = links if Path(listed).is_symlink() else owners
            chosen.setdefault(os.path.realpath(listed), (package, versions.get(package, "")))
    return {**links, **owners}


def bundle(tree: Path, sysroot: Path, facts: Facts) -> list[dict[str, str]]:
    """Copy every library the tree needs but the host's into BUNDLE_DIR; set RUNPATHs."""
    target = tree / BUNDLE_DIR
    owners = dpkg_owners(sysroot)
    bundled: dict[str, dict[str, str]] = {}
    pending = elf_files(tree)
    users: dict[Path, set[str]] = {}
    while pending:
        path = pending.pop()
        for soname in needed(path):
            if soname in facts.host_libraries:
                continue
            users.setdefault(path, set()).add(soname)
            if soname in bundled:
                continue
            found = find_in_sysroot(soname, sysroot, facts.library_dirs)
            if found is None:
                raise SystemExit(f"{path.relative_to(tree)} needs {soname}, not in {sysroot}")
            target.mkdir(parents=True, exist_ok=True)
            copy = target / soname
            shutil.copy2(found, copy)
            copy.chmod(0o755)
            package, version = owners.get(str(found), ("", ""))
            bundled[soname] = {
                "soname": soname,
                "file": f"{BUNDLE_DIR}/{soname}",
                "from": str(found.relative_to(sysroot)),
                "package": package,
                "version": version,
            }
            pending.append(copy)
    for path in sorted(users):
        runpath = "$ORIGIN/" + os.path.relpath(target, path.parent)
        if path.parent == target:
            runpath = "$ORIGIN"
        run("patchelf", "--set-rpath", runpath, str(path))
    return [bundled[name] for name in sorted(bundled)]


def text_files_to_sanitize(tree: Path) -> list[Path]:
    patterns = (
        "lib/python3*/_sysconfigdata_*.py",
        "lib/python3*/config-*/Makefile",
        "bin/python3*-config",
        "lib/pkgconfig/*.pc",
        "lib/python3*/config-*/python-config.py",
    )
    return sorted(
        {
            p
            for pattern in patterns
            for p in tree.glob(pattern)
            if p.is_file() and not p.is_symlink()
        }
    )


def sanitize(tree: Path, sysroot: str) -> list[str]:
    """Remove the sysroot from what the interpreter reports to extension builds."""
    flag = re.compile(rf"\s*--sysroot={re.escape(sysroot)}")
    changed = []
    for path in text_files_to_sanitize(tree):
        text = path.read_text(encoding="utf-8")
        clean = flag.sub("", text).replace(f"{sysroot}/", "/")
        if clean != text:
            path.write_text(clean, encoding="utf-8")
            for stale in path.parent.glob(f"__pycache__/{path.stem}.*.pyc"):
                stale.unlink()
            changed.append(str(path.relative_to(tree)))
    return changed


def has_debug_info(path: Path) -> bool:
    return ".debug_info" in run("readelf", "-S", "-W", str(path))


def build_id(path: Path) -> str | None:
    match = BUILD_ID.search(run("readelf", "-n", str(path)))
    return match.group(1) if match else None


def static_objects(tree: Path) -> list[Path]:
    """Static archives and object files: ``lib/*.a`` and the config directory's."""
    found = [*tree.glob("lib/*.a"), *tree.glob("lib/python3*/config-*/*")]
    return [p for p in sorted(found) if holds_elf_objects(p)]


def link_duplicate_archives(tree: Path) -> list[str]:
    """``config-3.X/libpython3.X.a`` → a symlink to ``lib/libpython3.X.a`` when they are the
    same bytes (``make install`` copies the static libpython to both)."""
    linked = []
    for copy in sorted(tree.glob("lib/python3*/config-*/lib*.a")):
        original = tree / "lib" / copy.name
        if copy.is_symlink() or not original.is_file() or original.is_symlink():
            continue
        if copy.read_bytes() == original.read_bytes():
            copy.unlink()
            copy.symlink_to(os.path.relpath(original, copy.parent))
            linked.append(str(copy.relative_to(tree)))
    return linked


def split_debug(tree: Path, dbgsym: Path) -> list[dict[str, str]]:
    """Debug info out to dbgsym/.build-id/, then strip; static archives only lose theirs."""
    written = []
    objects = static_objects(tree)
    for path in elf_files(tree) + objects:
        relative = str(path.relative_to(tree))
        if path.suffix in (".a", ".o"):
            run(f"{BINUTILS_PREFIX[0]}strip", "--strip-debug", str(path))
            continue
        if has_debug_info(path):
            ident = build_id(path)
            name = f".build-id/{ident[:2]}/{ident[2:]}.debug" if ident else f"{relative}.debug"
            out = dbgsym / name
            out.parent.mkdir(parents=True, exist_ok=True)
            run(
                f"{BINUTILS_PREFIX[0]}objcopy",
                "--only-keep-debug",
                "--compress-debug-sections",
                str(path),
                str(out),
            )
            out.chmod(0o644)
            written.append({"file": relative, "debug": name, "build_id": ident or ""})
        run(f"{BINUTILS_PREFIX[0]}strip", "--strip-unneeded", str(path))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, required=True, help="the staged install prefix")
    parser.add_argument("--sysroot", type=Path, required=True)
    parser.add_argument("--dbgsym", type=Path, required=True, help="where .debug files go")
    parser.add_argument("--report", type=Path, required=True, help="JSON written here")
    parser.add_argument("--facts", type=Path, required=True, help="JSON from cpmatrix (see Facts)")
    parser.add_argument(
        "--binutils-prefix", default="", help="cross binutils (aarch64-linux-gnu-): strip, objcopy"
    )
    args = parser.parse_args(argv)
    BINUTILS_PREFIX[0] = args.binutils_prefix
    facts = Facts.from_json(args.facts.read_text(encoding="utf-8"))
    bundled = bundle(args.tree, args.sysroot, facts)
    sanitized = sanitize(args.tree, str(args.sysroot))
    relocated = relocate.relocate(args.tree)
    used = relocated.get("build_used")
    compiler = str(used.get("CC") or "cc").split()[0] if isinstance(used, dict) else "cc"
    native = native_code.native_static_code(args.tree, compiler, f"{BINUTILS_PREFIX[0]}ar")
    debug_files = split_debug(args.tree, args.dbgsym)
    result = {
        "bundled": bundled,
        "sanitized": sanitized,
        "relocated": relocated,
        "native": native,
        "linked": link_duplicate_archives(args.tree),
        "debug_files": debug_files,
    }
    args.report.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"bundled {len(bundled)} libraries, sanitized {len(sanitized)} files, "
        f"split debug info of {len(debug_files)} files"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
