"""Reading YAML while keeping where each value came from, so errors can say FILE:LINE:COL.

PyYAML's composed nodes carry ``start_mark``; these helpers walk them with type checks and
turn every problem into a :class:`ConfigError` at the offending node.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from cpmatrix.util import names
from cpmatrix.util.errors import ConfigError, Location, did_you_mean

MAX_NODES = 20_000
MAX_DEPTH = 32
"""Collections inside collections; libyaml's composer recurses in C and crashes the process
on a few thousand levels, so nesting is counted on its (flat) token stream first."""
_OPEN = (
    yaml.BlockSequenceStartToken,
    yaml.BlockMappingStartToken,
    yaml.FlowSequenceStartToken,
    yaml.FlowMappingStartToken,
)
_CLOSE = (yaml.BlockEndToken, yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken)
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml when PyYAML has it: ten times faster on a large (hostile) file, same marks."""


class Doc:
    """A composed YAML document and the file it came from."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        try:
            self._shallow(text)
            root = yaml.compose(text, Loader=LOADER)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            location = Location(path, mark.line + 1, mark.column + 1) if mark else None
            problem = error.problem or error.context or "invalid YAML"
            raise ConfigError(f"YAML syntax error: {problem}", location=location) from None
        except yaml.YAMLError as error:  # the reader's: a character YAML does not allow
            raise ConfigError(f"not YAML text: {error}", location=Location(path, 1, 1)) from None
        if root is None:
            raise ConfigError("the file is empty", location=Location(path, 1, 1))
        self.root: yaml.Node = root
        self._bounded(root)

    def _shallow(self, text: str) -> None:
        """Refuse nesting deeper than MAX_DEPTH before anything is composed."""
        depth = 0
        for token in yaml.scan(text, Loader=LOADER):
            if isinstance(token, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = token.start_mark
                    raise ConfigError(
                        f"values nest more than {MAX_DEPTH} deep; a matrix file nests 4",
                        location=Location(self.path, mark.line + 1, mark.column + 1),
                    )
            elif isinstance(token, _CLOSE):
                depth -= 1

    def _bounded(self, root: yaml.Node) -> None:
        """Refuse a document with more than MAX_NODES values once aliases are expanded: an
        alias costs nothing to parse but every walk over it repeats the work it names."""
        pending, seen = [root], 0
        while pending:
            node = pending.pop()
            seen += 1
            if seen > MAX_NODES:
                raise self.error(
                    node,
                    f"the file holds more than {MAX_NODES} values (aliases counted each time "
                    "they are used); a matrix file holds a few hundred",
                )
            if isinstance(node, yaml.SequenceNode):
                pending.extend(node.value)
            elif isinstance(node, yaml.MappingNode):
                pending.extend(part for pair in node.value for part in pair)

    def at(self, node: yaml.Node) -> Location:
        return Location(self.path, node.start_mark.line + 1, node.start_mark.column + 1)

    def error(self, node: yaml.Node, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, location=self.at(node), hint=hint)

    def mapping(
        self,
        node: yaml.Node,
        what: str,
        *,
        allowed: Iterable[str] | None = None,
        required: Iterable[str] = (),
    ) -> dict[str, tuple[yaml.ScalarNode, yaml.Node]]:
        """The entries of a mapping, keyed by their text; unknown, missing, doubled keys refused."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping (key: value)")
        allowed_keys = None if allowed is None else tuple(allowed)
        entries: dict[str, tuple[yaml.ScalarNode, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(key_node, f"a key in {what} must be a plain name")
            key = str(key_node.value)
            if key in entries:
                raise self.error(key_node, f"{what} has {key!r} twice")
            if allowed_keys is not None and key not in allowed_keys:
                raise self.error(
                    key_node, f"unknown key {key!r} in {what}", did_you_mean(key, allowed_keys)
                )
            entries[key] = (key_node, value_node)
        for key in required:
            if key not in entries:
                raise self.error(node, f"{what} needs {key!r}")
        return entries

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"{what} must be a list")
        return list(node.value)

    def text(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.value == "":
            raise self.error(node, f"{what} must be a non-empty plain value")
        return str(node.value)

    def name(self, node: yaml.Node, what: str) -> str:
        """A plain value that becomes part of a file name: the one character class and length
        bound of :mod:`cpmatrix.util.names`."""
        text = self.text(node, what)
        problem = names.problem(text)
        if problem is not None:
            raise self.error(
                node,
                f"{what} {names.shown(text)} {problem}",
                hint="it becomes part of file and directory names (build/<cell-id>/, dist/)",
            )
        return text

    def texts(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node]]:
        """A list of plain values, or one plain value standing for a list of one."""
        if isinstance(node, yaml.ScalarNode):
            return [(self.text(node, what), node)]
        return [(self.text(item, what), item) for item in self.sequence(node, what)]

    def integer(self, node: yaml.Node, what: str) -> int:
        raw = self.text(node, what)
        try:
            return int(raw)
        except ValueError:
            raise self.error(node, f"{what} must be a whole number, not {raw!r}") from None
