"""Shopify's calculated query cost, from a query document and the Admin schema.

Shopify charges by what a query asks for, not per request: a scalar or enum
costs 0, an object 1, a connection 2 plus ``first`` (or ``last``) times the
cost of one node, a list field sized by ``first`` likewise, and every mutation
10. The *requested* cost is computed before running the query from those sizes;
the *actual* cost after it, from the number of nodes that came back. A single
query may not request more than 1000 points.

The sandbox charges with this module, and the client uses it to ask the rate
limiter for exactly what the next query will request, so it waits just long
enough instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    parse,
    value_from_ast_untyped,
)
from graphql.type import GraphQLNamedType, GraphQLOutputType, get_named_type, is_leaf_type

__all__ = [
    "MAX_QUERY_COST",
    "MUTATION_COST",
    "QueryCost",
    "admin_schema",
    "build_admin_schema",
]

MAX_QUERY_COST = 1000
MUTATION_COST = 10
_SCHEMA_FILE = Path(__file__).with_name("admin.graphql")


def build_admin_schema() -> GraphQLSchema:
    """A new schema object for the Admin API subset (admin.graphql), without resolvers."""
    return build_schema(_SCHEMA_FILE.read_text(encoding="utf-8"))


admin_schema = cache(build_admin_schema)
"""The schema shared by every reader that binds no resolvers (cost, validation)."""


class QueryCost:
    """Cost of one operation: requested up front, actual once its data is known."""

    def __init__(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        schema: GraphQLSchema | None = None,
    ) -> None:
        self.schema = schema or admin_schema()
        parsed = parse(document)
        self.fragments = {
            d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
        }
        operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
        self.operation = operations[0]
        self.variables = dict(variables or {})

    @property
    def is_mutation(self) -> bool:
        return self.operation.operation.value == "mutation"

    def requested(self) -> int:
        if self.is_mutation:
            return MUTATION_COST
        root = self.schema.query_type
        assert root is not None
        return self._selection(self.operation.selection_set, root, None)

    def actual(self, data: Any) -> int:
        if self.is_mutation:
            return MUTATION_COST
        root = self.schema.query_type
        assert root is not None
        return self._selection(self.operation.selection_set, root, data if data else {})

    def _selection(
        self, selection: SelectionSetNode | None, parent: GraphQLNamedType, data: Any
    ) -> int:
        if selection is None or not isinstance(parent, GraphQLObjectType):
            return 0
        total = 0
        for node in selection.selections:
            if isinstance(node, FieldNode):
                total += self._field(node, parent, data)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                if condition is None or condition.name.value == parent.name:
                    total += self._selection(node.selection_set, parent, data)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments[node.name.value]
                if fragment.type_condition.name.value == parent.name:
                    total += self._selection(fragment.selection_set, parent, data)
        return total

    def _field(self, node: FieldNode, parent: GraphQLObjectType, data: Any) -> int:
        name = node.name.value
        if name.startswith("__") or name not in parent.fields:
            return 0
        field_type: GraphQLOutputType = parent.fields[name].type
        named = get_named_type(field_type)
        if is_leaf_type(named):
            return 0
        key = node.alias.value if node.alias else name
        value = data.get(key) if isinstance(data, dict) else None
        if named.name.endswith("Connection") and isinstance(named, GraphQLObjectType):
            return 2 + self._connection(node, named, value, data is not None)
        if _is_list(field_type):
            size = self._size(node)
            items = value if isinstance(value, list) else []
            if data is not None:
                return sum(1 + self._selection(node.selection_set, named, i) for i in items)
            return size * (1 + self._selection(node.selection_set, named, None))
        if data is not None and value is None:
            return 0  # a null object field: Shopify stops counting there
        return 1 + self._selection(node.selection_set, named, value)

    def _connection(
        self, node: FieldNode, connection: GraphQLObjectType, value: Any, actual: bool
    ) -> int:
        """Sized by first/last when requested; by the nodes that came back when actual."""
        node_type = get_named_type(connection.fields["nodes"].type)
        per_node: list[int] = []
        for part in node.selection_set.selections if node.selection_set else ():
            if not isinstance(part, FieldNode) or part.name.value not in ("nodes", "edges"):
                continue
            found = (value or {}).get(part.alias.value if part.alias else part.name.value) or []
            if part.name.value == "nodes":
                selection, items = part.selection_set, found
            else:
                inner = _child(part, "node")
                selection = inner.selection_set if inner else None
                items = [edge.get("node") or {} for edge in found]
            for item in items if actual else [None]:
                per_node.append(1 + self._selection(selection, node_type, item))
        if actual:
            return sum(per_node)
        return self._size(node) * max(per_node, default=1)

    def _size(self, node: FieldNode) -> int:
        for argument in node.arguments:
            if argument.name.value in ("first", "last"):
                value = value_from_ast_untyped(argument.value, self.variables)
                if isinstance(value, int):
                    return value
        return 1


def _is_list(field_type: GraphQLOutputType) -> bool:
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    return isinstance(inner, GraphQLList)


def _child(node: FieldNode, name: str) -> FieldNode | None:
    for part in node.selection_set.selections if node.selection_set else ():
        if isinstance(part, FieldNode) and part.name.value == name:
            return part
    return None
