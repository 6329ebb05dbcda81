"""YAML read with the line of every mapping, key and list item, so an error can name its line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml


class MarkedDict(dict):
    """A mapping that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]


class MarkedList(list):
    line: int = 0
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> MarkedDict:
    loader.flatten_mapping(node)
    out = MarkedDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> MarkedList:
    out = MarkedList(loader.construct_object(n, deep=True) for n in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [n.start_mark.line + 1 for n in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


class YamlError(ValueError):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def load(text: str) -> Any:
    """Parse one YAML document; a syntax error raises YamlError with its line."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise YamlError(mark.line + 1 if mark else 0, f"not valid YAML: {problem}") from None


def line_of(tree: Any, loc: Sequence[Any]) -> int:
    """The line of the deepest node of `loc` (a pydantic error location) found in `tree`."""
    line = getattr(tree, "line", 0)
    node = tree
    for part in loc:
        if isinstance(node, MarkedDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
            line = getattr(node, "line", line) if isinstance(node, MarkedDict) else line
        elif isinstance(node, MarkedList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line
