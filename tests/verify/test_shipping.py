"""The in-target scripts import their shared code from the module that defines it, once, and
are shipped as one file each with that code copied in (cpmatrix.verify.shipping)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from cpmatrix.bench import suites
from cpmatrix.verify import behaviour, probe, shipping
from cpmatrix.verify.observe import PROBE_SCRIPTS

SHIPPED = {
    "behaviour": behaviour.source,
    "about": suites.about_program,
    **{script.__name__: script.source for script in PROBE_SCRIPTS},
}


@pytest.mark.parametrize("ship", SHIPPED.values(), ids=list(SHIPPED))
def test_a_shipped_script_imports_nothing_of_cpmatrix_and_defines_each_name_once(
    ship: object,
) -> None:
    assert callable(ship)
    tree = ast.parse(ship())
    imported = [
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.col_offset == 0
    ]
    assert not [module for module in imported if module.startswith("cpmatrix")]
    defined = Counter(
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)
    )
    assert [name for name, count in defined.items() if count > 1] == []


def test_the_behaviour_script_ships_the_probes_helpers_not_a_copy_of_its_own() -> None:
    text = behaviour.source()
    helper = Path(probe.__file__).read_text(encoding="utf-8")
    start = helper.index("def _invoke(")
    assert helper[start : helper.index("\n\n\n", start)] in text
    assert "def _invoke(" not in Path(behaviour.__file__).read_text(encoding="utf-8")


def test_the_about_program_runs_alone_on_this_host(tmp_path: Path) -> None:
    script, output = tmp_path / "about.py", tmp_path / "about.json"
    script.write_text(suites.about_program(), encoding="utf-8")
    subprocess.run([sys.executable, "-I", str(script), str(output)], check=True, cwd=tmp_path)
    about = json.loads(output.read_text())
    assert about["gil_enabled"] is getattr(sys, "_is_gil_enabled", lambda: True)()
    assert set(about["jit"]) == {"available", "enabled"}


def test_a_name_the_module_does_not_define_is_an_error(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text("from cpmatrix.verify.probe import no_such_helper\n")
    with pytest.raises(ValueError, match="no_such_helper"):
        shipping.self_contained(script)
