"""YAML read with the line and column of every key and value; duplicate keys and hostile input refused.

PyYAML's safe loader silently keeps the last of two equal keys; a config where that happens is
almost always a mistake (two definitions of the same template language), so it is an error here.

A config may come from someone else (a pull request, a generator), so reading one is bounded, and
each bound, when crossed, is one problem at file (line, column) rather than a hang or a traceback:

- ``MAX_FILE_BYTES``: checked before the file is read.
- ``MAX_DEPTH``: nesting. libyaml stops at 1,000 levels itself and PyYAML's own composer recurses
  (a RecursionError well before that); ``_Extent`` holds every config to ``MAX_DEPTH``.
- ``MAX_VALUES`` and ``MAX_ALIASED_VALUES``: aliases (``*name``) and merge keys (``<<``) let a
  few hundred bytes stand for billions of values ("billion laughs"). ``_Extent`` measures the
  composed node graph, each distinct node once, so a bomb is refused before one value is built;
  a large file is counted while parsing, before its nodes are made (``_count_written``).
- ``MAX_NUMBER_CHARS``: converting a long number (``1:2:3:...`` is base 60 in YAML 1.1) takes
  time quadratic in its length.
"""

from __future__ import annotations

import os
import reprlib
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import ConfigError, Problem

Path = tuple[Any, ...]

# libyaml's C parser when PyYAML was built with it (about ten times faster); both give marks.
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A realistic config of 200 accounts x 50 templates x 2 languages (four components each) is 12 MB
# and loads in about 10 s using 1 GB; 64 MiB leaves five times that room, at five times the cost.
MAX_FILE_BYTES = 64 * 1024 * 1024
# A config nests about 13 levels (accounts, account, templates, name, languages, language,
# components, item, example, body_text, row, value); anything deeper is not a config.
MAX_DEPTH = 100
# Every value (keys included) once aliases and merge keys are expanded. The realistic 12 MB config
# holds 1.3 million; a realistic file at MAX_FILE_BYTES would hold about 7 million.
MAX_VALUES = 10_000_000
# Values that exist only as repeats of an anchored one. Bounded apart from MAX_VALUES because a
# small file must not cost what a 64 MiB one may. Sharing one set of 50 templates in 2 languages
# among 200 accounts (the realistic config above, written with an alias) repeats 1.3 million
# values, so the bound sits above that rather than at 100,000. The count is exact before anything
# is built, so the bound decides only what a legitimate config may do, not how fast a bomb dies.
MAX_ALIASED_VALUES = 2_000_000
# The largest number a config holds is a limit of four digits; ids are quoted text.
MAX_NUMBER_CHARS = 100

TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"
_STR_TAG = "tag:yaml.org,2002:str"
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_SCALAR = (1, 1)  # (values, levels) of a scalar
_UNREADABLE = object()  # what _scalar gives for a value its tag cannot make; a problem says why
_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 60
_SHOWN.maxlevel = 2


def shown(value: Any) -> str:
    """``repr`` for messages, cut short: a key or value in a message may be megabytes long."""
    return _SHOWN.repr(value)


@dataclass
class Document:
    file: str
    data: Any
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)  # where each value starts
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)  # where each mapping key stands
    problems: list[Problem] = field(default_factory=list)  # duplicate or non-text keys, unreadable values
    unreadable: set[Path] = field(default_factory=set)  # values held as None: a problem says why already

    def problem(self, path: Path, message: str, at_key: bool = False) -> Problem:
        """A problem at ``path``, or at the nearest enclosing place that has a position."""
        table = self.keys if at_key else self.values
        probe = tuple(path)
        while probe and probe not in table and probe not in self.values:
            probe = probe[:-1]
        line, column = table.get(probe) or self.values.get(probe) or self.values.get((), (1, 1))
        return Problem(self.file, line, column, message)


def load_document(path: str) -> Document:
    """Steps: read the text (bounded); compose the YAML nodes; measure them; build the values."""
    text = _read(path)
    document = Document(file=path, data=None)
    try:
        loader = LOADER(text)
    except yaml.reader.ReaderError as error:  # PyYAML's reader checks every character up front
        raise ConfigError([_unreadable(path, text, error)]) from error
    _count_written(path, text)
    root = _compose(path, text, loader)
    if root is not None:
        try:
            _Extent(loader, path).measure(root, 1)  # also applies merge keys (<<)
        except yaml.MarkedYAMLError as error:  # a merge key with something other than mappings
            raise ConfigError([_marked(path, error, "YAML")]) from error
        document.data = _build(loader, root, (), document)
    return document


