"""YAML read with the line and column of every key and value, and duplicate keys refused.

PyYAML's safe loader silently keeps the last of two equal keys; a config where that happens is
almost always a mistake (two definitions of the same template language), so it is an error here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import ConfigError, Problem

Path = tuple[Any, ...]


@dataclass
class Document:
    file: str
    data: Any
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)  # where each value starts
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)  # where each mapping key stands
    problems: list[Problem] = field(default_factory=list)  # duplicate or non-text keys

    def problem(self, path: Path, message: str, at_key: bool = False) -> Problem:
        """A problem at ``path``, or at the nearest enclosing place that has a position."""
        table = self.keys if at_key else self.values
        probe = tuple(path)
        while probe and probe not in table and probe not in self.values:
            probe = probe[:-1]
        line, column = table.get(probe) or self.values.get(probe) or self.values.get((), (1, 1))
        return Problem(self.file, line, column, message)


def load_document(path: str) -> Document:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise ConfigError([Problem(path, 0, 0, f"cannot read: {error.strerror}")]) from error
    except UnicodeDecodeError as error:
        raise ConfigError([Problem(path, 0, 0, f"not UTF-8 text: {error.reason}")]) from error
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise ConfigError([Problem(path, line, column, f"YAML syntax: {error.problem or error}")]) from error
    except yaml.YAMLError as error:
        raise ConfigError([Problem(path, 0, 0, f"YAML: {error}")]) from error
    finally:
        loader.dispose()
    document = Document(file=path, data=None)
    if root is not None:
        document.data = _build(loader, root, (), document, document.problems)
    return document


def _build(loader: yaml.SafeLoader, node: Node, path: Path, document: Document, problems: list[Problem]) -> Any:
    document.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, MappingNode):
        loader.flatten_mapping(node)  # YAML merge keys (<<)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if isinstance(key, int) and not isinstance(key, bool):
                key = str(key)  # ids written without quotes as mapping keys
            if not isinstance(key, str):
                problems.append(Problem(document.file, *where, f"keys must be text, not {key!r}"))
                continue
            if key in result:
                first = document.keys[path + (key,)]
                problems.append(Problem(document.file, *where, f"duplicate key '{key}' (first at line {first[0]})"))
                continue
            document.keys[path + (key,)] = where
            result[key] = _build(loader, value_node, path + (key,), document, problems)
        return result
    if isinstance(node, SequenceNode):
        return [_build(loader, item, path + (i,), document, problems) for i, item in enumerate(node.value)]
    assert isinstance(node, ScalarNode)
    return loader.construct_object(node, deep=True)
