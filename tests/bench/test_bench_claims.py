"""The release-claims suite: what Python 3.14's What's New promises, judged per column against a
3.13 column. A real run (Debian trixie's 3.13.5 against Debian unstable's 3.14 and 3.15, in
containers without network), and the percentile, reference and verdict rules on pyperf data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyperf
import pytest

from cpmatrix.bench import claims, claims_report, gcpauses
from cpmatrix.bench.claims import CLAIMS, GC_CLAIM, Verdict, evaluate, reference
from cpmatrix.bench.gcpauses import nearest_rank
from cpmatrix.bench.importtime import MODULES
from cpmatrix.bench.suites import FAST, Suite, import_modules

TINY = replace(
    FAST, name="tiny", processes=2, rounds=2, values=2, warmups=0, import_repeat=2, timeout=600
)
VERDICTS = {v.value for v in Verdict}


@pytest.mark.docker
def test_trixie_313_against_sid_314_and_315_judges_every_claim(
    docker_engine: None, tmp_path: Path
) -> None:
    from cpmatrix.bench import Request, run
    from cpmatrix.bench.columns import SID_PYTHONS, Column, DebianImage
    from cpmatrix.engine.containers import leftover_containers

    trixie = Column(
        name="trixie 3.13",
        interpreter="/usr/bin/python3.13",
        image=DebianImage("trixie", ("python3.13",)),
    )
    sid = [
        Column(name=f"sid {v}", interpreter=f"/usr/bin/python{v}", image=SID_PYTHONS)
        for v in ("3.14", "3.15")
    ]
    request = Request(
        title="claims",
        columns=(*sid, trixie),
        suites=(Suite.RELEASE_CLAIMS,),
        settings=TINY,
        out_dir=tmp_path,
    )
    outputs = run(request)

    report = json.loads(outputs.json.read_text())
    found = report["release_claims"]
    assert report["baseline"] == "sid 3.14"
    assert found["reference"] == "trixie 3.13"
    assert "the first 3.13 column" in found["reference_reason"]
    assert [c["key"] for c in found["claims"]] == [c.key for c in CLAIMS]
    for claim in found["claims"]:
        by_column = {c["column"]: c for c in claim["columns"]}
        assert by_column["trixie 3.13"]["verdict"] == "reference"
        for name in ("sid 3.14", "sid 3.15"):
            judged = by_column[name]
            assert judged["version"].startswith(name.removeprefix("sid ") + ".")
            assert judged["verdict"] in {"held", "did not hold"}, judged
            assert {m["benchmark"] for m in judged["measured"]} == set(
                next(c.benchmarks for c in CLAIMS if c.key == claim["key"])
            )
            assert all(m["speedup"] > 0 for m in judged["measured"])

    pauses = found["gc_pauses"]
    assert set(pauses) == {"sid 3.14", "sid 3.15", "trixie 3.13"}
    for stats in pauses.values():
        assert stats["runs"] == TINY.rounds * TINY.processes_per_round
        assert stats["collections_per_run"] > 100
        assert 0 < stats["median_seconds"] <= stats["p99_seconds"] <= stats["max_seconds"]
        assert 0 < stats["gc_share"] < 1
    # Debian's 3.14 is past 3.14.5, where CPython went back to the generational collector
    assert pauses["sid 3.14"]["collector"] == "generational (three generations)"
    gc_verdicts = {c["column"]: c for c in found["claims"][0]["columns"]}
    assert gc_verdicts["sid 3.14"]["reason"].endswith(
        "collector is generational (three generations)"
    )

    gc_runs = json.loads((tmp_path / "sid_3.15.json").read_text())["benchmarks"]
    names = {b["metadata"]["name"] for b in gc_runs}
    assert {gcpauses.PAUSES, gcpauses.MAX, gcpauses.P99, "uuid4", "import-tomllib"} <= names
    text = outputs.markdown.read_text()
    assert "## Release claims: what Python 3.14 promises, measured per column" in text
    assert "**Reference here: 'trixie 3.13' (Python 3.13." in text
    for claim in CLAIMS:
        assert f"### {claim.title}: claimed {claim.claimed_text}" in text
    assert "| p99 pause | max pause |" in text
    assert not [name for name in leftover_containers() if name.startswith("cpmatrix-bench")]


# -- pure logic on real pyperf objects --------------------------------------------------------


def test_nearest_rank_percentiles_are_measured_values() -> None:
    hundred = [float(v) for v in range(100, 0, -1)]
    assert nearest_rank(hundred, 99) == 99.0
    assert nearest_rank(hundred, 100) == 100.0
    assert nearest_rank([4.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert nearest_rank([7.0], 99) == 7.0
    assert nearest_rank([1.0, 2.0, 3.0], 1) == 1.0
    with pytest.raises(ValueError, match="no values"):
        nearest_rank([], 50)
    with pytest.raises(ValueError, match="not in"):
        nearest_rank([1.0], 0)


def _record(pauses_ms: Sequence[float], wall_ms: float, collected: int = 10) -> dict[str, Any]:
    return {
        "pauses_ns": [int(p * 1e6) for p in pauses_ms],
        "wall_ns": int(wall_ms * 1e6),
        "collected": collected,
    }


def test_gc_runs_become_benchmarks_and_pooled_stats() -> None:
    runs = [_record([1.0] * 98 + [2.0, 50.0], 400.0), _record([1.0] * 99 + [30.0], 600.0)]
    suite = pyperf.BenchmarkSuite(gcpauses.benchmarks(runs))
    assert suite.get_benchmark(gcpauses.MAX).get_values() == (0.05, 0.03)
    assert suite.get_benchmark(gcpauses.P99).get_values() == (0.002, 0.001)
    found = gcpauses.stats(suite)
    assert found is not None
    assert (found.runs, found.collections_per_run) == (2, 100)
    assert (found.median, found.p99, found.max) == (0.001, 0.002, 0.05)
    assert found.gc_seconds_per_run == pytest.approx((0.150 + 0.129) / 2)
    assert found.gc_share == pytest.approx(0.1395 / 0.5)


def test_a_gc_run_that_freed_nothing_is_an_error() -> None:
    from cpmatrix.util.errors import BenchmarkFailed

    with pytest.raises(BenchmarkFailed, match="did not exercise the cycle collector"):
        gcpauses.benchmarks([_record([1.0], 10.0, collected=0)])


def _bench(name: str, values: Sequence[float]) -> Any:
    """A pyperf benchmark of one run per value, as pyperf's workers would write it."""
    runs = [
        pyperf.Run([v], metadata={"name": name, "unit": "second", "loops": 1},
                   collect_metadata=False)
        for v in values
    ]  # fmt: skip
    return pyperf.Benchmark(runs)


