"""The portable phase's native step (builders/native_code) with a real clang: an LTO build's
bitcode static libpython becomes machine code that gcc and GNU ld link (issue #25: the first
optimized 3.13.5 artifacts failed the team-work proof's embedding, "libpython3.13.a: file
format not recognized")."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpmatrix.builders import native_code, portable
from cpmatrix.engine.containers import Container, ContainerSpec, Mount
from cpmatrix.engine.image import builder_image

pytestmark = pytest.mark.docker

SCRIPT = """
set -e
mkdir -p tree/lib/python3.13/config-3.13-x86_64-linux-gnu objs
printf 'int cpmx_value(int x) { return x * 6; }\\n' > objs/value.c
printf 'int cpmx_other(void) { return 7; }\\n' > objs/other.c
clang-19 -O2 -flto=thin -c objs/value.c -o objs/value.o
clang-19 -O2 -flto=thin -c objs/other.c -o objs/other.o
clang-19 -O2 -flto=thin -c objs/other.c -o tree/lib/python3.13/config-3.13-x86_64-linux-gnu/python.o
ar rcs tree/lib/libpython3.13.a objs/value.o objs/other.o
cp tree/lib/libpython3.13.a tree/lib/python3.13/config-3.13-x86_64-linux-gnu/
printf 'int cpmx_value(int); int cpmx_other(void);\\n' > main.c
printf 'int main(void) { return cpmx_value(cpmx_other()) != 42; }\\n' >> main.c
if gcc -fno-lto main.c tree/lib/libpython3.13.a -o before 2>/dev/null; then exit 3; fi
python3 -c "
from pathlib import Path
import sys; sys.path.insert(0, '/scripts')
import importlib.util as u
spec = u.spec_from_file_location('finish', '/scripts/{script}')
finish = u.module_from_spec(spec); sys.modules['finish'] = finish; spec.loader.exec_module(finish)
print(finish.native_code.native_static_code(Path('tree'), 'clang-19'))
"
gcc -fno-lto main.c tree/lib/libpython3.13.a -o after && ./after
gcc -fno-lto main.c tree/lib/python3.13/config-3.13-x86_64-linux-gnu/libpython3.13.a -o copy
head -c 4 tree/lib/python3.13/config-3.13-x86_64-linux-gnu/python.o | od -c | head -1
"""


def test_bitcode_in_the_static_libpython_becomes_machine_code_gcc_links(
    docker_engine: None, tmp_path: Path
) -> None:
    scripts = tmp_path / "scripts"
    for name, content in portable.script_files().items():
        (scripts / name).parent.mkdir(parents=True, exist_ok=True)
        (scripts / name).write_bytes(content)
    work = tmp_path / "work"
    work.mkdir()
    work.chmod(0o777)
    spec = ContainerSpec(
        image=builder_image().tag,
        mounts=(Mount(scripts, "/scripts"), Mount(work, "/work", read_only=False)),
    )
    with Container(spec) as box:
        done = box.run(
            ["sh", "-c", f"cd /work && {SCRIPT.replace('{script}', portable.SCRIPT_NAME)}"]
        )
    assert done.ok, done.output
    assert "'lib/libpython3.13.a'" in done.output
    assert "'lib/python3.13/config-3.13-x86_64-linux-gnu/libpython3.13.a'" in done.output
    assert "'lib/python3.13/config-3.13-x86_64-linux-gnu/python.o'" in done.output
    assert "177   E   L   F" in done.output  # python.o is an ELF object now


def test_an_archive_without_bitcode_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib/libpython3.13.a").write_bytes(b"!<arch>\n")
    assert native_code.native_static_code(tmp_path, "clang-19") == []
