"""The native POSIX builder: the same configure/make/install on this machine (macOS runners,
or Linux with ``--builder=native``).

The JIT's LLVM is found the way CPython's CI finds it: ``clang-N`` on Linux's PATH; on macOS
Homebrew's keg-only ``llvm@N``, which Tools/jit asks ``brew --prefix`` for. The keg's ``bin`` goes
on PATH only when its clang compiles the interpreter (the tail-call cells): otherwise configure
would take the keg's ``llvm-profdata`` for Apple clang's profiles, whose raw format must match
the compiler's LLVM exactly, and a PGO build would fail (issue #25).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cpmatrix import features as fx
from cpmatrix.builders import base, portable, steps
from cpmatrix.builders.base import BuildRequest, BuildResult
from cpmatrix.features import toolchains
from cpmatrix.matrix import BuilderKind, Cell
from cpmatrix.util.errors import EnvironmentProblem

LINUX_CCACHE_WRAPPERS = Path("/usr/lib/ccache")


def brew_prefix_command(llvm_major: int) -> tuple[str, ...]:
    return ("brew", "--prefix", toolchains.homebrew_formula(llvm_major))


def brew_install(llvm_major: int) -> str:
    return toolchains.install_hint(toolchains.packages_for("macos", llvm_major, stencils=True))


def macos_llvm_tools(llvm_major: int, prefix: str) -> tuple[fx.Tool, ...]:
    """The LLVM tools of a Homebrew keg, named by full path so preflight checks that keg."""
    hint = brew_install(llvm_major)
    return tuple(
        fx.Tool(f"{prefix}/bin/{name}", f"JIT stencils (LLVM {llvm_major})", hint)
        for name in ("clang", "llvm-readobj", "llvm-objdump")
    )


def llvm_major_needed(cell: Cell) -> int | None:
    """The LLVM whose keg this cell builds with: features' rule, the same one ci.py asks."""
    return base.toolchain(cell).llvm_major


def macos_environment(llvm_prefix: str | None, path: str, *, keg_compiles: bool) -> dict[str, str]:
    """PATH with the keg's bin first when its clang compiles the cell (configure then takes its
    llvm-ar and llvm-profdata too); otherwise Apple clang and Xcode's tools, as CPython's CI."""
    return {"PATH": f"{llvm_prefix}/bin:{path}"} if llvm_prefix and keg_compiles else {}


def brew_prefix(llvm_major: int) -> str:
    command = brew_prefix_command(llvm_major)
    if shutil.which("brew") is None:
        raise EnvironmentProblem(
            f"this build needs LLVM {llvm_major} from Homebrew, and brew is not installed",
            hint=f"install Homebrew, then `{brew_install(llvm_major)}`",
        )
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    prefix = done.stdout.strip()
    if done.returncode != 0 or not Path(prefix, "bin", "clang").exists():
        raise EnvironmentProblem(
            f"`{' '.join(command)}` found no LLVM {llvm_major} ({done.stderr.strip()[:200]})",
            hint=brew_install(llvm_major),
        )
    return prefix


@dataclass
class HostRunner:
    source_dir: str
    work_dir: str
    destdir: str
    base_env: dict[str, str] = field(default_factory=dict)
    where: str = "this machine"
    sysroot: portable.Sysroot | None = None

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str], on_line: Callable[[str], None]
    ) -> int:
        merged = {**os.environ, **self.base_env, **env}
        with subprocess.Popen(
            list(argv),
            cwd=self.work_dir,
            env=merged,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as process:
            try:
                assert process.stdout is not None
                for line in process.stdout:
                    on_line(line.rstrip("\n"))
                return process.wait()
            except BaseException:
                process.kill()
                raise

    def describe(self) -> dict[str, object]:
        return {
            "builder": "native",
            "host": platform.platform(),
            "machine": platform.machine(),
            "environment": self.base_env,
        }


class NativeBuilder:
    kind: BuilderKind = "native"

    def check_environment(self) -> None:
        if shutil.which("make") is None:
            raise EnvironmentProblem(
                "make is not installed on this machine",
                hint="install build tools (Debian: build-essential; macOS: xcode-select --install)",
            )

    def identity(self) -> dict[str, object]:
        return {"builder": "native", "host": platform.platform(), "path": os.environ.get("PATH")}

    def build(self, request: BuildRequest) -> BuildResult:
        cell, paths = request.cell, request.paths
        env: dict[str, str] = {}
        extra: tuple[fx.Tool, ...] = ()
        if cell.platform.os == "macos":
            major = llvm_major_needed(cell)
            prefix = brew_prefix(major) if major is not None else None
            keg_compiles = base.toolchain(cell).cc is not None
            env = macos_environment(prefix, os.environ.get("PATH", ""), keg_compiles=keg_compiles)
            if major is not None and prefix is not None:
                extra = macos_llvm_tools(major, prefix)
        elif LINUX_CCACHE_WRAPPERS.is_dir() and shutil.which("ccache"):
            env = {"PATH": f"{LINUX_CCACHE_WRAPPERS}:{os.environ.get('PATH', '')}"}
        steps.start_fresh(paths)
        runner = HostRunner(
            source_dir=str(request.source.path),
            work_dir=str(paths.work),
            destdir=str(steps.staging_dir(paths)),
            base_env=env,
        )
        return steps.execute(request, runner, extra_tools=extra)
