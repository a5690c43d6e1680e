"""cpmatrix's command line: `invoke --list`, `invoke <task> --help`.

Each task parses its options, calls the core in ``cpmatrix/``, prints, and turns a
:class:`cpmatrix.util.errors.CpmatrixError` into a message and its exit code.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from cpmatrix import artifacts, cli, pipeline
from cpmatrix.matrix import layout, matrixfile, reports, selection
from cpmatrix.matrix.selection import CellOptions
from cpmatrix.sources import SourceCache, prepare
from cpmatrix.sources import clean as clean_sources
from cpmatrix.util import console
from cpmatrix.util.errors import ArtifactError, CpmatrixError, UsageError, VerificationFailed
from cpmatrix.util.signals import sigterm_as_interrupt

F = TypeVar("F", bound=Callable[..., Any])


def reported(function: F) -> F:
    """Errors become `error: …` plus a hint, and the error kind's exit code; an exception with
    no message of its own gets one from :func:`cpmatrix.cli.as_error` (traceback to a log).
    SIGTERM is handled like Ctrl-C."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with sigterm_as_interrupt():
                return function(*args, **kwargs)
        except CpmatrixError as error:
            problem = error
        except KeyboardInterrupt:
            console.error("interrupted")
            raise Exit(code=130) from None
        except Exit:
            raise
        except Exception as error:  # the one place any other exception becomes a message
            problem = cli.as_error(error)
        console.error(problem.render())
        raise Exit(code=problem.exit_code) from None

    return wrapper  # type: ignore[return-value]


FILTER_HELP = {
    "python": "CPython minor or release, comma-separated (3.13,3.14)",
    "variant": "variant names or +-joined features, comma-separated (jit,freethreaded+tailcall)",
    "platform": "platform names, comma-separated (linux-x86_64)",
    "profile": "release, optimized or debug, comma-separated",
    "matrix": selection.HELP["matrix"],
}


@task(
    help={
        **FILTER_HELP,
        "format": "table (default), json, github (strategy.matrix object) or github-shards",
        "shard": "with --format github: emit shard N of M (N/M) of a selection over 256 jobs",
        "check_toolchains": "check on paper that each selected cell's toolchain is installed "
        "for its runner (build-cells.yml's steps, docker/Dockerfile); fail naming the cell",
    }
)
@reported
def matrix(
    c: Context,
    format: str = "table",
    python: str = "",
    variant: str = "",
    platform: str = "",
    profile: str = "",
    shard: str = "",
    matrix: str = "",
    check_toolchains: bool = False,
) -> None:
    """Show the resolved build cells of matrix.yaml (and those skipped, with why)."""
    chosen = reports.parse_format(format)
    model = matrixfile.load(matrix or None)
    filters = model.selection(python=python, variant=variant, platform=platform, profile=profile)
    resolution = model.expand(filters)
    if check_toolchains:
        from cpmatrix.matrix import toolcheck

        results = toolcheck.check(resolution.cells)
        print(toolcheck.table(results))
        sys.stdout.flush()
        toolcheck.require_all(results)
        console.info(f"every one of {len(results)} cells gets the toolchain it needs")
        return
    print(reports.render(resolution, chosen, cli.shard(shard) if shard else None))
    sys.stdout.flush()


@task(
    help={
        "python": "CPython minor or release from matrix.yaml (3.13 or 3.13.5)",
        "source": "a release tarball (path or URL) or a CPython checkout to use instead of "
        "the cache / python.org / Debian",
        "matrix": FILTER_HELP["matrix"],
    }
)
@reported
def source(c: Context, python: str, source: str = "", matrix: str = "") -> None:
    """Fetch, verify and extract CPython's source; print the read-only tree's path."""
    release = matrixfile.load(matrix or None).python(python)
    tree = prepare(release, source=source or None)
    patches = ", ".join(tree.patches) or "none"
    console.info(f"source: tree key {tree.key}; patches: {patches}")
    print(tree.path)
    sys.stdout.flush()


CLEANABLE = {"sources": "the source cache: tarballs and extracted trees"}


@task(help={"sources": f"remove {CLEANABLE['sources']} (layout.cache_dir()/sources)"})
@reported
def clean(c: Context, sources: bool = False) -> None:
    """Remove cached things; say which with a flag."""
    chosen = [name for name, wanted in (("sources", sources),) if wanted]
    if not chosen:
        listing = ", ".join(f"--{name} ({what})" for name, what in CLEANABLE.items())
        raise UsageError("nothing to clean", hint=f"choose: {listing}")
    if sources:
        cache = SourceCache.default()
        freed = clean_sources(cache)
        console.info(f"removed {cache.root} ({freed / 1e6:.1f} MB)")


