"""Where things live: the cache outside the clone, and each cell's directory under build/.

Everything downstream of a cell takes paths from here, so a cell's directory layout is
written down once: ``build/<cell-id>/{install/, build.log, build.json, verify.json}``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cpmatrix import features as fx
from cpmatrix.features import OS, Feature, Profile, Version
from cpmatrix.util import names
from cpmatrix.util.errors import ConfigError, UsageError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def directory_from(variable: str, default: Path) -> Path:
    """``$variable`` when set and not empty (an empty one means unset, never the current
    directory), else ``default``; refused when it names something that is not a directory."""
    value = os.environ.get(variable, "")
    path = Path(value) if value else default
    if path.exists() and not path.is_dir():
        raise UsageError(
            f"{variable}={str(path)[:200]!r} is not a directory"
            if value
            else f"{path} is not a directory",
            hint=f"point {variable} at a directory (or unset it)",
        )
    return path


def cache_dir() -> Path:
    """``$CPMATRIX_CACHE``, else ``$XDG_CACHE_HOME/cpmatrix``, else ``~/.cache/cpmatrix``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    default = (Path(xdg) if xdg else Path.home() / ".cache") / "cpmatrix"
    return directory_from("CPMATRIX_CACHE", default)


def build_root() -> Path:
    """``$CPMATRIX_BUILD_DIR``, else ``build/`` in the project."""
    return directory_from("CPMATRIX_BUILD_DIR", PROJECT_ROOT / "build")


def dist_root() -> Path:
    """``$CPMATRIX_DIST_DIR``, else ``dist/`` in the project."""
    return directory_from("CPMATRIX_DIST_DIR", PROJECT_ROOT / "dist")


@dataclass(frozen=True, slots=True)
class CellPaths:
    """The files of one cell under a build root."""

    root: Path
    cell_id: str

    @classmethod
    def of(cls, cell_id: str, root: Path | None = None) -> CellPaths:
        return cls(root or build_root(), cell_id)

    @property
    def dir(self) -> Path:
        """``root/<cell-id>``, refused unless the id is one plain path component."""
        return names.join(self.root, self.cell_id, what="cell id", error=ConfigError)

    @property
    def install(self) -> Path:
        return self.dir / "install"

    @property
    def dbgsym(self) -> Path:
        """The install tree's debug information, split off by the portable phase."""
        return self.dir / "dbgsym"

    @property
    def work(self) -> Path:
        """The out-of-tree build directory (object files)."""
        return self.dir / "work"

    @property
    def log(self) -> Path:
        return self.dir / "build.log"

    @property
    def record(self) -> Path:
        return self.dir / "build.json"

    @property
    def verify_report(self) -> Path:
        return self.dir / "verify.json"

    @property
    def junit(self) -> Path:
        return self.dir / "verify.junit.xml"

    @property
    def incomplete_marker(self) -> Path:
        """Present while a build runs and after one fails or is interrupted."""
        return self.dir / "INCOMPLETE"


def posix_executable_name(version: Version, features: frozenset[Feature], profile: Profile) -> str:
    """``python3.13``, ``python3.13t``, ``python3.14td``: what ``make install`` installs."""
    return f"python{version.minor_text}{fx.abiflags(features, profile)}"


def windows_executable_name(
    version: Version, features: frozenset[Feature], profile: Profile
) -> str:
    """``python.exe``, or ``python3.14t.exe`` for free-threaded (``_d`` for debug)."""
    suffix = fx.windows_name_suffix(features, profile)
    if Feature.FREETHREADED in features:
        return f"python{version.minor_text}{suffix}.exe"
    return f"python{suffix}.exe"


def windows_dll_name(version: Version, features: frozenset[Feature], profile: Profile) -> str:
    """``python314.dll``, ``python314t_d.dll``: the interpreter's DLL beside the executable."""
    return f"python{version.major}{version.minor}{fx.windows_name_suffix(features, profile)}.dll"


def interpreter_in_tree(
    version: Version, features: frozenset[Feature], profile: Profile, os: OS
) -> PurePosixPath:
    """The interpreter inside an install tree (or an archive's top directory), the one answer
    verify, manifest, bench and scripts use: ``bin/python3.13t`` from ``make install``;
    ``python.exe`` / ``python3.14t.exe`` at the root of a PCbuild install."""
    if os == "windows":
        return PurePosixPath(windows_executable_name(version, features, profile))
    return PurePosixPath("bin", posix_executable_name(version, features, profile))
