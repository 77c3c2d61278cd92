"""Magento customers and orders <-> canonical records: pure functions over REST dicts.

Magento keeps phones only on addresses, so a customer's phones are the
telephones of their addresses, and the hub's first phone goes on the first
address it writes. Addresses keep Magento's order, so what the hub writes
reads back the same. Its timestamps are UTC without a
zone (``2017-01-31 01:18:13``); gender is 1 male, 2 female, 3 "not specified"
(read as ``other``). The newsletter flag is the only consent Magento's REST
API shows, without a date, so it maps to an undated e-mail consent.

Writing is read-modify-write (:func:`customer_body`): the hub's fields are
laid over the customer as Magento holds it, so the group, store, tax number,
custom attributes and the address details the hub does not model survive.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hub.model import Address, Channel, ConsentStatus, Customer, OrderStatus

__all__ = [
    "HELD_FIELDS",
    "MagentoRecord",
    "customer_body",
    "customer_to_canonical",
    "format_time",
    "held_addresses",
    "order_to_canonical",
    "parse_time",
]

MagentoRecord = dict[str, Any]

HELD_FIELDS = frozenset(
    {"first_name", "last_name", "emails", "phones", "addresses", "birth_date", "gender", "consents"}
)
"""Canonical fields a Magento customer keeps and the hub writes (the primary e-mail only)."""

_GENDER = {1: "male", 2: "female", 3: "other"}
_GENDER_CODE = {name: code for code, name in _GENDER.items()}
_CLOSED_STATES = {"complete", "closed"}
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_time(value: Any) -> datetime | None:
    """A Magento timestamp (UTC, no zone) as an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.strptime(value, _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def _time(value: Any, name: str) -> datetime | None:
    """Like :func:`parse_time`, but a value that is there and unreadable is an error."""
    parsed = parse_time(value)
    if parsed is None and value not in (None, ""):
        raise ValueError(f"{name} {value!r} is not a Magento timestamp (Y-m-d H:i:s)")
    return parsed


def _kind(address: MagentoRecord) -> str:
    if address.get("default_billing"):
        return "billing"
    return "shipping" if address.get("default_shipping") else "other"


def held_addresses(addresses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Canonical addresses (dicts) as Magento reads them back after a write.

    Magento flags one default billing and one default shipping address; every
    other address reads back with no kind. So the first billing and the first
    shipping address keep their kind and the rest lose it, and a kind Magento
    cannot hold is not written again on every pass.
    """
    held, flagged = [], set()
    for address in addresses:
        kind = address.get("kind")
        if kind in ("billing", "shipping") and kind not in flagged:
            flagged.add(kind)
            held.append(address)
        else:
            held.append({key: value for key, value in address.items() if key != "kind"})
    return held


def _region(address: MagentoRecord) -> str | None:
    region = address.get("region")
    if isinstance(region, dict):
        return region.get("region") or region.get("region_code") or None
    return region if isinstance(region, str) and region else None


def _address(address: MagentoRecord) -> dict[str, Any]:
    street = [line for line in address.get("street") or [] if line]
    data = {
        "kind": _kind(address),
        "company": address.get("company"),
        "line1": street[0] if street else None,
        "line2": ", ".join(street[1:]) or None,
        "city": address.get("city"),
        "region": _region(address),
        "postcode": address.get("postcode"),
        "country": address.get("country_id"),
    }
    return {key: value for key, value in data.items() if value not in (None, "")}


def customer_to_canonical(
    customer: MagentoRecord, source: str, *, unsubscribed_is_opt_out: bool = True
) -> tuple[str, dict[str, Any]]:
    """Return (customer id, Customer-shaped dict); the caller validates it."""
    external_id = str(customer.get("id") or "")
    if not external_id:
        raise ValueError("the Magento customer has no id")
    addresses = [a for a in customer.get("addresses") or [] if isinstance(a, dict)]
    subscribed = (customer.get("extension_attributes") or {}).get("is_subscribed")
    consents: dict[str, Any] = {}
    if subscribed is True:
        consents["email"] = {"status": "subscribed", "source": source}
    elif subscribed is False:
        status = "unsubscribed" if unsubscribed_is_opt_out else "not_subscribed"
        consents["email"] = {"status": status, "source": source}
    data: dict[str, Any] = {
        "first_name": customer.get("firstname"),
        "last_name": customer.get("lastname"),
        "emails": [customer["email"]] if customer.get("email") else [],
        "phones": list(dict.fromkeys(a["telephone"] for a in addresses if a.get("telephone"))),
        "addresses": [mapped for mapped in map(_address, addresses) if len(mapped) > 1],
        "birth_date": str(customer["dob"])[:10] if customer.get("dob") else None,
        "gender": _GENDER.get(customer.get("gender") or 0),
        "consents": consents,
        "identifiers": {"tax_id": customer["taxvat"]} if customer.get("taxvat") else {},
        "attributes": {
            f"magento_{key}": customer[key]
            for key in ("group_id", "store_id", "website_id")
            if customer.get(key) is not None
        },
        "created_at": _time(customer.get("created_at"), "created_at"),
        "updated_at": _time(customer.get("updated_at"), "updated_at"),
    }
    return external_id, {
        key: value for key, value in data.items() if value not in (None, "", [], {})
    }


def customer_body(
    customer: Customer, current: MagentoRecord | None, *, website_id: int, group_id: int
) -> MagentoRecord:
    """The full customer to PUT or POST: ``current`` (None for a new one) with the hub's fields.

    A field the hub does not hold is left as Magento has it, so a sparse hub
    record never clears Magento's data.
    """
    body: MagentoRecord = dict(current or {"website_id": website_id, "group_id": group_id})
    if customer.primary_email:
        body["email"] = customer.primary_email
    for name, value in (("firstname", customer.first_name), ("lastname", customer.last_name)):
        if value:
            body[name] = value
    if customer.birth_date:
        body["dob"] = customer.birth_date.isoformat()
    if customer.gender:
        body["gender"] = _GENDER_CODE[customer.gender]
    if customer.addresses:
        body["addresses"] = _addresses(customer, (current or {}).get("addresses") or [], body)
    consent = customer.consents.get(Channel.EMAIL)
    flag = {ConsentStatus.SUBSCRIBED: True, ConsentStatus.UNSUBSCRIBED: False}.get(
        consent.status if consent else ConsentStatus.PENDING
    )
    if flag is not None:
        body["extension_attributes"] = {
            **(body.get("extension_attributes") or {}),
            "is_subscribed": flag,
        }
    return body


def _addresses(
    customer: Customer, held: list[MagentoRecord], body: MagentoRecord
) -> list[MagentoRecord]:
    """The hub's addresses over Magento's, position by position, in the hub's order.

    Each keeps its Magento id and the fields the hub does not model (region id,
    VAT id, names). The first address carries the hub's first phone; Magento
    requires a telephone and names on every address, so a new one gets the
    customer's first phone and names. Magento has one default billing and one
    default shipping address: the first of each kind gets the flag.
    """
    phone = customer.phones[0] if customer.phones else None
    has_shipping = any(address.kind == "shipping" for address in customer.addresses)
    flagged: set[str] = set()
    written = []
    for position, address in enumerate(customer.addresses):
        base = dict(held[position]) if position < len(held) else {}
        telephone = phone if position == 0 else base.get("telephone") or phone
        defaults = {str(address.kind)} & {"billing", "shipping"}
        if address.kind == "billing" and base.get("default_shipping") and not has_shipping:
            defaults.add("shipping")  # both defaults on one address read as billing
        defaults -= flagged
        flagged |= defaults
        written.append(_address_body(address, base, body, telephone, defaults))
    return written


def _address_body(
    address: Address,
    base: MagentoRecord,
    body: MagentoRecord,
    telephone: str | None,
    defaults: set[str],
) -> MagentoRecord:
    out = dict(base)
    street = [line for line in (address.line1, address.line2) if line]
    out.update(
        {
            "street": street or base.get("street") or [],
            "city": address.city,
            "postcode": address.postcode,
            "country_id": address.country,
            "company": address.company,
            "default_billing": "billing" in defaults,
            "default_shipping": "shipping" in defaults,
            "firstname": base.get("firstname") or body.get("firstname"),
            "lastname": base.get("lastname") or body.get("lastname"),
            "telephone": telephone or base.get("telephone"),
        }
    )
    if address.region and address.region != _region(base):
        out["region"] = {"region": address.region}
        out.pop("region_id", None)
    elif not address.region:
        out.pop("region", None)
        out.pop("region_id", None)
    return {key: value for key, value in out.items() if value is not None}


def _money(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _order_status(state: str | None) -> OrderStatus:
    if state == "canceled":
        return OrderStatus.CANCELLED
    return OrderStatus.CLOSED if state in _CLOSED_STATES else OrderStatus.OPEN


def _paid(order: MagentoRecord) -> str:
    """Shopify-like words from Magento's invoiced and refunded totals."""
    total, paid = _money(order.get("grand_total")), _money(order.get("total_paid"))
    refunded = _money(order.get("total_refunded"))
    if refunded and refunded >= total:
        return "refunded"
    if refunded:
        return "partially_refunded"
    if paid and paid >= total:
        return "paid"
    return "partially_paid" if paid else "pending"


def _line(item: MagentoRecord) -> dict[str, Any]:
    return {
        "sku": item.get("sku"),
        "product_id": str(item["product_id"]) if item.get("product_id") is not None else None,
        "name": item.get("name"),
        "quantity": int(_money(item.get("qty_ordered"))),
        "unit_price": _money(item.get("price")),
        "total": _money(item.get("row_total")),
    }


def order_to_canonical(order: MagentoRecord) -> tuple[str, dict[str, Any]]:
    """Return (order entity id, Order-shaped dict); the caller validates it.

    Child items of configurable or bundle products (``parent_item_id`` set)
    repeat their parent's line, so only top-level items become lines. A guest
    order has no ``customer_id`` and is linked by e-mail.
    """
    external_id = str(order.get("entity_id") or "")
    if not external_id:
        raise ValueError("the Magento order has no entity_id")
    placed = _time(order.get("created_at"), "created_at")
    if placed is None:
        raise ValueError("the Magento order has no created_at")
    guest = bool(order.get("customer_is_guest")) or order.get("customer_id") is None
    data: dict[str, Any] = {
        "number": order.get("increment_id"),
        "customer_ref": None if guest else str(order["customer_id"]),
        "customer_email": order.get("customer_email"),
        "placed_at": placed,
        "currency": order.get("order_currency_code"),
        "lines": [_line(i) for i in order.get("items") or [] if not i.get("parent_item_id")],
        "subtotal": _money(order.get("subtotal")),
        "discount": abs(_money(order.get("discount_amount"))),
        "shipping": _money(order.get("shipping_amount")),
        "tax": _money(order.get("tax_amount")),
        "total": _money(order.get("grand_total")),
        "refunded": _money(order.get("total_refunded")),
        "status": _order_status(order.get("state")),
        "financial_status": _paid(order),
        "fulfillment_status": order.get("status"),
        "updated_at": _time(order.get("updated_at"), "updated_at"),
    }
    return external_id, {key: value for key, value in data.items() if value is not None}