@task(
    help={
        "python": "with --variants: the CPython of the built cells (3.13 or 3.13.5)",
        "variants": "cells to compare, comma-separated (default,jit,freethreaded); "
        "VARIANT:PROFILE picks a profile per cell (default:optimized). Each column is the "
        "cell's dist/ artifact (`invoke build` publishes it), unpacked in a bare Debian image",
        "profile": "profile of those cells (default: release)",
        "consumer": "the bare Debian release artifacts are unpacked in (default: the platform's "
        "newest consumer in matrix.yaml)",
        "from_build": "benchmark the cells' build/ trees instead of their dist/ artifacts",
        "interpreter": "add a column: this interpreter (on this machine, or inside --image)",
        "image": "run --interpreter (default python3) inside this Docker image",
        "column": "add a column (repeatable): name=N,interpreter=PATH[,image=IMAGE | "
        ",apt=SUITE:PKG+PKG][,env=VAR=VALUE...]; without image/apt it runs here",
        "preset": "add preset columns: debian-jit = Debian unstable's python3.14 and "
        "python3.15 with PYTHON_JIT=0 and =1 (four columns)",
        "env": "split every column by a run-time switch (repeatable): PYTHON_JIT=0,1 or "
        "PYTHON_GIL=1,0 makes one column per value",
        "suites": "single-thread, scaling, startup, pyperformance, release-claims (what 3.14's "
        "What's New promises, judged against a 3.13 column), comma-separated (default: "
        "single-thread, scaling, startup)",
        "benchmarks": "pyperformance suite: its benchmarks, comma-separated (nbody,float,...; "
        "`ci` = the CI subset; default: a fixed set of 21, see cpmatrix/bench/pyperformance.py)",
        "fast": "CI-sized run: 3 pyperf processes x 3 values (in 3 rounds taking turns across "
        "the columns), fewer import-time repeats",
        "baseline": "column to compare against (default: `default`, else the first column)",
        "name": "report name: results go to build/bench/<name>/ (default from the options)",
        "max_workers": "scaling suite: up to this many workers (default: the machine's cores)",
        "matrix": FILTER_HELP["matrix"],
        "verbose": "show everything the interpreters print (pyperf's own lines)",
    },
    iterable=["column", "env"],
)
@reported
def bench(
    c: Context,
    python: str = "",
    variants: str = "",
    profile: str = "",
    consumer: str = "",
    from_build: bool = False,
    interpreter: str = "",
    image: str = "",
    column: list[str] | None = None,
    preset: str = "",
    env: list[str] | None = None,
    suites: str = "",
    benchmarks: str = "",
    fast: bool = False,
    baseline: str = "",
    name: str = "",
    max_workers: int = 0,
    matrix: str = "",
    verbose: bool = False,
) -> None:
    """Benchmark interpreters side by side with pyperf; report, chart and JSON in build/bench/.

    Columns: built cells (--python 3.13 --variants default,jit,freethreaded), any interpreter
    (--interpreter PATH [--image IMAGE]), --column specs and --preset debian-jit; --env splits
    each column by a run-time switch. Every column is compared with the baseline: ratio and
    significance as `pyperf compare_to` gives them, plus the geometric mean.

    Examples:
      invoke bench --fast --python=3.13 --variants default,jit,freethreaded,default:optimized
      invoke bench --fast --preset debian-jit
      invoke bench --variants freethreaded --env PYTHON_GIL=1,0
      invoke bench --suites release-claims --python=3.13 --variants default --preset debian-jit
      invoke bench --fast --suites pyperformance --benchmarks nbody,float --preset debian-jit
      invoke bench --column "name=sid 3.14,apt=sid:python3.14,interpreter=/usr/bin/python3.14"
    """
    from cpmatrix import bench as bench_suites
    from cpmatrix.bench import plan

    options = plan.Options(
        python=python,
        variants=variants,
        profile=profile,
        consumer=consumer,
        from_build=from_build,
        interpreter=interpreter,
        image=image,
        columns=tuple(column or ()),
        preset=preset,
        env=tuple(env or ()),
        suites=suites,
        benchmarks=benchmarks,
        fast=fast,
        baseline=baseline,
        name=name,
        matrix=matrix,
        max_workers=max_workers,
    )
    with console.using(console.Terminal(verbose=verbose)):
        outputs = bench_suites.run(plan.request(options))
    print(outputs.tables)
    print(f"\nreport: {outputs.markdown}\n        {outputs.json}")
    for path in outputs.charts:
        print(f"chart:  {path}")


