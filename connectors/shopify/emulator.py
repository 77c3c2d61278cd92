"""The shop behind the sandbox: customers and orders in memory, served through admin.graphql.

Records are kept in the shape the Admin API returns them (camelCase fields,
GIDs, ``MoneyBag`` amounts as decimal strings, UTC timestamps to the second),
so graphql-core's default resolvers read most fields straight from them; the
resolvers here add what Shopify computes: connections with opaque cursors,
search filters, sort keys, ``amountSpent`` and ``numberOfOrders``, and nodes
looked up by GID. A bulk operation runs the same resolvers without page sizes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from connectors.shopify.cost import build_admin_schema
from connectors.shopify.search import matcher

__all__ = ["MAX_PAGE", "Node", "ShopState", "gid", "money", "numeric_id"]

MAX_PAGE = 250
SHOP_CURRENCY = "EUR"
Node = dict[str, Any]

_SORTS: dict[str, str | None] = {
    "ID": None,
    "UPDATED_AT": "updatedAt",
    "CREATED_AT": "createdAt",
    "PROCESSED_AT": "processedAt",
    "RELEVANCE": None,
}


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def numeric_id(global_id: str) -> int:
    return int(global_id.rsplit("/", 1)[1])


def money(amount: Decimal, currency: str = SHOP_CURRENCY) -> Node:
    """A ``MoneyBag``: the shop's and the buyer's currency are the same in the sandbox."""
    value = {"amount": f"{amount:.2f}", "currencyCode": currency}
    return {"shopMoney": value, "presentmentMoney": dict(value)}


def _encode(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def _decode(cursor: str) -> list[Any]:
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from None
    if not isinstance(position, list):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}")
    return position


class ShopState:
    """Customers and orders by GID, and the schema with resolvers bound to them."""

    def __init__(self) -> None:
        self.customers: dict[str, Node] = {}
        self.orders: dict[str, Node] = {}
        self.orders_of: dict[str, list[str]] = {}
        self.others: dict[str, Node] = {}
        """Other nodes looked up by GID (bulk operations)."""
        self.schema = _bind(self)

    def node(self, global_id: str) -> Node | None:
        kind = global_id.split("/")[3] if global_id.count("/") >= 4 else ""
        table = {"Customer": self.customers, "Order": self.orders}.get(kind, self.others)
        return table.get(global_id)

    def add_order(self, order: Node) -> None:
        self.orders[order["id"]] = order
        if order.get("customerId"):
            self.orders_of.setdefault(order["customerId"], []).append(order["id"])

    def spent(self, customer_id: str) -> tuple[Decimal, int]:
        """What Shopify shows on a customer: paid totals net of refunds, and order count."""
        total, count = Decimal(0), 0
        for order_id in self.orders_of.get(customer_id, []):
            order = self.orders.get(order_id)
            if order is None:
                continue
            count += 1
            if order.get("cancelledAt") is None:
                paid = Decimal(order["totalPriceSet"]["shopMoney"]["amount"])
                total += paid - Decimal(order["totalRefundedSet"]["shopMoney"]["amount"])
        return total, count


def connection(
    items: Iterable[Node],
    args: dict[str, Any],
    info: GraphQLResolveInfo,
    *,
    sort: str | None = None,
    searchable: bool = True,
) -> Node:
    """One page of ``items`` as Shopify's ``edges``/``nodes``/``pageInfo``.

    The cursor holds the sort value and the numeric id of the node it points
    at, so a next page continues after it even when records change between
    pages. Outside a bulk operation ``first`` or ``last`` is required, at most 250.
    """
    first, last = args.get("first"), args.get("last")
    bulk = bool((info.context or {}).get("bulk"))
    if not bulk:
        if first is None and last is None:
            raise GraphQLError("you must provide one of first or last")
        for name, size in (("first", first), ("last", last)):
            if size is not None and not 0 <= size <= MAX_PAGE:
                raise GraphQLError(
                    f"The input value for '{name}' must be between 0 and {MAX_PAGE}, got {size}"
                )
    key_field = sort or _SORTS.get(args.get("sortKey") or "ID")

    def key(node: Node) -> list[Any]:
        value = node.get(key_field) if key_field else None
        return [value if value is not None else "", numeric_id(node["id"])]

    wanted = matcher(args.get("query")) if searchable else (lambda node: True)
    rows = sorted((node for node in items if wanted(node)), key=key)
    if args.get("reverse"):
        rows.reverse()
    if args.get("after"):
        after = _decode(args["after"])
        rows = [n for n in rows if (key(n) < after if args.get("reverse") else key(n) > after)]
    if args.get("before"):
        before = _decode(args["before"])
        rows = [n for n in rows if (key(n) > before if args.get("reverse") else key(n) < before)]
    total = len(rows)
    if first is not None:
        rows = rows[:first]
    elif last is not None:
        rows = rows[-last:] if last else []
    edges = [{"cursor": _encode(key(node)), "node": node} for node in rows]
    more = len(rows) < total
    return {
        "edges": edges,
        "nodes": rows,
        "pageInfo": {
            "hasNextPage": more and first is not None,
            "hasPreviousPage": more and last is not None,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _positional(items: list[Node], args: dict[str, Any], info: GraphQLResolveInfo) -> Node:
    """A nested connection (an order's line items): in stored order, cursors by position."""
    numbered = [{**item, "_position": index} for index, item in enumerate(items)]
    return connection(numbered, args, info, sort="_position", searchable=False)


def _bind(state: ShopState) -> GraphQLSchema:
    """A schema of this shop's own: resolvers are bound to one sandbox's state."""
    schema = build_admin_schema()

    def on(type_name: str, field: str, resolve: Callable[..., Any]) -> None:
        owner = schema.get_type(type_name)
        assert isinstance(owner, GraphQLObjectType)
        owner.fields[field].resolve = resolve

    on("Query", "customers", lambda _, info, **a: connection(state.customers.values(), a, info))
    on("Query", "orders", lambda _, info, **a: connection(state.orders.values(), a, info))
    on("Query", "customer", lambda _, info, id: state.customers.get(id))
    on("Query", "order", lambda _, info, id: state.orders.get(id))
    on("Query", "node", lambda _, info, id: state.node(id))
    on(
        "Query",
        "currentBulkOperation",
        lambda _, info, type="QUERY": (info.context or {}).get("current_bulk"),
    )
    on("Customer", "displayName", _display_name)
    on("Customer", "addresses", lambda c, info, first=None: c["addresses"][:first])
    on("Customer", "defaultAddress", lambda c, info: (c["addresses"] or [None])[0])
    on(
        "Customer",
        "amountSpent",
        lambda c, info: money(state.spent(c["id"])[0])["shopMoney"],
    )
    on("Customer", "numberOfOrders", lambda c, info: state.spent(c["id"])[1])
    on("Order", "customer", lambda o, info: state.customers.get(o.get("customerId") or ""))
    on("Order", "lineItems", lambda o, info, **a: _positional(o["lineItems"], a, info))
    on("Order", "refunds", lambda o, info, first=None: o["refunds"][:first])
    node_type = schema.get_type("Node")
    node_type.resolve_type = lambda value, info, abstract: value["id"].split("/")[3]  # type: ignore[union-attr]
    return schema


def _display_name(customer: Node, info: GraphQLResolveInfo) -> str:
    name = " ".join(part for part in (customer.get("firstName"), customer.get("lastName")) if part)
    return name or customer.get("email") or customer.get("phone") or ""
