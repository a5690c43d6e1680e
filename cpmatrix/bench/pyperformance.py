"""pyperformance's benchmarks, read from its own data files, and the pure commands that set up a
column's venv and run one benchmark script in it.

We run each ``bm_*/run_benchmark.py`` with pyperf ourselves instead of ``pyperformance run``:
every column then gets the same explicit pyperf settings in rounds that take turns across the
columns (like the other suites), a benchmark that fails is excluded with its reason instead of
ending the column, and nothing reaches for the network. The scripts name their results
themselves, so the names are pyperformance's (``nbody``, ``float``, ``crypto_pyaes``) and set
beside faster-cpython's or speed.python.org's numbers as they are.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cpmatrix.util.errors import UsageError, did_you_mean

TAG = "pyperformance"
"""The pyperf ``tags`` metadata every result gets, so the report has one pyperformance table."""

DEFAULT_BENCHMARKS: tuple[str, ...] = (
    "nbody",
    "float",
    "richards",
    "deltablue",
    "go",
    "chaos",
    "raytrace",
    "spectral_norm",
    "nqueens",
    "fannkuch",
    "json_dumps",
    "json_loads",
    "unpack_sequence",
    "generators",
    "coroutines",
    "deepcopy",
    "regex_v8",
    "crypto_pyaes",
    "tomli_loads",
    "mako",
    "genshi",
)
"""What ``--suites pyperformance`` runs without ``--benchmarks``: pyperformance's whole default
set (~95 benchmarks) takes hours per column on 2 cores even with --fast, so a fixed cross
section: the interpreter-bound classics faster-cpython quotes (nbody, float, richards, deltablue,
go, chaos, raytrace, spectral_norm, nqueens, fannkuch), serialization, generators and
coroutines, regex, and four with third-party requirements (pure-Python wheels, a pure-Python
sdist and a C-extension sdist) so the wheelhouse and the per-interpreter wheel builds are part
of every run."""

CI_BENCHMARKS: tuple[str, ...] = ("nbody", "float", "unpack_sequence", "crypto_pyaes", "genshi")
"""The small fixed subset CI runs: three quick interpreter-bound benchmarks (nbody and float are
the ones faster-cpython's JIT figures name), crypto_pyaes whose only requirement is an sdist
(built into a wheel by each interpreter), and genshi from wheels in the wheelhouse, which
Genshi 0.7.7 cannot run on 3.15 (``ast.Expression`` needs its ``body`` there): an exclusion
with a real reason."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Benchmark:
    """One pyperformance benchmark: its script, the options that select it, its requirements."""

    name: str
    directory: str
    """``bm_<base>`` under pyperformance's ``data-files/benchmarks``."""
    script: str
    extra_opts: tuple[str, ...]
    requirements: tuple[str, ...]

    @property
    def requirements_file(self) -> str | None:
        return f"{self.directory}/requirements.txt" if self.requirements else None


def read_requirements(path: Path) -> tuple[str, ...]:
    if not path.is_file():
        return ()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return tuple(line for line in lines if line)


def _manifest_entries(manifest: str) -> list[tuple[str, str]]:
    """``(name, metafile)`` rows of the ``[benchmarks]`` section of pyperformance's MANIFEST."""
    rows, section = [], ""
    for raw in manifest.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[benchmarks]" and line != "name\tmetafile":
            name, _, metafile = line.partition("\t")
            rows.append((name.strip(), metafile.strip()))
    return rows


def _pyperformance_table(path: Path) -> dict[str, object]:
    data = tomllib.loads(path.read_text())
    table = data.get("tool", {}).get("pyperformance", {})
    return table if isinstance(table, dict) else {}


def catalog(benchmarks_dir: Path) -> dict[str, Benchmark]:
    """Every benchmark pyperformance's MANIFEST lists, by name."""
    found: dict[str, Benchmark] = {}
    for name, metafile in _manifest_entries((benchmarks_dir / "MANIFEST").read_text()):
        base = metafile.removeprefix("<local").removesuffix(">").lstrip(":") or name
        directory = f"bm_{base}"
        base_table = _pyperformance_table(benchmarks_dir / directory / "pyproject.toml")
        own = benchmarks_dir / directory / f"bm_{name}.toml"
        table = {**base_table, **(_pyperformance_table(own) if own.is_file() else {})}
        extra = table.get("extra_opts", [])
        found[name] = Benchmark(
            name=name,
            directory=directory,
            script=str(table.get("runscript", "run_benchmark.py")),
            extra_opts=tuple(str(x) for x in extra) if isinstance(extra, list) else (),
            requirements=read_requirements(benchmarks_dir / directory / "requirements.txt"),
        )
    return found


def parse_benchmarks(text: str, known: Sequence[str]) -> tuple[str, ...]:
    """``nbody,float`` → names; empty means :data:`DEFAULT_BENCHMARKS`; ``ci`` the CI subset."""
    words = [w.strip() for w in text.split(",") if w.strip()]
    if not words:
        return DEFAULT_BENCHMARKS
    if words == ["ci"]:
        return CI_BENCHMARKS
    for word in words:
        if word not in known:
            raise UsageError(
                f"pyperformance benchmark {word!r} is not in the lock",
                hint=did_you_mean(word, tuple(known))
                or "the lock lists the benchmarks one may pick; add one with "
                "`invoke bench-lock --benchmarks ...` (pyperformance's names: nbody,float,...)",
            )
    return tuple(dict.fromkeys(words))


def venv_command(interpreter: str, venv: str) -> list[str]:
    """A venv without ensurepip (Debian ships it apart, in pythonX.Y-venv): pip comes from the
    wheelhouse's pinned pip wheel, the same for every column."""
    return [interpreter, "-m", "venv", "--without-pip", venv]


def pip_command(python: str, pip_wheel: str, *args: str) -> list[str]:
    """pip run straight from its wheel (a wheel is a zip pip can run from)."""
    return [python, f"{pip_wheel}/pip", *PIP_ISOLATED, *args]


PIP_ISOLATED = ("--isolated", "--disable-pip-version-check", "--no-cache-dir")
"""No pip configuration or environment of the place takes part (a host's pip.conf may add
find-links or constraints)."""


def offline(find_links: Sequence[str]) -> list[str]:
    return ["--no-index", *(f"--find-links={path}" for path in find_links)]


def install_command(
    python: str, pip_wheel: str, requirements: str, find_links: Sequence[str]
) -> list[str]:
    return pip_command(python, pip_wheel, "install", *offline(find_links), "-r", requirements)


def wheel_command(
    python: str, pip_wheel: str, requirements: str, find_links: Sequence[str], out: str
) -> list[str]:
    """Wheels for every requirement: found ones are copied, sdists built by this interpreter
    (build dependencies from the same offline wheelhouse)."""
    return pip_command(
        python, pip_wheel, "wheel", *offline(find_links), "--wheel-dir", out, "-r", requirements
    )


def run_command(
    python: str,
    script: str,
    benchmark: Benchmark,
    output: str,
    pyperf_options: Sequence[str],
) -> list[str]:
    """One round of one benchmark, appending to its pyperf file."""
    return [python, "-u", script, *benchmark.extra_opts, *pyperf_options, "--append", output]