@task(
    help={
        **selection.HELP,
        "all": "package every cell built under the build root; list those that cannot be",
    }
)
@reported
def package(
    c: Context,
    python: str = "",
    variant: str = "",
    platform: str = "",
    profile: str = "",
    all: bool = False,
    matrix: str = "",
) -> None:
    """Publish built, verified cells into dist/ once each archive passed the portability gate and
    was proven in every bare consumer image of its platform: archives, manifest, SHA256SUMS,
    index.json, uv/<variant>.json."""
    cells = CellOptions(python=python, variant=variant, platform=platform, profile=profile)
    model = matrixfile.load(matrix or None)
    if all:
        chosen = artifacts.built_cells(model)
        if not chosen:
            raise UsageError(f"no built cells under {layout.build_root()}", hint="invoke build …")
    else:
        cell = cells.one(model)
        chosen = [(cell, layout.CellPaths.of(cell.id))]
    refused = 0
    for cell, paths in chosen:
        try:
            print(artifacts.release(cell, paths).artifact.archive)
        except CpmatrixError as error:
            if not all:
                raise
            console.error(error.render())
            refused += 1
    sys.stdout.flush()
    if refused:
        raise ArtifactError(f"{refused} of {len(chosen)} built cells were not packaged")


@task(
    help={
        "check": "re-hash every file dist/ records and report each that does not match",
        "dist": "the dist directory (default: dist/, or $CPMATRIX_DIST_DIR)",
        "base_url": "where dist/ is published, for the URLs in dist/uv/<variant>.json "
        "(default: $CPMATRIX_UV_BASE_URL, else file:// into dist/)",
    }
)
@reported
def index(c: Context, check: bool = False, dist: str = "", base_url: str = "") -> None:
    """Rewrite dist/SHA256SUMS, dist/index.json and dist/uv/*.json from the manifests (or
    --check them)."""
    where = Path(dist) if dist else layout.dist_root()
    if not where.is_dir():
        raise UsageError(f"{where} does not exist", hint="invoke build or invoke package first")
    if check:
        problems = artifacts.check(where)
        for problem in problems:
            console.error(str(problem))
        if problems:
            raise ArtifactError(
                f"{len(problems)} file(s) in {where} do not match what is recorded",
                hint="rebuild or re-download them; never edit a published artifact",
            )
        console.info(f"{where}: every file matches its recorded sha256")
        return
    entries = artifacts.write_index(where, base_url=base_url or None)
    console.info(f"{where}: index.json and SHA256SUMS list {len(entries)} artifact(s)")


BUILD_HELP = {
    **selection.HELP,
    "builder": "docker (Linux default: in the builder image, hermetic) or native (this machine; "
    "macOS default); windows cells use PCbuild",
    "jobs": "total make -j budget shared by all cells built at once (default: all cores)",
    "all": "build every matrix cell for this platform (narrow with the filters)",
    "verbose": "show the raw build log instead of phase progress",
    "no_verify": "skip verification of the built interpreter",
    "source": "a release tarball (path or URL) or a CPython checkout instead of the matrix's",
    "force": "rebuild cells whose build is already complete and up to date",
    "dry_run": "stop before configure: for each cell, say whether it would build (source "
    "cached or reachable, builder image, toolchain preflight) or name the missing piece",
}


@task(help=BUILD_HELP)
@reported
def build(
    c: Context,
    python: str = "",
    variant: str = "",
    platform: str = "",
    profile: str = "",
    builder: str = "",
    jobs: int = 0,
    all: bool = False,
    verbose: bool = False,
    no_verify: bool = False,
    source: str = "",
    force: bool = False,
    dry_run: bool = False,
    matrix: str = "",
) -> None:
    """Build CPython cells: staged install, build.log and build.json under build/<cell-id>/."""

    model = matrixfile.load(matrix or None)
    chosen = CellOptions(python=python, variant=variant, platform=platform, profile=profile)
    cells = chosen.every(model) if all else [chosen.one(model)]
    options = pipeline.Options(
        builder=pipeline.parse_builder(builder),
        jobs=jobs or None,
        verify=not no_verify,
        source=source or None,
        force=force,
    )
    if dry_run:
        from cpmatrix.pipeline import dryrun

        with console.using(console.Terminal(verbose=verbose)):
            watch = console.Stopwatch()
            planned = dryrun.plan(cells, options)
            print(dryrun.report(planned))
            sys.stdout.flush()
            console.info(f"dry run of {len(planned)} cells in {console.elapsed(watch.seconds)}")
            dryrun.require_all(planned)
        return
    with console.using(console.Terminal(verbose=verbose)):
        outcomes = pipeline.run(cells, options)
        print(pipeline.report(outcomes))
    sys.stdout.flush()
    code = pipeline.exit_code(outcomes)
    if code:
        raise Exit(code=code)


