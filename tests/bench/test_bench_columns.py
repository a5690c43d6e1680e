"""Columns, suites and commands of `invoke bench`: pure logic, no interpreter runs here."""

from __future__ import annotations

import json
from pathlib import Path

import artifactkit
import pytest

from cpmatrix.bench import Request, baseline_of, run
from cpmatrix.bench.columns import (
    Column,
    DebianImage,
    HostOrBuilder,
    expand_env,
    for_cell,
    parse_column,
    preset,
)
from cpmatrix.bench.suites import FAST, Suite, parse_suites, pyperf_command
from cpmatrix.matrix import matrixfile
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util.errors import UsageError


def test_column_spec_with_image_and_switches() -> None:
    column = parse_column(
        "name=jit on,image=some/image:tag,interpreter=/usr/bin/python3.14,"
        "env=PYTHON_JIT=1,env=PYTHON_GIL=0"
    )
    assert column.name == "jit on"
    assert column.image == "some/image:tag"
    assert column.interpreter == "/usr/bin/python3.14"
    assert column.env == (("PYTHON_JIT", "1"), ("PYTHON_GIL", "0"))
    assert column.slug == "jit_on"
    assert column.where == "image some/image:tag"


def test_column_spec_with_debian_packages_and_default_name() -> None:
    column = parse_column("interpreter=/usr/bin/python3.15,apt=sid:python3.15+python3.15-dev")
    assert column.name == "python3.15"
    assert column.image == DebianImage("sid", ("python3.15", "python3.15-dev"))
    assert column.where == "Debian sid with python3.15, python3.15-dev"


def test_column_spec_errors_say_what_to_write() -> None:
    with pytest.raises(UsageError) as unknown:
        parse_column("interpeter=/usr/bin/python3")
    assert "interpreter" in (unknown.value.hint or "")
    with pytest.raises(UsageError, match="names no interpreter"):
        parse_column("name=x,image=y")


def test_env_switch_splits_every_column() -> None:
    base = [Column(name="3.14", interpreter="p"), Column(name="ft", interpreter="q")]
    columns = expand_env(base, ["PYTHON_JIT=0,1"])
    assert [c.name for c in columns] == [
        "3.14 PYTHON_JIT=0",
        "3.14 PYTHON_JIT=1",
        "ft PYTHON_JIT=0",
        "ft PYTHON_JIT=1",
    ]
    assert columns[1].env == (("PYTHON_JIT", "1"),)
    with pytest.raises(UsageError, match="VAR=VALUE"):
        expand_env(base, ["PYTHON_JIT"])


def test_debian_jit_preset_is_four_columns_of_two_interpreters() -> None:
    columns = preset("debian-jit")
    assert [c.name for c in columns] == [
        "3.14 JIT off",
        "3.14 JIT on",
        "3.15 JIT off",
        "3.15 JIT on",
    ]
    assert {c.interpreter for c in columns} == {"/usr/bin/python3.14", "/usr/bin/python3.15"}
    assert [dict(c.env)["PYTHON_JIT"] for c in columns] == ["0", "1", "0", "1"]
    with pytest.raises(UsageError) as unknown:
        preset("debian-jti")
    assert "did you mean 'debian-jit'" in (unknown.value.hint or "")


def test_baseline_is_default_else_first() -> None:
    columns = (Column(name="jit", interpreter="a"), Column(name="default", interpreter="b"))
    assert baseline_of(columns, None) == "default"
    assert baseline_of(columns[:1], None) == "jit"
    assert baseline_of(columns, "jit") == "jit"
    with pytest.raises(UsageError, match="not a column"):
        baseline_of(columns, "tailcall")


def test_an_unbuilt_cell_says_how_to_build_it(tmp_path: Path) -> None:
    paths = CellPaths.of("cpython-3.13.5-jit-linux-x86_64", tmp_path)
    with pytest.raises(UsageError, match="not built") as error:
        for_cell("jit", paths, "python3.13")
    assert "invoke build" in (error.value.hint or "")
    (paths.install / "bin").mkdir(parents=True)
    (paths.install / "bin" / "python3.13").write_text("")
    column = for_cell("jit", paths, "python3.13")
    assert column.image == HostOrBuilder()
    assert column.mounts == (paths.install,)
    paths.incomplete_marker.write_text("")
    with pytest.raises(UsageError, match="not built"):
        for_cell("jit", paths, "python3.13")


def test_nothing_to_benchmark_and_duplicate_names_are_usage_errors(tmp_path: Path) -> None:
    request = Request(title="t", columns=(), suites=tuple(Suite), settings=FAST, out_dir=tmp_path)
    with pytest.raises(UsageError, match="nothing to benchmark"):
        run(request)
    twice = (Column(name="a b", interpreter="x"), Column(name="a_b", interpreter="y"))
    with pytest.raises(UsageError, match="two columns"):
        run(Request(title="t", columns=twice, suites=(), settings=FAST, out_dir=tmp_path))