def _read(path: str) -> str:
    too_large = Problem(path, 0, 0, f"larger than {MAX_FILE_BYTES // 2**20} MiB: a config file is at most that (split it into several files)")
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > MAX_FILE_BYTES:
                raise ConfigError([too_large])
            data = handle.read(MAX_FILE_BYTES + 1)  # a pipe or device tells no size beforehand
    except OSError as error:
        raise ConfigError([Problem(path, 0, 0, f"cannot read: {error.strerror}")]) from error
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError([too_large])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = len(data[data.rfind(b"\n", 0, error.start) + 1 : error.start].decode("utf-8", "replace")) + 1
        raise ConfigError([Problem(path, line, column, f"not UTF-8 text: {error.reason}")]) from error


def _count_written(path: str, text: str) -> None:
    """Refuse a file that writes more than MAX_VALUES values before composing it: its nodes would
    take gigabytes before ``_Extent`` could count them (a 64 MiB file of ``[1,1,1,...`` is 33
    million). Parsing alone keeps nothing; a value takes at least half a character (``a:`` is a
    mapping, a key and a null), so shorter texts cannot hold that many and are not parsed twice."""
    if len(text) <= MAX_VALUES // 2:
        return
    loader = LOADER(text)
    written = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
                written += 1
                if written > MAX_VALUES:
                    raise ConfigError([Problem(path, *_at(event.start_mark), f"too many values: the config holds more than {MAX_VALUES:,}")])
    except yaml.YAMLError:
        return  # composing finds the same error and says where
    finally:
        loader.dispose()


def _compose(path: str, text: str, loader: yaml.SafeLoader) -> Node | None:
    try:
        return loader.get_single_node()
    except RecursionError as error:  # PyYAML's own composer recurses once per level
        raise ConfigError([Problem(path, 0, 0, TOO_DEEP)]) from error
    except yaml.reader.ReaderError as error:
        raise ConfigError([_unreadable(path, text, error)]) from error
    except yaml.MarkedYAMLError as error:
        raise ConfigError([_marked(path, error, "YAML syntax")]) from error
    except yaml.YAMLError as error:
        raise ConfigError([Problem(path, 0, 0, f"YAML: {error}")]) from error
    finally:
        loader.dispose()


def _marked(path: str, error: yaml.MarkedYAMLError, label: str) -> Problem:
    line, column = _at(error.problem_mark or error.context_mark)
    reason = ", ".join(str(part) for part in (error.context, error.problem) if part) or str(error)
    if "maximum nesting depth" in reason:  # libyaml's own bound (1,000 levels), in libyaml's words
        return Problem(path, line, column, TOO_DEEP)
    return Problem(path, line, column, f"{label}: {reason}")


def _unreadable(path: str, text: str, error: yaml.reader.ReaderError) -> Problem:
    """A character YAML does not allow (NUL, most control characters), at its place."""
    at = min(max(error.position, 0), len(text))
    line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
    return Problem(path, line, column, f"YAML: character #x{error.character:04x} is not allowed ({error.reason})")


class _Extent:
    """How deep and how many values the composed YAML is once aliases and merge keys are expanded,
    found without expanding them: each collection is measured once and remembered by identity, so
    a billion laughs costs as many steps as it has nodes in the file, and is refused at the first
    value that expands past a bound."""

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.known: dict[int, tuple[int, int]] = {}  # id(collection node) -> (values, levels) it expands to
        self.open: set[int] = set()  # collections being measured: reaching one again is an alias to itself
        self.written = 0  # values written in the file met so far: each collection once, each scalar each time

    def measure(self, node: Node, depth: int) -> tuple[int, int]:
        """(values, levels) of collection ``node`` reached at nesting ``depth`` (the root is at 1)."""
        known = self.known.get(id(node))
        if known is None:
            if id(node) in self.open:
                raise self._refused(node, "an alias (*name) inside the value it names: it never ends")
            if depth > MAX_DEPTH:
                raise self._refused(node, TOO_DEEP)
            self.open.add(id(node))
            self.written += 1
            known = self.known[id(node)] = self._measure_new(node, depth)
            self.open.discard(id(node))
        elif depth + known[1] - 1 > MAX_DEPTH:
            raise self._refused(node, TOO_DEEP)
        return known

    def _measure_new(self, node: Node, depth: int) -> tuple[int, int]:
        if isinstance(node, ScalarNode):
            return _SCALAR
        children = _children(node)
        if children and depth >= MAX_DEPTH:
            raise self._refused(children[0], TOO_DEEP)
        for child in children:
            if isinstance(child, ScalarNode):
                self.written += 1
            else:
                self.measure(child, depth + 1)
        if isinstance(node, MappingNode) and any(key.tag == _MERGE_TAG for key, _ in node.value):
            self._check(node, 1 + sum(self._merged_values(key, value) for key, value in node.value))
            self.loader.flatten_mapping(node)  # its sources are measured, hence flattened, already
            children = _children(node)
        values, levels = 1, 1
        for child in children:
            size = _SCALAR if isinstance(child, ScalarNode) else self.known[id(child)]
            values += size[0]
            levels = max(levels, size[1] + 1)
        self._check(node, values)
        return values, levels

    def _values(self, node: Node) -> int:
        return 1 if isinstance(node, ScalarNode) else self.known[id(node)][0]

    def _merged_values(self, key: Node, value: Node) -> int:
        """Values a pair adds to its mapping once merge keys are applied."""
        if key.tag != _MERGE_TAG:
            return self._values(key) + self._values(value)
        sources = value.value if isinstance(value, SequenceNode) else [value]
        return sum(self._values(s) - 1 for s in sources if isinstance(s, MappingNode))

    def _check(self, node: Node, values: int) -> None:
        # Values beyond those written so far can only be repeats through aliases; at the root this
        # is exact, and below it never more than the root's count.
        if values - self.written > MAX_ALIASED_VALUES:
            raise self._refused(
                node,
                f"aliases expand this value to {values:,} values; at most {MAX_ALIASED_VALUES:,}"
                " may be repeats of an anchored value (&name) through aliases (*name) or merge keys (<<)",
            )
        if values > MAX_VALUES:
            raise self._refused(node, f"too many values: the config holds more than {MAX_VALUES:,}")

    def _refused(self, node: Node, message: str) -> ConfigError:
        return ConfigError([Problem(self.file, *_position(node), message)])


