"""The probe runs in any interpreter and names what the feature proofs ask for."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from cpmatrix.features import Feature, Version, proofs
from cpmatrix.verify import behaviour, probe
from cpmatrix.verify.observe import ENV_TOGGLES, probe_digests

PROBES = Path(__file__).parent.parent / "data" / "probes"


def test_every_proof_is_something_the_probe_records() -> None:
    state_keys = set(probe.runtime_state())
    for proof in proofs.RUNTIME_PROOFS.values():
        assert proof.call in state_keys
    assert proofs.JIT_313_EVIDENCE in state_keys
    for feature in Feature:
        for version in (Version(3, 13), Version(3, 14), Version(3, 15)):
            config = proofs.config_proof(feature, version)
            assert config is None or config.variable in probe.CONFIG_VARS
    assert {name for name, _ in proofs.JIT_PROOFS[Feature.JIT].defines} <= set(proofs.JIT_DEFINES)
    assert probe.BUILD_FLAG_VARS == proofs.OPTIMIZATION_VARIABLES


def test_the_runtime_toggles_cover_every_proof_switch() -> None:
    toggles = set(ENV_TOGGLES)
    assert {p.toggle for p in proofs.RUNTIME_PROOFS.values()} <= toggles
    assert {(proofs.JIT_ENV, "0"), (proofs.JIT_ENV, "1")} <= toggles


HOST = sys.version_info[:2]
HOST_LACKS = {
    "sys._is_gil_enabled()": HOST < (3, 13),
    "sys._jit.is_available()": HOST < (3, 14),
    "sys._jit.is_enabled()": HOST < (3, 14),
    "sys.is_remote_debug_enabled()": HOST < (3, 14),
}
"""What this host's python (3.11 here; 3.11 and 3.13 in tests.yml's unit legs) does not have."""


def test_the_probe_records_exactly_the_apis_the_host_python_lacks_as_absent(
    tmp_path: Path,
) -> None:
    script = tmp_path / "probe.py"
    script.write_text(probe.source())
    done = subprocess.run(
        [sys.executable, "-I", str(script), "facts", "--modules", "ssl,compression.zstd"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    runtime = facts["runtime"]
    assert {call: runtime[call] == probe.ABSENT for call in HOST_LACKS} == HOST_LACKS
    zstd_fails = "compression.zstd" in facts["modules"]["failed"]
    assert zstd_fails == (HOST < (3, 14))
    assert "ssl" in facts["modules"]["imported"]
    other = tmp_path / "behaviour.py"
    other.write_text(behaviour.source())
    remote = subprocess.run(
        [sys.executable, "-I", str(other), "remote"], capture_output=True, text=True, check=True
    )
    enabled_child = json.loads(remote.stdout.strip().splitlines()[-1])["enabled_child"]
    assert (enabled_child == behaviour.ABSENT) == (HOST < (3, 14))


def test_probe_and_behaviour_share_one_absent_sentinel() -> None:
    assert behaviour.ABSENT == probe.ABSENT


def test_the_probe_wheel_is_a_valid_wheel(tmp_path: Path) -> None:
    wheel = Path(behaviour.make_wheel(str(tmp_path)))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        record = archive.read("cpmatrix_probe_pkg-1.0.dist-info/RECORD").decode()
    assert "cpmatrix_probe_pkg.py" in names
    assert "cpmatrix_probe_pkg.py,sha256=" in record


def test_the_jit_mode_is_read_from_config_args_as_configure_spells_it() -> None:
    assert (
        proofs.jit_configure_value("'--prefix=/usr' '--enable-experimental-jit=yes-off'")
        == "yes-off"
    )
    assert proofs.jit_configure_value("--enable-experimental-jit") == "yes"
    assert proofs.jit_configure_value("--enable-experimental-jit=no") is None
    assert proofs.jit_configure_value("--disable-experimental-jit") is None
    assert proofs.jit_configure_value("'--enable-shared'") is None


def test_expected_modules_depend_on_version_and_os() -> None:
    assert "compression.zstd" in proofs.expected_modules(Version(3, 14), "linux")
    assert "compression.zstd" not in proofs.expected_modules(Version(3, 13), "linux")
    assert "readline" not in proofs.expected_modules(Version(3, 14), "windows")


def test_relocation_reads_the_mapped_files_after_importing_the_extension_modules() -> None:
    """Run against the host python's own (unmoved) prefix: the extension modules it imports
    are loaded from that prefix, so they must be among the files it reports as mapped."""
    prefix = os.path.realpath(sys.base_prefix)
    done = subprocess.run(
        [sys.executable, "-I", "-c", behaviour.RELOCATED, prefix],
        capture_output=True,
        text=True,
        check=True,
    )
    mapped = json.loads(done.stdout.strip().splitlines()[-1])["mapped_from_old"]
    ssl_module = importlib.import_module("_ssl").__file__
    assert ssl_module is not None and os.path.realpath(ssl_module) in mapped


JUDGED_ON_FACTS_ONLY = {
    "cpython-3.13.5-default-linux-x86_64-optimized.json",
    "cpython-3.13.5-default-linux-x86_64-optimized-configure-missed-clang.json",
}
"""Recordings the fast tests judge on their build facts alone (the profile checks): the
optimized builds, one of which (configure missed clang, 2026-12-02) cannot be made again. Their
behaviour sections come from the behaviour script of their day."""


def test_every_recording_was_made_by_the_probe_as_it_is_now() -> None:
    """A changed probe needs its recordings re-made (scripts/record_probes.py); otherwise the
    fast tests would judge answers the probe no longer gives."""
    now = probe_digests()
    stale = {}
    for path in sorted(PROBES.glob("*.json")):
        made_by = json.loads(path.read_text()).get("probe_scripts", {})
        wanted = dict(now)
        if path.name in JUDGED_ON_FACTS_ONLY:
            wanted["behaviour"] = made_by.get("behaviour", "")
        if made_by != wanted:
            stale[path.name] = made_by
    assert not stale, f"re-record with scripts/record_probes.py: {stale}"


def test_a_recording_judged_on_its_facts_alone_has_no_behaviour_verdict() -> None:
    """The threads check of a recording made by another behaviour script is a skip, never a
    verdict on answers the witness did not give."""
    from cpmatrix.verify.checks import threads_check

    for name in JUDGED_ON_FACTS_ONLY:
        data = json.loads((PROBES / name).read_text())
        if data["probe_scripts"]["behaviour"] != probe_digests()["behaviour"]:
            assert threads_check(data["behaviour"]["threads"], True).status == "skip"


def test_pyconfig_h_reading_sees_underscored_names_and_a_multiarch_wrapper(tmp_path: Path) -> None:
    """Debian's /usr/include/python3.15/pyconfig.h only includes the arch's header."""
    wrapper = tmp_path / "python3.15" / "pyconfig.h"
    real = tmp_path / "x86_64-linux-gnu" / "python3.15" / "pyconfig.h"
    for path in (wrapper, real):
        path.parent.mkdir(parents=True)
    wrapper.write_text(
        "#if defined(__x86_64__)\n#  include <x86_64-linux-gnu/python3.15/pyconfig.h>\n"
        "#elif defined(__aarch64__)\n#  include <aarch64-linux-gnu/python3.15/pyconfig.h>\n#endif\n"
    )
    real.write_text("/* #undef _Py_TAIL_CALL_INTERP */\n#define Py_REMOTE_DEBUG 1\n")
    found, included = probe._config_h(wrapper)
    assert all(value == probe.ABSENT for value in found.values())
    assert included[0] == "x86_64-linux-gnu/python3.15/pyconfig.h"
    values, _ = probe._config_h(real)
    assert values["_Py_TAIL_CALL_INTERP"] == 0 and values["Py_REMOTE_DEBUG"] == 1
