"""What a team does with an artifact, proven in a consumer image that has a compiler.

The bare-consumer proof (:mod:`.consumers`) shows the interpreter starts and imports every
module. Teams also build C extensions from source with their own compiler, embed the
interpreter, and run the console scripts, from wherever they unpacked the archive. Here the
archive is unpacked into a directory whose path has a space, in a container of a Debian image
with ``build-essential`` and ``pkg-config`` and nothing else, with no network, and each
:class:`Step` runs as one shell script with no variable set for Python:

- ``scripts``: ``pip3``, ``pip3.X``, ``pydoc3``, ``python3.X-config`` run through their
  shebangs; ``idle3`` reaches the interpreter and idlelib (which then says it cannot import
  Tkinter: tkinter is not shipped);
  the interpreter started with an argv[0] that is not its path (``exec -a``) finds its prefix;
- ``sdists``: ``pip install --no-binary :all:`` of real sdists with C (and C++) code, built by
  the image's ``cc`` through what sysconfig says, then imported and used;
- ``embed``: a C program linked with ``python3.X-config --embed`` and one linked through
  ``pkg-config`` import ``ssl`` (an extension module that needs the program's C API);
- ``cpython-tests``: the ``-tests`` archive unpacked over the tree, a chosen set of CPython's
  own tests (:data:`CPYTHON_TESTS`) run as a user that is not root.

These functions compose the scripts; :func:`run` runs them and records each outcome.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cpmatrix.engine.containers import Completed, Container, ContainerSpec, Mount
from cpmatrix.matrix import layout
from cpmatrix.util.errors import EnvironmentProblem

TEAM_DIR = "/opt/team space"
"""Where the archive is unpacked: a path with a space, as on many a developer's machine."""
EMBED_DIR = "/opt/embed"
"""A second copy for embedding: compiler flags are words, and a path with a space splits."""
ARCHIVE_MOUNT = "/cpmatrix-artifact"
SDIST_MOUNT = "/cpmatrix-sdists"
PACKAGES = ("markupsafe", "msgpack")
"""Real sdists with C code (msgpack's is C++ too); their only build requirement is setuptools."""
SDISTS = ("markupsafe==3.0.4", "msgpack==1.2.4", "setuptools==84.2.1")
"""The exact sdists, setuptools included: pip builds even the build backend from source."""
PACKAGES_WORK = (
    "from markupsafe import _speedups, escape; "
    "import msgpack; from msgpack import _cmsgpack; "
    "assert str(escape('<a>')) == '&lt;a&gt;'; "
    "assert msgpack.unpackb(msgpack.packb({'k': [1, 2]})) == {'k': [1, 2]}; "
    "print('sdists built and work:', _speedups.__file__, _cmsgpack.__file__)"
)
CPYTHON_TESTS = (
    "test_ssl",
    "test_ctypes",
    "test_decimal",
    "test_sqlite3",
    "test_venv",
    "test_sysconfig",
    "test_subprocess",
    "test_embed",
    "test_getpath",
    "test_site",
    "test_capi.test_misc",
)
"""CPython's tests of what a relocated, bundled, embedded interpreter relies on. Not
test_socket: it needs /etc/services, which a minbase image lacks (a fact of the image)."""
TEST_USER = "team"
EMBED_C = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

int main(void) {
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    PyStatus status = PyConfig_SetBytesString(&config, &config.home, PYHOME);
    if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) Py_ExitStatusException(status);
    int failed = PyRun_SimpleString(
        "import ssl, _decimal, sqlite3; print('embedded:', ssl.OPENSSL_VERSION)");
    return (Py_FinalizeEx() < 0 || failed) ? 1 : 0;
}
"""
"""An embedding program: it names the home it was built against (static libpython has no
other way to learn it) and imports ssl, whose extension module links the program's C API."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    name: str
    script: str
    timeout: float = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    step: str
    passed: bool
    seconds: float
    output: str

    def record(self) -> dict[str, object]:
        tail = "\n".join(self.output.splitlines()[-12:])
        return {"step": self.step, "passed": self.passed, "seconds": round(self.seconds, 1)} | (
            {} if self.passed else {"output": tail}
        )


def _unpack(archive: str, directory: str) -> str:
    where = shlex.quote(directory)
    return f"mkdir -p {where} && tar -xzf {shlex.quote(f'{ARCHIVE_MOUNT}/{archive}')} -C {where}"


def scripts_step(prefix: str, interpreter: str) -> Step:
    """Every console script through its shebang, from a path with a space."""
    python = shlex.quote(f"{prefix}/{interpreter}")
    name = PurePosixPath(interpreter).name
    bin_dir = shlex.quote(f"{prefix}/bin")
    script = f"""set -e
cd /
export PATH={bin_dir}:"$PATH"
for pip in {bin_dir}/pip3*; do "$pip" --version; done
pydoc3 json.dumps | head -3
{name}-config --includes
{name}-config --ldflags --embed
test "$({name}-config --prefix)" = {shlex.quote(prefix)}
set +e; idle=$(idle3 2>&1); set -e
echo "$idle" | tail -1
echo "$idle" | grep -Eq "No module named '_?tkinter'|IDLE can't import Tkinter"
bash -c 'exec -a python-app "$0" -c "import sys, encodings; print(sys.prefix)"' {python} \\
  | grep -qxF {shlex.quote(prefix)}
echo "argv[0] python-app: prefix found"
"""
    return Step(name="scripts", script=script)


