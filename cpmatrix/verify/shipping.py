"""How a script that runs INSIDE the interpreter under test reaches it: as one file.

The in-target scripts (probe.py, behaviour.py, freethreading.py, bench/programs/about.py) are
stdlib-only, but they share code: behaviour.py uses probe.py's helpers and freethreading.py's
witness, about.py uses probe.py's JIT and GIL detection. In the repository they import it from
the module that defines it, once. In the target nothing of cpmatrix is importable (``-I``
ignores PYTHONPATH, and the target may be another machine), so :func:`self_contained` ships a
script as its own text with each ``from cpmatrix... import names`` replaced by the definitions
of those names (and of what they use, transitively) copied from the defining module. The
shipped text is what the probe digests (:func:`cpmatrix.verify.observe.probe_digests`) hash, so
a change to shared code makes every recording made by a script that ships it stale.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
"""The directory that holds the ``cpmatrix`` package."""


def self_contained(script: Path) -> str:
    """The script's text, runnable alone: its cpmatrix imports replaced by what they import."""
    text = script.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    body = ast.parse(text).body
    emitted = {("", _segment(text, node, None)) for node in body if _is_import(node)}
    spliced: list[tuple[int, int, str]] = []
    for node in body:
        if _ours(node):
            assert isinstance(node, ast.ImportFrom) and node.module is not None
            names = [alias.name for alias in node.names]
            code = _definitions(node.module, names, emitted)
            spliced.append((node.lineno - 1, node.end_lineno or node.lineno, code))
    for start, end, code in reversed(spliced):
        lines[start:end] = [code]
    return "".join(lines)


def _ours(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cpmatrix.")


def _path(module: str) -> Path:
    return PACKAGE_ROOT.joinpath(*module.split(".")).with_suffix(".py")


def _definitions(module: str, names: list[str], emitted: set[tuple[str, str]]) -> str:
    """The module's definitions of ``names`` and of the module-level names they use, in the
    module's order, with the imports they need; none emitted twice into one script."""
    text = _path(module).read_text(encoding="utf-8")
    body = ast.parse(text).body
    defined = {name: node for node in body for name in _bound(node) if not _is_import(node)}
    missing = [name for name in names if name not in defined]
    if missing:
        raise ValueError(f"{module} defines no {', '.join(missing)}")
    wanted, used = _closure(names, defined)
    imports: list[str] = []
    parts: list[str] = []
    for index, node in enumerate(body):
        if _ours(node):
            assert isinstance(node, ast.ImportFrom) and node.module is not None
            needed = [alias.name for alias in node.names if alias.name in used]
            if needed:
                parts.append(_definitions(node.module, needed, emitted))
        elif _is_import(node):
            line = _segment(text, node, None)
            if not _is_future(node) and set(_bound(node)) & used and ("", line) not in emitted:
                emitted.add(("", line))
                imports.append(line)
        elif set(_bound(node)) & wanted and (module, _bound(node)[0]) not in emitted:
            emitted.update((module, name) for name in _bound(node))
            following = body[index + 1] if index + 1 < len(body) else None
            parts.append(_segment(text, node, following))
    if not parts:
        return ""
    header = f"# -- copied from {module} by cpmatrix.verify.shipping --\n"
    return header + "".join(imports) + ("\n" if imports else "") + "".join(parts)


def _closure(names: list[str], defined: dict[str, ast.stmt]) -> tuple[set[str], set[str]]:
    """The module-level definitions ``names`` need, and every name they mention."""
    wanted: set[str] = set()
    used: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in wanted:
            continue
        wanted.add(name)
        mentioned = {n.id for n in ast.walk(defined[name]) if isinstance(n, ast.Name)}
        used |= mentioned
        pending.extend(m for m in mentioned if m in defined and m not in wanted)
    return wanted, used | wanted


def _bound(node: ast.stmt) -> list[str]:
    """The module-level names a statement binds."""
    match node:
        case ast.FunctionDef() | ast.AsyncFunctionDef() | ast.ClassDef():
            return [node.name]
        case ast.Assign():
            return [t.id for t in node.targets if isinstance(t, ast.Name)]
        case ast.AnnAssign(target=ast.Name(id=name)):
            return [name]
        case ast.Import() | ast.ImportFrom():
            return [(a.asname or a.name).split(".")[0] for a in node.names]
    return []


def _is_import(node: ast.stmt) -> bool:
    return isinstance(node, ast.Import | ast.ImportFrom)


def _is_future(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and node.module == "__future__"


def _segment(text: str, node: ast.stmt, following: ast.stmt | None) -> str:
    """The statement's lines, with the docstring that follows an assignment."""
    lines = text.splitlines(keepends=True)
    decorators = getattr(node, "decorator_list", [])
    start = min([node.lineno, *(d.lineno for d in decorators)])
    end = node.end_lineno or node.lineno
    is_doc = isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
    if isinstance(node, ast.Assign | ast.AnnAssign) and is_doc and following is not None:
        end = following.end_lineno or end
    gap = "" if _is_import(node) else "\n\n"
    return "".join(lines[start - 1 : end]) + gap
