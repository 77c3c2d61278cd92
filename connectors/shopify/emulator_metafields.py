"""Customer metafields in the sandbox: ``metafieldsSet``, ``metafieldsDelete`` and reading them.

No vendor-recorded GraphQL metafield traffic is available (the only vendor
file is the legacy REST list, tests/fixtures/vendor/shopify/rest_fixtures/
metafields.json, which shows the namespace/key/value triple and nothing of
the GraphQL mutations), so this follows Shopify's public reference for
2025-01 (shopify.dev/docs/api/admin-graphql/2025-01: mutations metafieldsSet
and metafieldsDelete, input MetafieldsSetInput, enum
MetafieldsSetUserErrorCode) and the metafield limits page
(shopify.dev/docs/apps/build/custom-data/metafields/metafield-limits):

- ``metafieldsSet`` takes at most 25 metafields and is atomic: one bad input
  and nothing is stored; ``metafields`` is null and each problem is a
  ``MetafieldsSetUserError`` with ``code``, ``elementIndex`` and ``field``
  (``["metafields", "<index>", "<input field>"]``).
- A namespace is 3-255 characters and a key 2-64, of letters, digits, ``-``
  and ``_``; ``type`` is required where no definition exists (the sandbox has
  none); a ``single_line_text_field`` holds one line of at most 65,536
  characters.
- An input without a namespace (or with ``$app``) lands in the app's
  reserved namespace ``app--<app id>``.
- Setting an existing metafield replaces its value and keeps its id; an
  owner that does not exist is ``INVALID_VALUE`` on ``ownerId``.
- ``metafieldsDelete`` answers one entry per identifier, null for a
  metafield that was not there, and still succeeds.
- Metafield changes do not change the customer's ``updatedAt``, and send no
  ``customers/update`` webhook: the reference lists metafields as data of
  their own, not customer fields. (Shopify does not document this either way;
  the sandbox takes the stricter reading, so the connector must not rely on a
  metafield write to be seen by an incremental pull.)
- Cost: each mutation 10 points; ``metafields(first: N)`` a connection
  (2 + N), as connectors/shopify/cost.py computes for every connection.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from connectors.shopify.emulator import Node, ShopState, connection, gid
from connectors.shopify.emulator_writes import iso

__all__ = ["APP_NAMESPACE", "MAX_SET", "MAX_TEXT", "Metafields"]

MAX_SET = 25
"""Metafields one ``metafieldsSet`` call may set."""
MAX_TEXT = 65_536
"""Characters a ``single_line_text_field`` holds (the limits page: 64 KB)."""
TYPES = frozenset(
    {
        "single_line_text_field",
        "multi_line_text_field",
        "number_integer",
        "number_decimal",
        "boolean",
        "date",
        "date_time",
        "json",
        "url",
    }
)
"""The types the sandbox accepts; Shopify has more (references, lists, measurements)."""
APP_NAMESPACE = "app--1"
"""The sandbox app's reserved namespace, used when an input names none (as Shopify does)."""
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_KEY = "_metafields"
"""Where a stored customer keeps its metafields, by ``namespace.key``; no schema field."""


def _error(index: int, field: str, code: str, message: str) -> Node:
    return {
        "code": code,
        "elementIndex": index,
        "field": ["metafields", str(index), field],
        "message": message,
    }


def held(customer: Node) -> dict[str, Node]:
    """A stored customer's metafields by ``namespace.key`` (created on first use)."""
    fields: dict[str, Node] = customer.setdefault(_KEY, {})
    return fields


def _name_errors(index: int, field: str, name: str, shortest: int, longest: int) -> list[Node]:
    """Shopify's checks on a namespace or key: its length first, then its characters."""
    label = field.capitalize()
    if not shortest <= len(name) <= longest:
        code = "TOO_SHORT" if len(name) < shortest else "TOO_LONG"
        return [
            _error(index, field, code, f"{label} must be {shortest}-{longest} characters long.")
        ]
    if not _NAME.match(name):
        message = f"{label} can only contain alphanumeric, hyphen, and underscore characters."
        return [_error(index, field, "INVALID", message)]
    return []


def _namespace(given: Node) -> str:
    """The namespace given; without one (or ``$app``), the app's reserved ``app--<id>``."""
    namespace = given.get("namespace")
    return APP_NAMESPACE if namespace in (None, "$app") else str(namespace)