def sdists_step(prefix: str, interpreter: str, packages: Sequence[str] = PACKAGES) -> Step:
    """``pip install --no-binary :all:`` of real sdists, with no network and no variable."""
    python = shlex.quote(f"{prefix}/{interpreter}")
    script = f"""set -e
cd /tmp
{python} -m pip install --no-index --find-links {SDIST_MOUNT} --no-binary :all: \\
  --no-cache-dir --disable-pip-version-check {" ".join(packages)}
{python} -c {shlex.quote(PACKAGES_WORK)}
"""
    return Step(name="sdists", script=script, timeout=900)


def embed_step(prefix: str, interpreter: str) -> Step:
    """An embedding program built with python3.X-config, another with pkg-config."""
    config = shlex.quote(f"{prefix}/{interpreter}-config")
    home = shlex.quote(f'-DPYHOME="{prefix}"')
    script = f"""set -e
mkdir -p /tmp/embed && cd /tmp/embed
cat > embed.c <<'EOF'
{EMBED_C}
EOF
cc embed.c $({config} --cflags --embed) {home} -o with-config $({config} --ldflags --embed)
./with-config
pc=$(basename "$(ls {shlex.quote(prefix)}/lib/pkgconfig/python-3*-embed.pc | head -1)" .pc)
export PKG_CONFIG_PATH={shlex.quote(f"{prefix}/lib/pkgconfig")}
cc embed.c $(pkg-config --cflags "$pc") {home} -o with-pkg-config $(pkg-config --libs "$pc")
./with-pkg-config
"""
    return Step(name="embed", script=script)


def cpython_tests_step(archive: str, prefix: str, interpreter: str) -> Step:
    """The ``-tests`` archive over the unpacked tree; the chosen tests as a user, not root."""
    tests = f"{ARCHIVE_MOUNT}/{archive.removesuffix('.tar.gz')}-tests.tar.gz"
    python = shlex.quote(f"{prefix}/{interpreter}")
    command = f"{python} -m test -j2 --timeout 600 {' '.join(CPYTHON_TESTS)}"
    script = f"""set -e
tar -xzf {shlex.quote(tests)} -C {shlex.quote(TEAM_DIR)}
id {TEST_USER} >/dev/null 2>&1 || useradd -m {TEST_USER}
chown -R {TEST_USER} {shlex.quote(TEAM_DIR)}
cd /tmp
su {TEST_USER} -c {shlex.quote(command)}
"""
    return Step(name="cpython-tests", script=script, timeout=1200)


def steps(archive: str, *, top: str, interpreter: str) -> tuple[Step, ...]:
    """Unpack twice (a path with a space, and one for flags that are words), then each step."""
    team, embed = f"{TEAM_DIR}/{top}", f"{EMBED_DIR}/{top}"
    unpack = Step(
        name="unpack", script=f"set -e\n{_unpack(archive, TEAM_DIR)}\n{_unpack(archive, EMBED_DIR)}"
    )
    return (
        unpack,
        scripts_step(team, interpreter),
        sdists_step(team, interpreter),
        embed_step(embed, interpreter),
        cpython_tests_step(archive, team, interpreter),
    )


def fetch_sdists(where: Path | None = None) -> Path:
    """:data:`SDISTS` downloaded from PyPI on this host (the containers have no network)."""
    where = where or layout.cache_dir() / "sdists"
    where.mkdir(parents=True, exist_ok=True)
    names = [spec.replace("==", "-") for spec in SDISTS]
    if all(any(where.glob(f"{name}.tar.gz")) for name in names):
        return where
    pip = (sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps")
    done = subprocess.run([*pip, "-d", str(where), *SDISTS], capture_output=True, text=True)
    if done.returncode != 0:
        raise EnvironmentProblem(
            f"pip could not download the team-work sdists ({', '.join(SDISTS)}):\n"
            + done.stderr.strip()[-2000:],
            hint="the team-work proof needs PyPI once; later runs use the cached sdists",
        )
    return where


def spec(archive: Path, image: str, sdists: Path) -> ContainerSpec:
    return ContainerSpec(
        image=image,
        mounts=(
            Mount(source=archive.absolute().parent, target=ARCHIVE_MOUNT),
            Mount(source=sdists.absolute(), target=SDIST_MOUNT),
        ),
        network=False,
        name_hint="cpmatrix-team",
    )


def run(
    archive: Path, *, top: str, interpreter: str, image: str, sdists: Path
) -> tuple[Outcome, ...]:
    """Every step in one container of image; a failed unpack stops the rest."""
    outcomes = []
    with Container(spec(archive, image, sdists)) as box:
        for step in steps(archive.name, top=top, interpreter=interpreter):
            done: Completed = box.run(["bash", "-c", step.script], timeout=step.timeout)
            outcomes.append(
                Outcome(step=step.name, passed=done.ok, seconds=done.seconds, output=done.output)
            )
            if step.name == "unpack" and not done.ok:
                break
    return tuple(outcomes)
