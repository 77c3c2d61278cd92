"""Rows of a spreadsheet <-> canonical records, driven by the column map.

A target is a canonical field name, or a prefixed path for the nested and keyed
parts of the model: ``address.city``, ``consent.email``, ``identifier:tax_id``,
``attribute:loyalty_tier``, ``acquisition.source``, and for order files
``line.sku``, ``line.quantity`` ... Lists (``emails``, ``phones``, ``tags``) are
written ``a;b``. These functions are pure so they can be tested as tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.model import Customer, Order

__all__ = [
    "CUSTOMER_TARGETS",
    "EXPORT_COLUMNS",
    "LIST_SEPARATOR",
    "ORDER_TARGETS",
    "customer_to_row",
    "order_to_rows",
    "row_to_customer",
    "rows_to_order",
]

LIST_SEPARATOR = ";"
CUSTOMER_TARGETS = frozenset(
    {
        "external_id",
        "first_name",
        "last_name",
        "email",
        "emails",
        "phone",
        "phones",
        "birth_date",
        "gender",
        "language",
        "tags",
        "note",
        "created_at",
        "updated_at",
    }
)
ORDER_TARGETS = frozenset(
    {
        "external_id",
        "number",
        "customer_hub_id",
        "customer_ref",
        "customer_email",
        "placed_at",
        "currency",
        "subtotal",
        "discount",
        "shipping",
        "tax",
        "total",
        "refunded",
        "status",
        "financial_status",
        "fulfillment_status",
        "channel",
        "cancelled_at",
        "updated_at",
    }
)
EXPORT_COLUMNS: dict[str, dict[str, str]] = {
    "customers": {
        "hub_id": "external_id",
        "email": "email",
        "first_name": "first_name",
        "last_name": "last_name",
        "phone": "phone",
        "street": "address.line1",
        "city": "address.city",
        "postcode": "address.postcode",
        "country": "address.country",
        "birth_date": "birth_date",
        "language": "language",
        "email_consent": "consent.email",
        "sms_consent": "consent.sms",
        "tags": "tags",
        "acquisition_source": "acquisition.source",
        "created_at": "created_at",
        "updated_at": "updated_at",
    },
    "orders": {
        "order_id": "external_id",
        "number": "number",
        "customer_hub_id": "customer_hub_id",
        "placed_at": "placed_at",
        "currency": "currency",
        "total": "total",
        "status": "status",
        "financial_status": "financial_status",
        "sku": "line.sku",
        "product": "line.name",
        "category": "line.category",
        "quantity": "line.quantity",
        "unit_price": "line.unit_price",
        "line_total": "line.total",
    },
}
_PREFIXES = ("address.", "consent.", "identifier:", "attribute:", "acquisition.")
_CONSENT_WORDS = {
    "yes": "subscribed",
    "true": "subscribed",
    "1": "subscribed",
    "subscribed": "subscribed",
    "no": "unsubscribed",
    "false": "unsubscribed",
    "0": "unsubscribed",
    "unsubscribed": "unsubscribed",
    "pending": "pending",
    "not_subscribed": "not_subscribed",
}


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def row_to_customer(
    row: Mapping[str, Any], columns: Mapping[str, str], source: str
) -> tuple[str, dict[str, Any]]:
    """Return (external id, Customer-shaped dict); the caller validates it."""
    data: dict[str, Any] = {}
    external_id = ""
    for column, target in columns.items():
        value = row.get(column)
        if _blank(value):
            continue
        text = str(value).strip()
        if target == "external_id":
            external_id = text
        elif target in ("email", "phone"):
            data.setdefault(f"{target}s", []).append(text)
        elif target in ("emails", "phones", "tags"):
            data.setdefault(target, []).extend(_split(text))
        elif target.startswith("address."):
            addresses = data.setdefault("addresses", [{}])
            addresses[0][target.removeprefix("address.")] = text
        elif target.startswith("consent."):
            status = _CONSENT_WORDS.get(text.lower())
            if status is None:
                raise ValueError(f"column {column!r}: consent value {text!r} is not yes/no")
            data.setdefault("consents", {})[target.removeprefix("consent.")] = {
                "status": status,
                "source": source,
            }
        elif target.startswith("identifier:"):
            data.setdefault("identifiers", {})[target.removeprefix("identifier:")] = text
        elif target.startswith("attribute:"):
            data.setdefault("attributes", {})[target.removeprefix("attribute:")] = text
        elif target.startswith("acquisition."):
            data.setdefault("acquisition", {})[target.removeprefix("acquisition.")] = text
        else:
            data[target] = text
    if not external_id:
        raise ValueError("the row has no value in the column mapped to external_id")
    return external_id, data


def customer_to_row(
    external_id: str, customer: Customer, columns: Mapping[str, str]
) -> dict[str, str]:
    """The inverse of :func:`row_to_customer` for the columns that are mapped."""
    data = customer.model_dump(mode="json", exclude_none=True)
    row: dict[str, str] = {}
    for column, target in columns.items():
        row[column] = _customer_value(external_id, data, target)
    return row


def _customer_value(external_id: str, data: dict[str, Any], target: str) -> str:
    if target == "external_id":
        return external_id
    if target in ("email", "phone"):
        values = data.get(f"{target}s") or []
        return str(values[0]) if values else ""
    if target in ("emails", "phones", "tags"):
        return LIST_SEPARATOR.join(data.get(target) or [])
    if target.startswith("address."):
        addresses = data.get("addresses") or [{}]
        return str(addresses[0].get(target.removeprefix("address."), ""))
    if target.startswith("consent."):
        consent = (data.get("consents") or {}).get(target.removeprefix("consent."))
        return str(consent["status"]) if consent else ""
    for prefix, key in (("identifier:", "identifiers"), ("attribute:", "attributes")):
        if target.startswith(prefix):
            value = (data.get(key) or {}).get(target.removeprefix(prefix))
            return "" if value is None else str(value)
    if target.startswith("acquisition."):
        return str((data.get("acquisition") or {}).get(target.removeprefix("acquisition."), ""))
    value = data.get(target)
    return "" if value is None else str(value)


def rows_to_order(
    rows: list[Mapping[str, Any]], columns: Mapping[str, str]
) -> tuple[str, dict[str, Any]]:
    """Fold the rows of one order (one per line) into an Order-shaped dict."""
    order: dict[str, Any] = {"lines": []}
    external_id = ""
    for row in rows:
        line: dict[str, Any] = {}
        for column, target in columns.items():
            value = row.get(column)
            if _blank(value):
                continue
            text = str(value).strip()
            if target == "external_id":
                external_id = text
            elif target.startswith("line."):
                line[target.removeprefix("line.")] = text
            else:
                order[target] = text
        if line:
            order["lines"].append(line)
    if not external_id:
        raise ValueError("the order has no value in the column mapped to external_id")
    return external_id, order


def order_to_rows(
    external_id: str, order: Order, columns: Mapping[str, str]
) -> list[dict[str, str]]:
    """The inverse of :func:`rows_to_order`: one row per line, order fields repeated."""
    data = order.model_dump(mode="json", exclude_none=True)
    head = {
        column: external_id if target == "external_id" else _text(data.get(target))
        for column, target in columns.items()
        if not target.startswith("line.")
    }
    line_columns = {c: t.removeprefix("line.") for c, t in columns.items() if t.startswith("line.")}
    lines = data.get("lines") or [{}]
    return [
        {**head, **{column: _text(line.get(key)) for column, key in line_columns.items()}}
        for line in lines
    ]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def canonical_field(target: str) -> str:
    """The top-level canonical field a column target writes into."""
    for prefix, name in (
        ("address.", "addresses"),
        ("consent.", "consents"),
        ("identifier:", "identifiers"),
        ("attribute:", "attributes"),
        ("acquisition.", "acquisition"),
        ("line.", "lines"),
    ):
        if target.startswith(prefix):
            return name
    return {"email": "emails", "phone": "phones"}.get(target, target)


def known_target(target: str, *, orders: bool = False) -> bool:
    """Whether ``target`` is something the mapping understands."""
    if orders:
        return target in ORDER_TARGETS or target.startswith("line.")
    return target in CUSTOMER_TARGETS or target.startswith(_PREFIXES)