class Metafields:
    """Metafield resolvers over one :class:`ShopState`'s customers."""

    def __init__(self, state: ShopState, stamp: Callable[[], datetime]) -> None:
        self.state = state
        self.stamp = stamp
        self.changes = 0
        """Metafields set or deleted: writes to count."""
        self._numbers = itertools.count(30_000_000_001)

    def bind(self, schema: GraphQLSchema) -> None:
        mutation = schema.mutation_type
        customer = schema.get_type("Customer")
        assert isinstance(mutation, GraphQLObjectType)
        assert isinstance(customer, GraphQLObjectType)
        mutation.fields["metafieldsSet"].resolve = self.set_values
        mutation.fields["metafieldsDelete"].resolve = self.delete_values
        customer.fields["metafields"].resolve = self.read_all
        customer.fields["metafield"].resolve = self.read_one

    # Reading.

    def read_all(self, customer: Node, info: GraphQLResolveInfo, **args: Any) -> Node:
        namespace, keys = args.get("namespace"), args.get("keys")
        items = [
            field
            for name, field in held(customer).items()
            if (namespace is None or field["namespace"] == namespace)
            and (keys is None or name in keys)
        ]
        return connection(items, args, info, searchable=False)

    def read_one(
        self, customer: Node, info: GraphQLResolveInfo, key: str, namespace: str | None = None
    ) -> Node | None:
        return held(customer).get(f"{namespace}.{key}")

    # Writing.

    def set_values(self, _: Any, info: Any, metafields: list[Node]) -> Node:
        errors: list[Node] = []
        if len(metafields) > MAX_SET:
            errors.append(
                {
                    "code": "LESS_THAN_OR_EQUAL_TO",
                    "elementIndex": None,
                    "field": ["metafields"],
                    "message": f"Exceeded the maximum metafields input limit of {MAX_SET}.",
                }
            )
        for index, given in enumerate(metafields):
            errors += self._check(index, given)
        if errors:
            return {"metafields": None, "userErrors": errors}
        now = iso(self.stamp())
        written = []
        for given in metafields:
            customer = self.state.customers[given["ownerId"]]
            name = f"{_namespace(given)}.{given['key']}"
            existing = held(customer).get(name)
            field: Node = existing or {
                "id": gid("Metafield", next(self._numbers)),
                "namespace": _namespace(given),
                "key": given["key"],
                "ownerType": "CUSTOMER",
                "createdAt": now,
            }
            field.update(
                value=given["value"],
                type=given["type"],
                updatedAt=now,
                compareDigest=hashlib.sha256(given["value"].encode()).hexdigest(),
            )
            held(customer)[name] = field
            self.state.others[field["id"]] = field
            self.changes += 1
            written.append(field)
        return {"metafields": written, "userErrors": []}

    def _check(self, index: int, given: Node) -> list[Node]:
        errors: list[Node] = []
        owner = given["ownerId"]
        if owner not in self.state.customers:
            errors.append(_error(index, "ownerId", "INVALID_VALUE", "Owner does not exist."))
        errors += _name_errors(index, "namespace", _namespace(given), 3, 255)
        errors += _name_errors(index, "key", given["key"], 2, 64)
        kind, value = given.get("type"), given["value"]
        if not kind:
            errors.append(_error(index, "type", "BLANK", "Type can't be blank."))
        elif kind not in TYPES:
            errors.append(
                _error(index, "type", "INVALID_TYPE", f"Type '{kind}' is not a valid type.")
            )
        elif kind == "single_line_text_field":
            if len(value) > MAX_TEXT:
                errors.append(
                    _error(
                        index,
                        "value",
                        "TOO_LONG",
                        f"Value is too long (maximum is {MAX_TEXT} characters).",
                    )
                )
            elif "\n" in value or "\r" in value:
                errors.append(
                    _error(
                        index, "value", "INVALID_VALUE", "Value must be a single line text string."
                    )
                )
            elif not value.strip():
                errors.append(_error(index, "value", "BLANK", "Value can't be blank."))
        return errors

    def delete_values(self, _: Any, info: Any, metafields: list[Node]) -> Node:
        deleted: list[Node | None] = []
        for given in metafields:
            customer = self.state.customers.get(given["ownerId"])
            name = f"{given['namespace']}.{given['key']}"
            field = held(customer).pop(name, None) if customer is not None else None
            if field is None:
                deleted.append(None)
                continue
            self.state.others.pop(field["id"], None)
            self.changes += 1
            deleted.append(
                {"ownerId": given["ownerId"], "namespace": field["namespace"], "key": field["key"]}
            )
        return {"deletedMetafields": deleted, "userErrors": []}