def _children(node: Node) -> list[Node]:
    return [n for pair in node.value for n in pair] if isinstance(node, MappingNode) else list(node.value)


def _build(loader: yaml.SafeLoader, node: Node, path: Path, document: Document) -> Any:
    """The value of a node measured by ``_Extent``: at most MAX_DEPTH levels, merge keys applied."""
    document.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, ScalarNode):
        if node.tag == _STR_TAG:
            return node.value
        value = _scalar(loader, node, document)
        if value is _UNREADABLE:
            document.unreadable.add(path)
            return None
        return value
    if isinstance(node, SequenceNode):
        return [_build(loader, item, path + (i,), document) for i, item in enumerate(node.value)]
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        where = _position(key_node)
        key = _scalar(loader, key_node, document) if isinstance(key_node, ScalarNode) else key_node
        if key is _UNREADABLE:
            continue
        if isinstance(key, int) and not isinstance(key, bool):
            key = str(key)  # ids written without quotes as mapping keys
        if not isinstance(key, str):
            kind = "a mapping" if isinstance(key, MappingNode) else "a list" if isinstance(key, Node) else shown(key)
            document.problems.append(Problem(document.file, *where, f"keys must be text, not {kind}"))
            continue
        if key in result:
            first = document.keys[path + (key,)]
            document.problems.append(Problem(document.file, *where, f"duplicate key {shown(key)} (first at line {first[0]})"))
            continue
        document.keys[path + (key,)] = where
        result[key] = _build(loader, value_node, path + (key,), document)
    return result


def _scalar(loader: yaml.SafeLoader, node: ScalarNode, document: Document) -> Any:
    """The value of a scalar, or _UNREADABLE with a problem saying why."""
    if node.tag == _STR_TAG:
        return node.value
    if node.tag in _NUMBER_TAGS and len(node.value) > MAX_NUMBER_CHARS:
        document.problems.append(Problem(document.file, *_position(node), f"a number of more than {MAX_NUMBER_CHARS} characters"))
        return _UNREADABLE
    try:
        return loader.construct_object(node, deep=True)
    # PyYAML's constructors raise whatever the conversion raises (ValueError for `!!int x`,
    # AttributeError for `!!timestamp x`, KeyError for `!!bool x`, ConstructorError for an unknown
    # tag); each means the same to the user: this value cannot be read as its tag says.
    except Exception as error:
        reason = error.problem if isinstance(error, yaml.MarkedYAMLError) and error.problem else f"not a valid {node.tag.rsplit(':', 1)[-1]}"
        document.problems.append(Problem(document.file, *_position(node), f"YAML: {shown(node.value)} cannot be read: {reason}"))
        return _UNREADABLE


def _position(node: Node) -> tuple[int, int]:
    return _at(node.start_mark)


def _at(mark: Any) -> tuple[int, int]:
    """(line, column) counted from 1 of a mark of either parser, counted from 0; (0, 0) for none."""
    return (mark.line + 1, mark.column + 1) if mark else (0, 0)
