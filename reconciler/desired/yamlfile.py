"""YAML read into values, duplicate keys and hostile input refused; the line and column of any key or
value found when a problem needs one.

PyYAML's safe loader silently keeps the last of two equal keys; a config where that happens is
almost always a mistake (two definitions of the same template language), so it is an error here.

A config may come from someone else (a pull request, a generator), so reading one is bounded, and
each bound, when crossed, is one problem at file (line, column) rather than a hang or a traceback:

- ``MAX_FILE_BYTES``: checked before the file is read.
- ``MAX_DEPTH``: nesting, checked as the parser's events arrive (libyaml stops at 1,000 levels
  itself; no recursion here goes deeper than the bound).
- ``MAX_VALUES`` and ``MAX_ALIASED_VALUES``: aliases (``*name``) and merge keys (``<<``) let a
  few hundred bytes stand for billions of values ("billion laughs"). ``_Builder`` builds values
  straight from the events; an alias reuses the value built for its anchor, with the size
  measured then, so a bomb is refused at the first value that expands past a bound without being
  expanded, and a large file at the value that passes ``MAX_VALUES``.
- ``MAX_NUMBER_CHARS``: converting a long number (``1:2:3:...`` is base 60 in YAML 1.1) takes
  time quadratic in its length.
"""

from __future__ import annotations

import os
import reprlib
from dataclasses import dataclass, field
from typing import Any, cast

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import ConfigError, Problem

Path = tuple[Any, ...]

# libyaml's C parser when PyYAML was built with it (about ten times faster); both give marks.
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A fleet of 1,000 WABAs x 250 template names x 2 languages declared in full in every account is
# 120 MB and reads in about 31 s using about 1.1 GB (values are built from the parser's events; no
# node tree is kept). 128 MiB holds a 100 MB fleet file; beyond, split the config into files.
MAX_FILE_BYTES = 128 * 1024 * 1024
# A config nests about 13 levels (accounts, account, templates, name, languages, language,
# components, item, example, body_text, row, value); anything deeper is not a config.
MAX_DEPTH = 100
# Every value (keys included) once aliases and merge keys are expanded. The realistic 12 MB config
# holds 1.3 million; the 120 MB fleet above about 9 million.
MAX_VALUES = 10_000_000
# Values that exist only as repeats of an anchored one. Bounded apart from MAX_VALUES because a
# small file must not cost what a large one may. Sharing one set of 50 templates in 2 languages
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
    """A config file's values. Positions are not kept for every value (at fleet scale that costs
    more than the values): a problem's place is found when a problem needs one, by reading the
    file's node tree again, which happens only for a file with problems."""

    file: str
    data: Any
    problems: list[Problem] = field(default_factory=list)  # duplicate or non-text keys, unreadable values
    unreadable: set[Path] = field(default_factory=set)  # values held as None: a problem says why already
    text: str = field(default="", repr=False)
    _tree: tuple[yaml.SafeLoader, Node | None] | None = field(default=None, repr=False)

    def problem(self, path: Path, message: str, at_key: bool = False) -> Problem:
        """A problem at ``path``, or at the nearest enclosing place that has a position."""
        return Problem(self.file, *self.position(path, at_key), message)

    def position(self, path: Path, at_key: bool = False) -> tuple[int, int]:
        """(line, column) of the value at ``path`` (of its key with ``at_key``), or of the nearest
        enclosing value found; (1, 1) when the file has no node there."""
        if self._tree is None:
            self._tree = _tree(self.text)
        loader, node = self._tree
        if node is None:
            return 1, 1
        place = _position(node)
        for index, step in enumerate(path):
            found = _child(loader, node, step)
            if found is None:
                return place
            key, node = found
            place = _position(key) if at_key and key is not None and index == len(path) - 1 else _position(node)
        return place