def _suite(times: dict[str, float], spread: float = 0.01) -> Any:
    """Every benchmark the claims name, at the given mean time (default 1 s), with a small
    spread so that pyperf's t-test has something to test."""
    names = [name for claim in CLAIMS for name in claim.benchmarks]
    names += [gcpauses.PAUSES, gcpauses.TOTAL, gcpauses.WORKLOAD]
    made = []
    for name in dict.fromkeys(names):
        mean = times.get(name, 1.0)
        made.append(_bench(name, [mean * (1 + spread * k) for k in (-1, 0, 1, 0.5, -0.5)]))
    return pyperf.BenchmarkSuite(made)


def _abouts(versions: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {name: {"version": version} for name, version in versions.items()}


def _verdicts(evaluation: claims.Evaluation, column: str) -> dict[str, claims.Judged]:
    return {
        claim.key: next(j for j in judged if j.column == column)
        for claim, judged in evaluation.claims
    }


def test_verdict_rules_for_each_kind_of_claim() -> None:
    faster_314 = {
        "b16decode-16B": 0.5,  # 2x: "up to 6x" holds (any significant speed-up)
        "b16decode-4KiB": 1.1,
        "uuid3-16B": 1 / 1.3,  # 1.3x and 1.25x: both reach half of "roughly 40%" (1.20x)
        "uuid5-16B": 1 / 1.25,
        "uuid3-1024B": 1 / 1.05,  # 1.05x: below half of "20% faster" (1.10x)
        "uuid5-1024B": 1 / 1.15,
        "uuid4": 1.0,  # the same: not significant
        "import-string": 0.8,
        "import-subprocess": 0.8,
        "import-tomllib": 0.8,
        "import-threading": 0.8,
        gcpauses.MAX: 0.09,  # 11x shorter: an order of magnitude
    }
    suites = {"trixie 3.13": _suite({}), "sid 3.14": _suite(faster_314)}
    versions = _abouts({"trixie 3.13": "3.13.5", "sid 3.14": "3.14.10"})
    versions["sid 3.14"]["gc_threshold"] = [2000, 10, 0]
    evaluation = evaluate(suites, versions, "sid 3.14")
    assert evaluation.reference == "trixie 3.13"
    judged = _verdicts(evaluation, "sid 3.14")
    assert judged["b16decode"].verdict is Verdict.HELD
    assert "best: b16decode-16B 2.00× faster; claimed up to 6×" in judged["b16decode"].reason
    assert judged["uuid3-uuid5-16B"].verdict is Verdict.HELD
    assert judged["uuid3-uuid5-1024B"].verdict is Verdict.NOT_HELD
    wanted = "uuid3-1024B 1.05× faster (needs ≥ 1.10× faster for “~20% faster”)"
    assert wanted in judged["uuid3-uuid5-1024B"].reason
    assert judged["uuid4"].verdict is Verdict.NOT_HELD
    assert "not significant" in judged["uuid4"].reason
    assert judged["imports"].verdict is Verdict.HELD
    assert judged[GC_CLAIM.key].verdict is Verdict.HELD
    assert "collector" not in judged[GC_CLAIM.key].reason  # the incremental one, as claimed
    reference_row = _verdicts(evaluation, "trixie 3.13")
    assert {j.verdict for j in reference_row.values()} == {Verdict.REFERENCE}


def test_a_slower_or_unmeasured_benchmark_and_no_reference() -> None:
    slower = {"import-string": 0.8, "import-subprocess": 1.3, gcpauses.MAX: 0.5}
    suites = {"3.13": _suite({}), "3.14": _suite(slower), "3.13t": _suite({})}
    evaluation = evaluate(suites, _abouts({"3.13": "3.13.5", "3.14": "3.14.3"}), "3.13")
    judged = _verdicts(evaluation, "3.14")
    assert judged["imports"].verdict is Verdict.NOT_HELD
    assert "import-subprocess 1.30× slower;" in judged["imports"].reason
    assert judged["imports"].reason.endswith("(needs a significant speed-up)")
    assert judged[GC_CLAIM.key].verdict is Verdict.NOT_HELD
    assert "gc-pause-max 2.00× shorter (needs ≥ 10.00× shorter" in judged[GC_CLAIM.key].reason
    assert judged[GC_CLAIM.key].reason.endswith("this column's collector is ?")
    # a column whose probe gave no version is never judged
    assert {j.verdict for j in _verdicts(evaluation, "3.13t").values()} == {Verdict.NOT_CLAIMED}

    gone = pyperf.BenchmarkSuite(
        [b for b in _suite({}) if b.get_name() not in ("uuid4", "import-string")]
    )
    versions = _abouts({"3.13": "3.13.5", "3.15": "3.15.2"})
    evaluation = evaluate({"3.13": _suite({}), "3.15": gone}, versions, "3.13")
    judged = _verdicts(evaluation, "3.15")
    assert judged["uuid4"].verdict is Verdict.NOT_MEASURABLE
    assert "uuid4" in judged["uuid4"].reason
    assert judged["imports"].verdict is Verdict.NOT_MEASURABLE

    alone = evaluate({"3.14": _suite({})}, _abouts({"3.14": "3.14.10"}), "3.14")
    assert alone.reference is None
    assert {j.verdict for j in _verdicts(alone, "3.14").values()} == {Verdict.NOT_MEASURABLE}
    assert "no 3.13 column" in "\n".join(claims_report.markdown(alone))


def test_the_reference_is_the_baseline_if_313_else_the_first_313_column() -> None:
    versions = {"3.14 JIT off": "3.14.10", "default": "3.13.5", "freethreaded": "3.13.5"}
    assert reference(versions, "default")[0] == "default"
    chosen, why = reference(versions, "3.14 JIT off")
    assert chosen == "default"
    assert "the first 3.13 column" in why and "3.14.10" in why
    assert reference({"a": "3.14.10", "b": "3.15.2"}, "a")[0] is None


def test_collector_kind_comes_from_the_threshold_the_probe_recorded() -> None:
    assert claims.collector({"gc_threshold": [2000, 10, 0]}) == "incremental (two generations)"
    assert claims.collector({"gc_threshold": [2000, 10, 10]}).startswith("generational")
    assert claims.collector({"free_threaded_build": True}).startswith("free-threaded")
    assert claims.collector({}) == "?"


def test_claims_are_quoted_with_a_source_and_imports_reuse_the_startup_modules() -> None:
    for claim in CLAIMS:
        assert claim.wording and claim.source.startswith(claims.WHATS_NEW)
        assert claim.benchmarks
    assert set(claims.IMPORT_MODULES) == {"string", "subprocess", "tomllib", "threading"}
    assert set(claims.IMPORT_MODULES) <= set(MODULES)
    assert import_modules([Suite.RELEASE_CLAIMS]) == claims.IMPORT_MODULES
    assert import_modules([Suite.RELEASE_CLAIMS, Suite.STARTUP]) == MODULES
    assert import_modules([Suite.SINGLE]) == ()
    assert "reverted back to the generational GC" in GC_CLAIM.caveat
