"""YAML read with the position of every key, so errors can say file:line:column.

``yaml.safe_load`` forgets where values came from. We compose the node tree
instead, build the plain values ourselves (scalars still go through PyYAML's
SafeConstructor, so ``yes``, ``3`` and ``2024-01-01`` mean what YAML says),
and keep a map from each key path to where it is written.

A duplicate key, which ``safe_load`` silently resolves to the last value, is
reported: in a config file it is almost always a paste gone wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml
from yaml.constructor import SafeConstructor
from yaml.reader import ReaderError

from hub.config.fields import Loc

__all__ = ["Position", "YamlDocument", "YamlSyntaxError", "dotted", "parse_yaml"]

_MERGE_TAG = "tag:yaml.org,2002:merge"


class Position(NamedTuple):
    """1-based line and column, as editors and compilers count them."""

    line: int
    column: int

    @classmethod
    def of(cls, mark: yaml.Mark) -> Position:
        return cls(mark.line + 1, mark.column + 1)


class YamlSyntaxError(Exception):
    """The text is not YAML; nothing else about the file can be checked."""

    def __init__(self, position: Position, message: str) -> None:
        super().__init__(message)
        self.position = position
        self.message = message


@dataclass
class YamlDocument:
    """Plain values of a YAML file, where each key is, and what is wrong with it."""

    data: Any
    positions: dict[Loc, Position] = field(default_factory=dict)
    problems: list[tuple[Position, str]] = field(default_factory=list)

    def position(self, loc: Loc) -> Position:
        """Where ``loc`` is written, or its nearest written parent (for a missing key)."""
        return self.positions.get(self.written(loc), Position(1, 1))

    def written(self, loc: Loc) -> Loc:
        """The longest prefix of ``loc`` that names something in the file."""
        end = len(loc)
        while end and loc[:end] not in self.positions:
            end -= 1
        return loc[:end]


def dotted(loc: Loc) -> str:
    """``connections.shop.streams[1]``: a path as a person reads it."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document; raise YamlSyntaxError when the text is not YAML."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        document = YamlDocument(data=None)
        if root is not None:
            document.data = _Builder(document).build(root, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = Position.of(mark) if mark else Position(1, 1)
        where = ""
        if exc.context and exc.context_mark and exc.context_mark is not mark:
            where = f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise YamlSyntaxError(position, f"YAML syntax error: {exc.problem}{where}") from None
    except ReaderError as exc:  # a control character: the only error without a mark
        before = text[: exc.position]
        position = Position(before.count("\n") + 1, len(before) - before.rfind("\n"))
        message = f"YAML syntax error: character #x{exc.character:04x} is not allowed"
        raise YamlSyntaxError(position, message) from None
    return document


class _Builder:
    def __init__(self, document: YamlDocument) -> None:
        self.document = document
        self.constructor = SafeConstructor()

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.document.positions[(*loc, index)] = Position.of(item.start_mark)
                items.append(self.build(item, (*loc, index)))
            return items
        return self.constructor.construct_object(node)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        """Own keys win over ``<<: *anchor`` merges, whose values only fill the gaps.

        Merge sources are built first so that the positions of keys written
        here overwrite those of the anchor they shadow.
        """
        merged = [
            source
            for key_node, value_node in node.value
            if key_node.tag == _MERGE_TAG
            for source in self._merge_sources(value_node, loc)
        ]
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            position = Position.of(key_node.start_mark)
            if key_node.tag == _MERGE_TAG:
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.document.problems.append((position, "a key must be a plain value"))
                continue
            key = self.constructor.construct_object(key_node)
            if key in result:
                first = self.document.positions[(*loc, key)]
                where = f" in {dotted(loc)}" if loc else ""
                self.document.problems.append(
                    (position, f"duplicate key '{key}'{where} (first at line {first.line})")
                )
                continue
            self.document.positions[(*loc, key)] = position
            result[key] = self.build(value_node, (*loc, key))
        for source in merged:
            for key, value in source.items():
                result.setdefault(key, value)
        return result

    def _merge_sources(self, node: yaml.Node, loc: Loc) -> list[dict[Any, Any]]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        built: list[dict[Any, Any]] = []
        for source in sources:
            if isinstance(source, yaml.MappingNode):
                built.append(self._mapping(source, loc))
            else:
                position = Position.of(source.start_mark)
                self.document.problems.append((position, "'<<' merges only mappings"))
        return built