def test_suites_parse_and_reject_unknown_names() -> None:
    assert parse_suites("") == (Suite.SINGLE, Suite.SCALING, Suite.STARTUP)
    assert parse_suites("release-claims") == (Suite.RELEASE_CLAIMS,)
    assert parse_suites("release-claims") == (Suite.RELEASE_CLAIMS,)
    assert parse_suites("startup, single-thread,startup") == (Suite.STARTUP, Suite.SINGLE)
    with pytest.raises(UsageError) as unknown:
        parse_suites("scalling")
    assert "did you mean 'scaling'" in (unknown.value.hint or "")


def test_pyperf_command_pins_sample_sizes_and_passes_switches_to_workers() -> None:
    command = pyperf_command(
        "/usr/bin/python3.14",
        Suite.SCALING,
        "/out/x.json",
        FAST,
        ["PYTHON_JIT", "PYTHON_GIL"],
        max_workers=2,
    )
    assert command[0] == "/usr/bin/python3.14"
    assert command[1].endswith("programs/scaling.py")
    # fast: 3 processes in 3 rounds, each round appending its runs to the suite's file
    for option, value in (("--processes", "1"), ("--values", "3"), ("--warmups", "1")):
        assert command[command.index(option) + 1] == value
    assert command[command.index("--append") + 1] == "/out/x.json"
    # pyperf copies PYTHON_GIL to its workers by itself, but not PYTHON_JIT
    assert "--inherit-environ=PYTHON_JIT" in command
    assert command[command.index("--max-workers") + 1] == "2"
    single = pyperf_command("p", Suite.SINGLE, "/o.json", FAST, [], max_workers=2)
    assert not any(part.startswith("--inherit-environ") for part in single)
    assert "--max-workers" not in single


def test_options_become_columns_settings_and_a_place_for_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cpmatrix.bench import plan

    monkeypatch.setenv("CPMATRIX_BUILD_DIR", str(tmp_path))
    model = matrixfile.load()
    for cell_id, executable in (
        ("cpython-3.13.5-default-linux-x86_64", "python3.13"),
        ("cpython-3.13.5-freethreaded-linux-x86_64", "python3.13t"),
    ):
        paths = CellPaths.of(cell_id, tmp_path)
        (paths.install / "bin").mkdir(parents=True)
        (paths.install / "bin" / executable).write_text("")
        record = artifactkit.build_record(model.cell_by_id(cell_id))
        paths.record.write_text(json.dumps(record))
    request = plan.request(
        plan.Options(
            python="3.13",
            variants="default,freethreaded",
            env=("PYTHON_GIL=1,0",),
            fast=True,
            from_build=True,
        )
    )
    assert [c.name for c in request.columns] == [
        "default PYTHON_GIL=1",
        "default PYTHON_GIL=0",
        "freethreaded PYTHON_GIL=1",
        "freethreaded PYTHON_GIL=0",
    ]
    assert request.columns[2].interpreter.endswith(
        "cpython-3.13.5-freethreaded-linux-x86_64/install/bin/python3.13t"
    )
    assert request.out_dir == tmp_path / "bench" / "python-3.13"
    assert request.settings.name == "fast"
    facts = request.builds["cpython-3.13.5-freethreaded-linux-x86_64"]
    assert facts["profile"] == "release"
    assert facts["configure"] == ["/src/configure", "--enable-option-checking=fatal"]
    assert facts["build_seconds"] == 106.8

    sid = plan.request(plan.Options(preset="debian-jit", suites="startup"))
    assert len(sid.columns) == 4 and sid.suites == (Suite.STARTUP,)
    assert sid.out_dir == tmp_path / "bench" / "debian-jit"
    assert sid.settings.name == "full"


def test_targets_mount_pyperf_and_the_programs_where_they_lie(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cpmatrix.bench.places import PROGRAMS, pyperf_site, python_path, target_for

    monkeypatch.setenv("CPMATRIX_CACHE", str(tmp_path))
    site = pyperf_site()
    assert (site / "pyperf" / "__init__.py").is_file()
    assert not list(site.rglob("__pycache__"))
    assert python_path() == f"{site}:{PROGRAMS}"

    boxed = target_for(parse_column("interpreter=/usr/bin/python3.14,image=some/image"))
    assert boxed.image == "some/image" and boxed.interpreter == "/usr/bin/python3.14"
    assert {(m.source, m.target, m.read_only) for m in boxed.mounts} == {
        (PROGRAMS, str(PROGRAMS), True),
        (site, str(site), True),
    }
    assert boxed.cap_add == ()

    monkeypatch.chdir(tmp_path)
    here = target_for(parse_column("interpreter=venv/bin/python"))
    assert here.image is None and here.interpreter == str(tmp_path / "venv/bin/python")
    assert target_for(parse_column("interpreter=python3")).interpreter == "python3"