def _tree(text: str) -> tuple[yaml.SafeLoader, Node | None]:
    """The node tree of a file that was read already (so within every bound), for positions."""
    loader = LOADER(text)
    try:
        return loader, loader.get_single_node()
    except yaml.YAMLError:
        return loader, None
    finally:
        loader.dispose()


def _child(loader: yaml.SafeLoader, node: Node, step: Any) -> tuple[Node | None, Node] | None:
    """(key node, value node) of ``step`` under ``node``, merge keys applied; None when absent."""
    if isinstance(node, MappingNode):
        own_first = [(key, value) for key, value in node.value if key.tag != _MERGE_TAG]
        if len(own_first) != len(node.value):
            try:
                loader.flatten_mapping(node)
            except yaml.YAMLError:
                return None
        # The reader keeps the first of equal keys, and a mapping's own keys over merged ones; among
        # merged pairs (flattened first, in PyYAML's order) the last is the one a mapping keeps.
        for key, value in own_first:
            if isinstance(key, ScalarNode) and key.value == str(step):
                return key, value
        for key, value in reversed(node.value):
            if isinstance(key, ScalarNode) and key.value == str(step):
                return key, value
        return None
    if isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return None, node.value[step]
    return None


def load_document(path: str) -> Document:
    """Steps: read the text (bounded); build the values from the parser's events, measuring as
    it goes (depth, values written, values repeated through aliases)."""
    text = _read(path)
    document = Document(file=path, data=None, text=text)
    try:
        loader = LOADER(text)
    except yaml.reader.ReaderError as error:  # PyYAML's reader checks every character up front
        raise ConfigError([_unreadable(path, text, error)]) from error
    try:
        document.data = _Builder(loader, document).root()
    except RecursionError as error:  # not reached: depth is bounded first; kept as a last guard
        raise ConfigError([Problem(path, 0, 0, TOO_DEEP)]) from error
    except yaml.reader.ReaderError as error:
        raise ConfigError([_unreadable(path, text, error)]) from error
    except yaml.MarkedYAMLError as error:
        raise ConfigError([_marked(path, error, "YAML syntax")]) from error
    except yaml.YAMLError as error:
        raise ConfigError([Problem(path, 0, 0, f"YAML: {error}")]) from error
    finally:
        loader.dispose()
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


@dataclass
class _Built:
    """A value built from the events, with what it expands to: values (keys included) and levels."""

    value: Any
    values: int
    levels: int
    start: Any  # the parser's mark where it starts


