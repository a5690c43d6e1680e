"""Real 3.13.5 artifacts used as teams use them (issue #24), in real bare containers.

default, freethreaded and jit are built for real (reused from ``$CPMATRIX_TEST_BUILD_ROOT``
when built there), staged through the portability gate into their .tar.gz, and then:
unpacked in bullseye with build-essential and pkg-config (a path with a space, no network, no
variable set), real sdists with C code are pip-installed from source, embedding programs
import ssl, every console script runs; CAs are found on the Debian and the RHEL layout in bare
bullseye; uv holds the three variants at once in bare trixie.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cpmatrix.artifacts import stage, teamwork, uvindex
from cpmatrix.artifacts.manifest import interpreter_path
from cpmatrix.builders import finish_tree
from cpmatrix.engine.containers import Container, ContainerSpec, Mount
from cpmatrix.engine.image import base_image
from cpmatrix.matrix import Cell
from cpmatrix.matrix.layout import CellPaths
from cpmatrix.util.fileio import sha256_of

pytestmark = [pytest.mark.docker, pytest.mark.slow]

VARIANTS = ("default", "freethreaded", "jit")
MAX_ARCHIVE_BYTES = 30_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Shipped:
    cell: Cell
    paths: CellPaths
    archive: Path


@pytest.fixture(scope="module")
def shipped(docker_engine: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Shipped]:
    """The three published variants, built and staged (the gate ran) as ``invoke build`` does."""
    from cpmatrix import pipeline
    from cpmatrix.matrix import matrixfile

    model = matrixfile.load()
    cells = [model.cell(python="3.13", variant=v, platform="linux-x86_64") for v in VARIANTS]
    kept = os.environ.get("CPMATRIX_TEST_BUILD_ROOT")
    root = Path(kept) if kept else tmp_path_factory.mktemp("build-root")
    outcomes = pipeline.run(cells, pipeline.Options(build_root=root, verify=False))
    done = (pipeline.Status.BUILT, pipeline.Status.UP_TO_DATE)
    assert all(o.status in done for o in outcomes), [(o.cell.id, o.reason) for o in outcomes]
    found = {}
    for cell in cells:
        paths = CellPaths.of(cell.id, root)
        staged = stage.stage(cell, paths)
        found[cell.variant.name] = Shipped(cell=cell, paths=paths, archive=staged.archive.path)
    return found


@pytest.fixture(scope="module")
def sdists() -> Path:
    """The pinned sdists, downloaded on the host from PyPI once (the containers have no
    network)."""
    return teamwork.fetch_sdists()


@pytest.fixture(scope="module")
def workbench(docker_engine: None) -> str:
    """Bare bullseye plus build-essential and pkg-config: a team's build machine."""
    from cpmatrix.artifacts.consumers import workbench

    return workbench("bullseye").image


def test_every_archive_is_at_most_30_mb_and_carries_no_debug_info(
    shipped: dict[str, Shipped],
) -> None:
    sizes = {name: item.archive.stat().st_size for name, item in shipped.items()}
    print("archive sizes (bytes):", sizes)
    assert all(size <= MAX_ARCHIVE_BYTES for size in sizes.values()), sizes
    for item in shipped.values():
        tree = item.paths.install
        files = finish_tree.elf_files(tree) + finish_tree.static_objects(tree)
        assert tree / "lib" / "libpython3.13t.a" in files or tree / "lib/libpython3.13.a" in files
        with_debug = [str(p.relative_to(tree)) for p in files if finish_tree.has_debug_info(p)]
        assert with_debug == [], with_debug


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_team_builds_sdists_embeds_and_runs_every_script_in_bullseye_with_a_compiler(
    shipped: dict[str, Shipped], sdists: Path, workbench: str, variant: str
) -> None:
    item = shipped[variant]
    started = time.monotonic()
    outcomes = teamwork.run(
        item.archive,
        top=item.cell.id,
        interpreter=interpreter_path(item.cell),
        image=workbench,
        sdists=sdists,
    )
    took = {o.step: round(o.seconds, 1) for o in outcomes}
    print(f"{variant}: {time.monotonic() - started:.1f}s in all; per step {took}")
    assert [o.step for o in outcomes] == ["unpack", "scripts", "sdists", "embed", "cpython-tests"]
    failed = [(o.step, o.output[-3000:]) for o in outcomes if not o.passed]
    assert failed == [], failed
    embedded = next(o for o in outcomes if o.step == "embed").output
    assert embedded.count("embedded: OpenSSL 1.1.1") == 2, embedded


CA_PROBE = """
import socket, ssl, sys, threading
server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server.load_cert_chain("/ca/server.pem", "/ca/server.key")
listener = socket.create_server(("127.0.0.1", 0))
port = listener.getsockname()[1]
def serve():
    conn, _ = listener.accept()
    with server.wrap_socket(conn, server_side=True) as tls:
        tls.sendall(b"hello over verified TLS")
threading.Thread(target=serve, daemon=True).start()
client = ssl.create_default_context()
print("CAs loaded:", client.cert_store_stats()["x509_ca"])
with socket.create_connection(("127.0.0.1", port)) as raw:
    with client.wrap_socket(raw, server_hostname="localhost") as tls:
        print(tls.recv(100).decode())
"""