@task(
    help={
        "bootstrap": "make the Debian base with debootstrap from this machine's apt mirror, "
        "even if a base image is present",
        "verbose": "show docker build's output",
    }
)
@reported
def image(c: Context, bootstrap: bool = False, verbose: bool = False) -> None:
    """Build (or find) the Linux builder image from docker/Dockerfile; print its tag."""
    from cpmatrix.engine import image as images

    with console.using(console.Terminal(verbose=verbose)):
        ref = images.builder_image(rebuild_base=bootstrap)
    console.info(f"builder image {ref.tag} ({ref.how}), id {ref.id}")
    print(ref.tag)


@task(
    help={
        "python": "CPython minor of the measured cell (default: 3.13)",
        "variant": "variant of the measured cell (default: default)",
        "jobs": "make -j for every build (default: all cores)",
    }
)
@reported
def bench_build(c: Context, python: str = "3.13", variant: str = "default", jobs: int = 0) -> None:
    """Measure invoke build's overhead vs. the same build by hand, and a warm ccache (3 builds)."""
    matrixfile.load().cell(python=python, variant=variant, platform="linux-x86_64")
    arguments = [f"--python={python}", f"--variant={variant}"]
    run_script("bench_build.py", [*arguments, f"--jobs={jobs}"] if jobs else arguments)


def run_script(name: str, arguments: list[str]) -> None:
    """Run scripts/<name> with this Python; its exit code becomes the task's."""
    script = Path(__file__).parent / "scripts" / name
    done = subprocess.run([sys.executable, str(script), *arguments], check=False)
    if done.returncode != 0:
        raise Exit(code=done.returncode)


@task(
    help={
        "benchmarks": "pyperformance benchmarks the lock covers, comma-separated (default: the "
        "bench suite's default set and the CI subset)",
    }
)
@reported
def bench_lock(c: Context, benchmarks: str = "") -> None:
    """Regenerate cpmatrix/bench/pyperformance-lock.json with pip from PyPI (then commit it)."""
    run_script("pyperformance_lock.py", [f"--benchmarks={benchmarks}"] if benchmarks else [])


VERIFY_HELP = {
    **selection.HELP,
    "python": "with --variant: the cell's CPython (default: newest); with --interpreter: its "
    "version when it cannot be read (3.14 or 3.14.10)",
    "variant": "verify the built cell of this variant (build/<cell-id>/install)",
    "interpreter": "verify this interpreter instead of a built cell (a path; inside --image if "
    "given)",
    "expect": "with --interpreter: the variant it claims to be, a matrix.yaml name or +-joined "
    "features (jit-off, freethreaded+tailcall)",
    "image": "run --interpreter inside this container image (a distribution's python, "
    "another team's build); with --artifact, the one image to prove it in",
    "where": "auto (default: the builder image when this host's glibc is too old), host, "
    "or builder",
    "tier": "stdlib test tier after the checks: smoke (default), pgo, full or none",
    "artifact": "verify a published archive (dist/<cell-id>.tar.gz, its manifest beside it) "
    "unpacked in bare consumer images: --image, else every image matrix.yaml names for its "
    "platform",
    "no_behaviour": "skip the behaviour checks (threads witness, remote_exec, venv, relocation)",
    "verbose": "show detail lines",
}


def verify_artifact(archive: Path, image: str, matrix: str, verbose: bool) -> None:
    """``invoke verify --artifact``: the archive unpacked and verified in bare images."""
    from cpmatrix.artifacts import consumers

    model = matrixfile.load(matrix or None)
    with console.using(console.Terminal(verbose=verbose)):
        results = consumers.verify_archive(archive, model, image=image or None)
    for result in results:
        print(f"\n{result.consumer.name} ({result.consumer.image}):\n{result.report.table()}")
        print(result.report.summary())
    sys.stdout.flush()
    if not all(result.report.passed for result in results):
        raise Exit(code=VerificationFailed.exit_code)


@task(help=VERIFY_HELP)
@reported
def verify(
    c: Context,
    python: str = "",
    variant: str = "",
    platform: str = "",
    profile: str = "",
    interpreter: str = "",
    expect: str = "",
    image: str = "",
    where: str = "auto",
    tier: str = "smoke",
    artifact: str = "",
    no_behaviour: bool = False,
    verbose: bool = False,
    matrix: str = "",
) -> None:
    """Prove an interpreter is exactly what it claims: every feature it has, none it lacks."""
    from cpmatrix.verify import cli

    if artifact:
        verify_artifact(Path(artifact), image, matrix, verbose)
        return
    with console.using(console.Terminal(verbose=verbose)):
        report, written = cli.verify(
            matrixfile.load(matrix or None),
            python=python,
            variant=variant,
            platform=platform,
            profile=profile,
            interpreter=interpreter,
            expect=expect,
            image=image,
            where=where,
            tier=tier,
            behaviour=not no_behaviour,
        )
    print(report.table())
    print(f"\n{report.summary()}\nreport: {written}")
    sys.stdout.flush()
    if not report.passed:
        raise Exit(code=cli.FAILED_EXIT_CODE)