class _Builder:
    """The document's values straight from the parser's events: no node tree is kept (at fleet
    scale it would cost several times the values). An alias (``*name``) reuses the value built
    for its anchor, with the size measured then, so a billion laughs is refused at the first value
    that expands past a bound, after as many steps as the file has events; a file that writes too
    many values is refused at the value that passes the bound."""

    def __init__(self, loader: yaml.SafeLoader, document: Document) -> None:
        self.loader = loader
        self.document = document
        self.anchors: dict[str, _Built] = {}
        self.open: dict[str, Any] = {}  # anchors being built -> their start: an alias to one never ends
        self.written = 0  # values written in the file so far (keys included)

    def root(self) -> Any:
        self.loader.get_event()  # StreamStart
        if self.loader.check_event(yaml.StreamEndEvent):
            return None
        self.loader.get_event()  # DocumentStart
        root = self.node((), 1).value
        self.loader.get_event()  # DocumentEnd
        if not self.loader.check_event(yaml.StreamEndEvent):
            extra = self.loader.get_event()
            raise yaml.composer.ComposerError("expected a single document in the stream", None, "but found another document",
                                              extra.start_mark)
        return root

    def node(self, path: Path, depth: int) -> _Built:
        event = self.loader.get_event()
        if isinstance(event, yaml.AliasEvent):
            return self._alias(event, depth)
        if depth > MAX_DEPTH:
            raise self._refused(event.start_mark, TOO_DEEP)
        self._wrote(event.start_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._new_anchor(anchor, event.start_mark)
            self.open[anchor] = event.start_mark
        if isinstance(event, yaml.ScalarEvent):
            built = self._scalar(event, path)
        elif isinstance(event, yaml.SequenceStartEvent):
            built = self._sequence(event, path, depth)
        else:
            built = self._mapping(event, path, depth)
        if anchor is not None:
            del self.open[anchor]
            self.anchors[anchor] = built
        return built

    def _new_anchor(self, anchor: str, mark: Any) -> None:
        """YAML's composer refuses a name given to two anchors; so does this reader (and the tree
        read again for positions stays readable)."""
        first = self.anchors[anchor].start if anchor in self.anchors else self.open.get(anchor)
        if first is not None:
            raise yaml.composer.ComposerError(f"found duplicate anchor {anchor!r}; first occurrence", first, "second occurrence", mark)

    def _alias(self, event: yaml.AliasEvent, depth: int) -> _Built:
        if event.anchor in self.open:
            raise self._refused(self.open[event.anchor], "an alias (*name) inside the value it names: it never ends")
        if event.anchor not in self.anchors:
            raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}", cast(Any, event.start_mark))
        built = self.anchors[event.anchor]
        if depth + built.levels - 1 > MAX_DEPTH:
            raise self._refused(built.start, TOO_DEEP)
        return built

    def _scalar(self, event: yaml.ScalarEvent, path: Path) -> _Built:
        tag = event.tag if event.tag not in (None, "!") else self.loader.resolve(ScalarNode, event.value, event.implicit)
        node = ScalarNode(tag, event.value, cast(Any, event.start_mark), cast(Any, event.end_mark), event.style)
        value = _scalar(self.loader, node, self.document)
        if value is _UNREADABLE:
            self.document.unreadable.add(path)
            value = None
        return _Built(value, 1, 1, event.start_mark)

    def _sequence(self, start: Any, path: Path, depth: int) -> _Built:
        items: list[Any] = []
        values, levels = 1, 1
        while not self.loader.check_event(yaml.SequenceEndEvent):
            item = self.node(path + (len(items),), depth + 1)
            items.append(item.value)
            values += item.values
            levels = max(levels, item.levels + 1)
        self.loader.get_event()
        return self._checked(_Built(items, values, levels, start.start_mark))

    def _mapping(self, start: Any, path: Path, depth: int) -> _Built:
        own: dict[str, Any] = {}
        lines: dict[str, int] = {}  # the line of each key, for a duplicate's message
        sources: list[_Built] = []  # what merge keys (<<) bring in, in order
        values, levels = 1, 1
        while not self.loader.check_event(yaml.MappingEndEvent):
            event = self.loader.peek_event()
            where = _at(event.start_mark)
            if isinstance(event, yaml.ScalarEvent) and event.tag is None and event.implicit[0] and event.value == "<<":
                self.loader.get_event()
                self._wrote(event.start_mark)
                brought = self._merged(path, depth + 1)
                sources += brought
                values += sum(source.values - 1 for source in brought)
                levels = max([levels, *(source.levels for source in brought)])
                continue
            key = self._key(path, depth + 1)
            value = self.node(path + (key,) if isinstance(key, str) else path, depth + 1)
            values += 1 + value.values
            levels = max(levels, value.levels + 1)
            if key is _UNREADABLE:
                continue  # its problem is listed already
            if not isinstance(key, str):
                kind = "a mapping" if isinstance(key, dict) else "a list" if isinstance(key, list) else shown(key)
                self.document.problems.append(Problem(self.document.file, *where, f"keys must be text, not {kind}"))
                continue
            if key in lines:
                self.document.problems.append(Problem(self.document.file, *where, f"duplicate key {shown(key)} (first at line {lines[key]})"))
                continue
            lines[key] = where[0]
            own[key] = value.value
        self.loader.get_event()
        if not sources:
            return self._checked(_Built(own, values, levels, start.start_mark))
        self._checked(_Built(None, values, levels, start.start_mark))  # before copying: a merge bomb is refused, not built
        result: dict[str, Any] = {}
        for source in sources:  # the first source listed wins over later ones ...
            for name, item in source.value.items():
                result.setdefault(name, item)
        result.update(own)  # ... and the mapping's own keys over every source
        return self._checked(_Built(result, values, levels, start.start_mark))

    def _key(self, path: Path, depth: int) -> Any:
        """A mapping key: text (a number becomes its text), _UNREADABLE, or what else it is."""
        event = self.loader.peek_event()
        if not isinstance(event, yaml.ScalarEvent):
            key = self.node(path, depth).value
        else:
            self.loader.get_event()
            if depth > MAX_DEPTH:
                raise self._refused(event.start_mark, TOO_DEEP)
            self._wrote(event.start_mark)
            if event.anchor is not None:
                self._new_anchor(event.anchor, event.start_mark)
            tag = event.tag if event.tag not in (None, "!") else self.loader.resolve(ScalarNode, event.value, event.implicit)
            node = ScalarNode(tag, event.value, cast(Any, event.start_mark), cast(Any, event.end_mark), event.style)
            key = _scalar(self.loader, node, self.document)
            if event.anchor is not None and key is not _UNREADABLE:
                self.anchors[event.anchor] = _Built(key, 1, 1, event.start_mark)
        if isinstance(key, int) and not isinstance(key, bool):
            return str(key)  # ids written without quotes as mapping keys
        return key

    def _merged(self, path: Path, depth: int) -> list[_Built]:
        """The mappings a merge key (``<<``) brings in: one mapping, or a list of mappings."""
        event = self.loader.peek_event()
        if isinstance(event, yaml.SequenceStartEvent):
            self.loader.get_event()
            self._wrote(event.start_mark)
            items = []
            while not self.loader.check_event(yaml.SequenceEndEvent):
                item = self.node(path, depth + 1)
                if not isinstance(item.value, dict):
                    raise yaml.constructor.ConstructorError("while constructing a mapping", cast(Any, event.start_mark),
                                                            f"expected a mapping for merging, but found {_kind(item.value)}", item.start)
                items.append(item)
            self.loader.get_event()
            return items
        value = self.node(path, depth)
        if not isinstance(value.value, dict):
            raise yaml.constructor.ConstructorError("while constructing a mapping", None,
                                                    f"expected a mapping or list of mappings for merging, but found {_kind(value.value)}",
                                                    value.start)
        return [value]

    def _wrote(self, mark: Any) -> None:
        self.written += 1
        if self.written > MAX_VALUES:
            raise self._refused(mark, f"too many values: the config holds more than {MAX_VALUES:,}")

    def _checked(self, built: _Built) -> _Built:
        # Values beyond those written so far can only be repeats through aliases; at the root this
        # is exact, and below it never more than the root's count.
        if built.values - self.written > MAX_ALIASED_VALUES:
            raise self._refused(built.start, f"aliases expand this value to {built.values:,} values; at most {MAX_ALIASED_VALUES:,}"
                                " may be repeats of an anchored value (&name) through aliases (*name) or merge keys (<<)")
        if built.values > MAX_VALUES:
            raise self._refused(built.start, f"too many values: the config holds more than {MAX_VALUES:,}")
        return built

    def _refused(self, mark: Any, message: str) -> ConfigError:
        return ConfigError([Problem(self.document.file, *_at(mark), message)])


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


def _kind(value: Any) -> str:
    return "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else "a scalar"


def _position(node: Node) -> tuple[int, int]:
    return _at(node.start_mark)


def _at(mark: Any) -> tuple[int, int]:
    """(line, column) counted from 1 of a mark of either parser, counted from 0; (0, 0) for none."""
    return (mark.line + 1, mark.column + 1) if mark else (0, 0)