def make_ca(where: Path) -> None:
    def openssl(*argv: str) -> None:
        subprocess.run(["openssl", *argv], cwd=where, check=True, capture_output=True)

    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=cpmatrix test CA", "-keyout", "ca.key", "-out", "ca.pem",
    )  # fmt: skip
    openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", "server.key", "-out", "server.csr",
    )  # fmt: skip
    (where / "ext.cnf").write_text("subjectAltName=DNS:localhost\n")
    openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem",
    )  # fmt: skip
    for path in where.iterdir():
        path.chmod(0o644)


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    where = tmp_path_factory.mktemp("ca")
    make_ca(where)
    yield where


LAYOUTS = {
    "debian": "/etc/ssl/certs/ca-certificates.crt",
    "rhel": "/etc/pki/tls/certs/ca-bundle.crt",
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_cas_are_found_where_the_distribution_keeps_them_with_no_variable(
    shipped: dict[str, Shipped], ca_dir: Path, layout: str
) -> None:
    """Bare bullseye has no CA store; the bundle is placed where the family keeps it, Debian's
    OpenSSL directories removed, and a verified TLS handshake needs it."""
    item = shipped["default"]
    python = f"/opt/x/{item.cell.id}/{interpreter_path(item.cell)}"
    bundle = LAYOUTS[layout]
    setup = (
        "set -e; rm -rf /usr/lib/ssl /etc/ssl/certs; mkdir -p /opt/x "
        f"&& tar -xzf /a/{item.archive.name} -C /opt/x "
        f"&& mkdir -p $(dirname {bundle}) && cp /ca/ca.pem {bundle}"
    )
    spec = ContainerSpec(
        image=base_image("bullseye").tag,
        mounts=(Mount(source=item.archive.parent, target="/a"), Mount(source=ca_dir, target="/ca")),
        name_hint="cpmatrix-ca",
    )
    with Container(spec) as box:
        assert box.run(["bash", "-c", setup], timeout=120).ok
        done = box.run([python, "-c", CA_PROBE], timeout=60)
        assert done.ok, done.output
        assert "CAs loaded: 1" in done.output and "hello over verified TLS" in done.output
        box.run(["rm", bundle], timeout=30)
        missing = box.run([python, "-c", CA_PROBE], timeout=60)
        assert not missing.ok and "CERTIFICATE_VERIFY_FAILED" in missing.output


def test_uv_holds_default_jit_and_freethreaded_at_once_each_picked_by_one_variable(
    shipped: dict[str, Shipped], tmp_path: Path
) -> None:
    """uv keys an installation by version, platform and free-threading only (no JIT variant):
    default and jit share ``cpython-3.13.5-linux-x86_64-gnu``. Each variant installs into its
    own ``UV_PYTHON_INSTALL_DIR``; that one variable picks it."""
    import uv  # type: ignore[import-untyped]

    dist = next(iter(shipped.values())).archive.parent.parent.parent
    files = {}
    for name, item in shipped.items():
        entry = {
            "python": "3.13.5",
            "os": "linux",
            "arch": "x86_64",
            "features": [str(f) for f in item.cell.variant.ordered],
            "file": f"{item.cell.id}/{stage.STAGE_DIR}/{item.archive.name}",
            "sha256": sha256_of(item.archive),
            "id": item.cell.id,
        }
        key, download = uvindex.uv_entry(entry, "file:///dist")
        files[name] = {key: download}
    for name, content in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(content))
    wanted = {name: "3.13t" if name == "freethreaded" else "3.13" for name in VARIANTS}
    script = "set -e\n" + "".join(
        f"UV_PYTHON_INSTALL_DIR=/uv/{name} UV_PYTHON_DOWNLOADS_JSON_URL=/uvjson/{name}.json "
        f"uv python install {wanted[name].replace('3.13', '3.13.5')}\n"
        for name in VARIANTS
    )
    probe = (
        "import sys, sysconfig; print(sys.prefix.split('/')[2], "
        "sysconfig.get_config_var('Py_GIL_DISABLED'), 'JIT' if '_Py_JIT' in "
        "(sysconfig.get_config_var('PY_CORE_CFLAGS') or '') else 'no-JIT')"
    )
    spec = ContainerSpec(
        image=base_image("trixie").tag,
        mounts=(
            Mount(source=dist, target="/dist"),
            Mount(source=tmp_path, target="/uvjson"),
            Mount(source=Path(uv.find_uv_bin()), target="/usr/local/bin/uv"),
        ),
        name_hint="cpmatrix-uv3",
    )
    with Container(spec) as box:
        installed = box.run(["bash", "-c", script], env={"HOME": "/root"}, timeout=600)
        assert installed.ok, installed.output
        for name in VARIANTS:
            env = {"HOME": "/root", "UV_PYTHON_INSTALL_DIR": f"/uv/{name}"}
            argv = ["uv", "run", "--no-project", "--managed-python", "-p", wanted[name], "python"]
            ran = box.run([*argv, "-c", probe], env={**env, "UV_PYTHON_DOWNLOADS": "never"})
            assert ran.ok, ran.output
            line = ran.output.strip().splitlines()[-1].split()
            gil = "1" if name == "freethreaded" else "0"
            jit = "JIT" if name == "jit" else "no-JIT"
            assert tuple(line) == (name, gil, jit), ran.output
