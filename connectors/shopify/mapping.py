"""Shopify customer and order nodes <-> canonical records: pure functions, table-tested.

A customer holds one e-mail and one phone; its addresses carry no kind.
Marketing consent is kept per channel with its opt-in level and the time it
last changed, which the canonical Consent keeps too. ``INVALID`` (the address
bounces) and ``REDACTED`` (erased) cannot be mailed, so they read as
unsubscribed; only subscribed and unsubscribed are ever written back, since
Shopify takes no other state from an app. ``amountSpent`` and
``numberOfOrders`` are Shopify's figures, kept as attributes (read only).
An order's status is cancelled when ``cancelledAt`` is set, closed when
Shopify closed it (archived), open otherwise, for every financial state.
Customer metafields carry the hub's recommendations (the connection's
``metafields``: ``namespace.key`` -> ``recommendations.<name>``), as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal
from typing import Any

from hub.errors import RecordError
from hub.model import Address, Channel, Consent, ConsentStatus, Customer

__all__ = [
    "HELD_FIELDS",
    "consent_input",
    "customer_input",
    "held_with_metafields",
    "metafield_values",
    "node_to_customer",
    "node_to_order",
]

Json = dict[str, Any]

HELD_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "emails",
        "phones",
        "addresses",
        "language",
        "consents",
        "tags",
        "note",
    }
)
"""Canonical fields a Shopify customer keeps (first e-mail and phone)."""

_STATES = {
    "SUBSCRIBED": ConsentStatus.SUBSCRIBED,
    "UNSUBSCRIBED": ConsentStatus.UNSUBSCRIBED,
    "PENDING": ConsentStatus.PENDING,
    "NOT_SUBSCRIBED": ConsentStatus.NOT_SUBSCRIBED,
    "INVALID": ConsentStatus.UNSUBSCRIBED,
    "REDACTED": ConsentStatus.UNSUBSCRIBED,
}
_WRITABLE = {ConsentStatus.SUBSCRIBED: "SUBSCRIBED", ConsentStatus.UNSUBSCRIBED: "UNSUBSCRIBED"}
_CHANNELS = {Channel.EMAIL: "emailMarketingConsent", Channel.SMS: "smsMarketingConsent"}


def _present(data: Json) -> Json:
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}


def _consent(state: Json | None, source: str) -> Json | None:
    if not state or not state.get("marketingState"):
        return None
    level = state.get("marketingOptInLevel")
    return _present(
        {
            "status": _STATES[state["marketingState"]],
            "source": source,
            "recorded_at": state.get("consentUpdatedAt"),
            "opt_in_level": level.lower() if level else None,
        }
    )


def held_with_metafields(metafields: Mapping[str, str]) -> frozenset[str]:
    """The fields a customer keeps, with the recommendations its metafields hold."""
    return HELD_FIELDS | frozenset(metafields.values())


_RECOMMENDATION = "recommendations."


def _recommendations(node: Json, metafields: Mapping[str, str]) -> Json:
    """The recommendations held in the configured metafields (paged ``nodes`` or bulk)."""
    found: Json = {}
    for field in (node.get("metafields") or {}).get("nodes") or []:
        target = metafields.get(f"{field.get('namespace')}.{field.get('key')}")
        if target and field.get("value"):
            found[target.removeprefix(_RECOMMENDATION)] = field["value"]
    return found


def metafield_values(customer: Customer, metafields: Mapping[str, str]) -> dict[str, str | None]:
    """``namespace.key`` -> the text to set, or None where the metafield should go."""
    held = customer.recommendations
    return {
        name: (getattr(held, target.removeprefix(_RECOMMENDATION)) if held else None) or None
        for name, target in metafields.items()
    }


def node_to_customer(
    node: Json, source: str, metafields: Mapping[str, str] | None = None
) -> tuple[str, Json]:
    """Return (GID, Customer-shaped dict); the caller validates it."""
    external_id = str(node.get("id") or "")
    if not external_id:
        raise ValueError("the customer has no id")
    consents = {
        channel.value: consent
        for channel, key in _CHANNELS.items()
        if (consent := _consent(node.get(key), source))
    }
    spent = node.get("amountSpent") or {}
    attributes = _present(
        {
            "amount_spent": spent.get("amount"),
            "amount_spent_currency": spent.get("currencyCode"),
            "number_of_orders": None
            if node.get("numberOfOrders") is None
            else int(node["numberOfOrders"]),
        }
    )
    data = {
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "emails": [node["email"]] if node.get("email") else [],
        "phones": [node["phone"]] if node.get("phone") else [],
        "addresses": [
            address
            for address in (_address(a) for a in node.get("addresses") or [])
            if len(address) > 0
        ],
        "language": node.get("locale"),
        "consents": consents,
        "tags": list(node.get("tags") or []),
        "note": node.get("note"),
        "attributes": attributes,
        "recommendations": _recommendations(node, metafields or {}),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
    }
    return external_id, _present(data)


def _address(address: Json) -> Json:
    return _present(
        {
            "company": address.get("company"),
            "line1": address.get("address1"),
            "line2": address.get("address2"),
            "city": address.get("city"),
            "region": address.get("provinceCode") or address.get("province"),
            "postcode": address.get("zip"),
            "country": address.get("countryCodeV2"),
        }
    )


def customer_input(customer: Customer) -> Json:
    """A ``CustomerInput`` without id, consent or tags (those have mutations of their own)."""
    return {
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "email": customer.primary_email,
        "phone": customer.phones[0] if customer.phones else None,
        "note": customer.note,
        "locale": customer.language,
        "addresses": [_address_input(address) for address in customer.addresses],
    }


def _address_input(address: Address) -> Json:
    return {
        "company": address.company,
        "address1": address.line1,
        "address2": address.line2,
        "city": address.city,
        "provinceCode": address.region,
        "zip": address.postcode,
        "countryCode": address.country,
    }


def consent_input(customer: Customer, channel: Channel) -> Json | None:
    """The consent to write for ``channel``: only a subscription or an opt-out."""
    consent: Consent | None = customer.consents.get(channel)
    if consent is None or consent.status not in _WRITABLE:
        return None
    given: Json = {"marketingState": _WRITABLE[consent.status]}
    if consent.opt_in_level:
        given["marketingOptInLevel"] = consent.opt_in_level.upper()
    if consent.recorded_at:
        given["consentUpdatedAt"] = consent.recorded_at.astimezone(UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    return given


def _amount(bag: Json | None) -> str | None:
    money = (bag or {}).get("shopMoney") or {}
    return money.get("amount")


def node_to_order(node: Json, line_limit: int | None = None) -> tuple[str, Json]:
    """Return (GID, Order-shaped dict); the caller validates it."""
    external_id = str(node.get("id") or "")
    if not external_id:
        raise ValueError("the order has no id")
    items = node.get("lineItems") or {}
    if (items.get("pageInfo") or {}).get("hasNextPage"):
        raise RecordError(
            f"order {node.get('name')} has more line items than a paged read takes "
            f"({line_limit}); raise line_items in the config",
            external_id=external_id,
        )
    status = "cancelled" if node.get("cancelledAt") else "closed" if node.get("closed") else "open"
    data = {
        "number": node.get("name"),
        "customer_ref": (node.get("customer") or {}).get("id"),
        "customer_email": node.get("email"),
        "placed_at": node.get("processedAt") or node.get("createdAt"),
        "currency": node.get("currencyCode"),
        "lines": [_line(line) for line in items.get("nodes") or []],
        "subtotal": _amount(node.get("subtotalPriceSet")),
        "discount": _amount(node.get("totalDiscountsSet")),
        "shipping": _amount(node.get("totalShippingPriceSet")),
        "tax": _amount(node.get("totalTaxSet")),
        "total": _amount(node.get("totalPriceSet")),
        "refunded": _amount(node.get("totalRefundedSet")),
        "status": status,
        "financial_status": (node.get("displayFinancialStatus") or "").lower() or None,
        "fulfillment_status": (node.get("displayFulfillmentStatus") or "").lower() or None,
        "channel": node.get("sourceName"),
        "cancelled_at": node.get("cancelledAt"),
        "updated_at": node.get("updatedAt"),
    }
    return external_id, {key: value for key, value in data.items() if value is not None}


def _line(line: Json) -> Json:
    unit = Decimal(_amount(line.get("originalUnitPriceSet")) or 0)
    return {
        "sku": line.get("sku") or None,
        "product_id": (line.get("product") or {}).get("id"),
        "name": line.get("name") or "",
        "quantity": line.get("quantity"),
        "unit_price": unit,
        "total": _amount(line.get("discountedTotalSet")),
    }
