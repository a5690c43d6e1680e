"""Where a column's interpreter runs, through verification's own abstraction
(:mod:`cpmatrix.verify.runner`: a Target, and a Place that runs commands with a timeout).

pyperf is pure Python: the host's copy (sources only, cached by version) and the benchmark
programs are mounted read-only where they lie on the host and put on ``PYTHONPATH``, so nothing
is installed into the interpreter under test and no network is needed.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pyperf
from filelock import FileLock

from cpmatrix.bench.columns import Artifact, Column, DebianImage, HostOrBuilder
from cpmatrix.engine.containers import Mount
from cpmatrix.matrix import layout
from cpmatrix.verify.runner import Target, local_target

PROGRAMS = Path(__file__).resolve().parent / "programs"


def pyperf_site() -> Path:
    """A directory holding the host's pyperf package (sources only), keyed by its version."""
    source = Path(pyperf.__file__).resolve().parent
    site = layout.cache_dir() / "bench" / f"pyperf-{pyperf.__version__}"
    if (site / "pyperf" / "__init__.py").is_file():
        return site
    site.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(site) + ".lock"):
        if not (site / "pyperf" / "__init__.py").is_file():
            staging = Path(tempfile.mkdtemp(prefix=".pyperf-", dir=site.parent))
            ignore = shutil.ignore_patterns("__pycache__", "tests", "*.pyc")
            shutil.copytree(source, staging / "pyperf", ignore=ignore)
            staging.replace(site)
    return site


def python_path() -> str:
    return f"{pyperf_site()}:{PROGRAMS}"


def target_for(column: Column) -> Target:
    """The verification Target for a column, with the programs and pyperf mounted."""
    shared = tuple(Mount(path, str(path)) for path in (PROGRAMS, pyperf_site()))
    match column.image:
        case None:
            here = column.interpreter  # commands run in a scratch directory: no relative paths
            absolute = str(Path(here).absolute()) if "/" in here else here
            return Target(interpreter=absolute, description=column.name, cap_add=())
        case HostOrBuilder():
            local = local_target(Path(column.interpreter), description=column.name)
            extra = shared if local.image else ()
            return replace(local, mounts=(*local.mounts, *extra), cap_add=())
        case Artifact(archive=archive, top=top, interpreter=inside, consumer=consumer):
            from cpmatrix.artifacts.consumers import artifact_target
            from cpmatrix.engine.image import base_image

            unpacked = artifact_target(
                archive, top=top, interpreter=inside, image=base_image(consumer).tag
            )
            return replace(
                unpacked,
                mounts=(*unpacked.mounts, *shared),
                description=column.name,
                cap_add=(),
            )
        case DebianImage(suite=suite, packages=packages):
            from cpmatrix.engine.image import debian_image_with

            image = debian_image_with(suite, packages).tag
        case str() as image:
            pass
    own = tuple(Mount(path, str(path)) for path in column.mounts)
    return Target(
        interpreter=column.interpreter,
        image=image,
        mounts=(*own, *shared),
        description=column.name,
        cap_add=(),
    )
