"""Webhook payloads (REST-shaped JSON) <-> the GraphQL node shape the mapping reads.

Shopify delivers webhooks in the REST Admin format even to GraphQL apps:
snake_case keys, numeric ids with the GID beside them in
``admin_graphql_api_id``, tags as one comma-separated string, money as
decimal strings, financial and fulfilment status in lower case, and times
with the shop's UTC offset (tests/fixtures/vendor/shopify/rest_fixtures).
Turning them into the node shape of a paged read lets one mapping serve
both, so a webhook and a pull of the same record give the same canonical one.
The sandbox uses the other direction to write its deliveries.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["SHOP_ZONE", "customer_node", "order_node", "rest_customer", "rest_order"]

SHOP_ZONE = ZoneInfo("America/New_York")
Json = dict[str, Any]

_FULFILMENT_TO_REST = {
    "FULFILLED": "fulfilled",
    "PARTIALLY_FULFILLED": "partial",
    "RESTOCKED": "restocked",
}
_FULFILMENT_FROM_REST = {value: key for key, value in _FULFILMENT_TO_REST.items()}


def _utc(value: str | None) -> str | None:
    """A REST time with an offset as the GraphQL DateTime: UTC with a Z."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(value: str | None) -> str | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(SHOP_ZONE).isoformat()


def _gid(payload: Json, kind: str) -> str:
    return str(payload.get("admin_graphql_api_id") or f"gid://shopify/{kind}/{payload['id']}")


def _number(global_id: str) -> int:
    return int(global_id.rsplit("/", 1)[1])


def _money(amount: Any, currency: str | None) -> Json:
    return {"shopMoney": {"amount": f"{Decimal(str(amount or 0)):.2f}", "currencyCode": currency}}


def _consent_node(consent: Json | None) -> Json | None:
    if not consent:
        return None
    level = consent.get("opt_in_level")
    return {
        "marketingState": str(consent.get("state") or "not_subscribed").upper(),
        "marketingOptInLevel": level.upper() if level else None,
        "consentUpdatedAt": _utc(consent.get("consent_updated_at")),
    }


def _consent_rest(consent: Json | None) -> Json | None:
    if not consent:
        return None
    level = consent.get("marketingOptInLevel")
    return {
        "state": consent["marketingState"].lower(),
        "opt_in_level": level.lower() if level else None,
        "consent_updated_at": _local(consent.get("consentUpdatedAt")),
    }


def customer_node(payload: Json) -> Json:
    """A customers/create or customers/update payload in the node shape of a paged read.

    A subscription that names metafield namespaces (``metafieldNamespaces``)
    gets the customer's metafields of those namespaces in ``metafields``.
    """
    spent = payload.get("total_spent")
    node = {
        "id": _gid(payload, "Customer"),
        "firstName": payload.get("first_name"),
        "lastName": payload.get("last_name"),
        "email": payload.get("email"),
        "phone": payload.get("phone"),
        "note": payload.get("note"),
        "locale": payload.get("locale"),
        "tags": [tag.strip() for tag in (payload.get("tags") or "").split(",") if tag.strip()],
        "state": str(payload.get("state") or "disabled").upper(),
        "verifiedEmail": bool(payload.get("verified_email")),
        "createdAt": _utc(payload.get("created_at")),
        "updatedAt": _utc(payload.get("updated_at")),
        "addresses": [
            {
                "address1": address.get("address1"),
                "address2": address.get("address2") or None,
                "city": address.get("city"),
                "company": address.get("company"),
                "province": address.get("province"),
                "provinceCode": address.get("province_code"),
                "zip": address.get("zip"),
                "countryCodeV2": address.get("country_code"),
            }
            for address in payload.get("addresses") or []
        ],
        "emailMarketingConsent": _consent_node(payload.get("email_marketing_consent")),
        "smsMarketingConsent": _consent_node(payload.get("sms_marketing_consent")),
        "amountSpent": None
        if spent is None
        else {"amount": f"{Decimal(str(spent)):.2f}", "currencyCode": payload.get("currency")},
        "numberOfOrders": None
        if payload.get("orders_count") is None
        else str(payload["orders_count"]),
    }
    if isinstance(payload.get("metafields"), list):
        node["metafields"] = {
            "nodes": [
                {"namespace": field.get("namespace"), "key": field.get("key"), "value": value}
                for field in payload["metafields"]
                if (value := field.get("value")) is not None
            ]
        }
    return node


def order_node(payload: Json) -> Json:
    """An orders/create or orders/updated payload in the node shape of a paged read."""
    currency = payload.get("currency")
    customer = payload.get("customer") or None
    refunded = sum(
        (
            Decimal(str(transaction.get("amount") or 0))
            for refund in payload.get("refunds") or []
            for transaction in refund.get("transactions") or []
            if transaction.get("kind") == "refund"
        ),
        Decimal(0),
    )
    shipping = (payload.get("total_shipping_price_set") or {}).get("shop_money") or {}
    return {
        "id": _gid(payload, "Order"),
        "name": payload.get("name"),
        "email": payload.get("email") or None,
        "createdAt": _utc(payload.get("created_at")),
        "updatedAt": _utc(payload.get("updated_at")),
        "processedAt": _utc(payload.get("processed_at") or payload.get("created_at")),
        "cancelledAt": _utc(payload.get("cancelled_at")),
        "cancelReason": (payload.get("cancel_reason") or "").upper() or None,
        "closed": payload.get("closed_at") is not None,
        "closedAt": _utc(payload.get("closed_at")),
        "currencyCode": currency,
        "displayFinancialStatus": (payload.get("financial_status") or "").upper() or None,
        "displayFulfillmentStatus": _FULFILMENT_FROM_REST.get(
            payload.get("fulfillment_status") or "", "UNFULFILLED"
        ),
        "sourceName": payload.get("source_name"),
        "customer": {"id": _gid(customer, "Customer")} if customer else None,
        "subtotalPriceSet": _money(payload.get("subtotal_price"), currency),
        "totalDiscountsSet": _money(payload.get("total_discounts"), currency),
        "totalShippingPriceSet": _money(shipping.get("amount"), currency),
        "totalTaxSet": _money(payload.get("total_tax"), currency),
        "totalPriceSet": _money(payload.get("total_price"), currency),
        "totalRefundedSet": _money(refunded, currency),
        "lineItems": {
            "nodes": [
                {
                    "id": _gid(line, "LineItem"),
                    "name": line.get("name"),
                    "sku": line.get("sku") or None,
                    "quantity": line.get("quantity"),
                    "product": {"id": f"gid://shopify/Product/{line['product_id']}"}
                    if line.get("product_id")
                    else None,
                    "originalUnitPriceSet": _money(line.get("price"), currency),
                    "discountedTotalSet": _money(
                        Decimal(str(line.get("price") or 0)) * int(line.get("quantity") or 0)
                        - sum(
                            (
                                Decimal(str(d.get("amount") or 0))
                                for d in line.get("discount_allocations") or []
                            ),
                            Decimal(0),
                        ),
                        currency,
                    ),
                }
                for line in payload.get("line_items") or []
            ],
            "pageInfo": {"hasNextPage": False},
        },
    }


def rest_customer(node: Json, spent: Decimal, orders: int) -> Json:
    """A stored customer as Shopify's webhook payload for it."""
    addresses = [
        {
            "id": _number(address["id"]),
            "customer_id": _number(node["id"]),
            "first_name": address.get("firstName"),
            "last_name": address.get("lastName"),
            "company": address.get("company"),
            "address1": address.get("address1"),
            "address2": address.get("address2") or "",
            "city": address.get("city"),
            "province": address.get("province"),
            "country": address.get("country"),
            "zip": address.get("zip"),
            "phone": address.get("phone"),
            "province_code": address.get("provinceCode"),
            "country_code": address.get("countryCodeV2"),
            "default": index == 0,
        }
        for index, address in enumerate(node.get("addresses") or [])
    ]
    return {
        "id": _number(node["id"]),
        "email": node.get("email"),
        "created_at": _local(node["createdAt"]),
        "updated_at": _local(node["updatedAt"]),
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "orders_count": orders,
        "state": str(node.get("state") or "DISABLED").lower(),
        "total_spent": f"{spent:.2f}",
        "note": node.get("note"),
        "verified_email": bool(node.get("verifiedEmail")),
        "multipass_identifier": None,
        "tax_exempt": False,
        "tags": ", ".join(node.get("tags") or []),
        "currency": "EUR",
        "phone": node.get("phone"),
        "locale": node.get("locale"),
        "addresses": addresses,
        "tax_exemptions": [],
        "email_marketing_consent": _consent_rest(node.get("emailMarketingConsent")),
        "sms_marketing_consent": _consent_rest(node.get("smsMarketingConsent")),
        "admin_graphql_api_id": node["id"],
        "default_address": addresses[0] if addresses else None,
    }


def rest_order(node: Json, customer: Json | None) -> Json:
    """A stored order as Shopify's webhook payload for it."""

    def amount(key: str) -> str:
        return str(node[key]["shopMoney"]["amount"])

    currency = node["currencyCode"]
    return {
        "id": _number(node["id"]),
        "admin_graphql_api_id": node["id"],
        "name": node["name"],
        "email": node.get("email"),
        "created_at": _local(node["createdAt"]),
        "updated_at": _local(node["updatedAt"]),
        "processed_at": _local(node["processedAt"]),
        "cancelled_at": _local(node.get("cancelledAt")),
        "cancel_reason": (node.get("cancelReason") or "").lower() or None,
        "closed_at": _local(node.get("closedAt")),
        "currency": currency,
        "financial_status": (node.get("displayFinancialStatus") or "").lower() or None,
        "fulfillment_status": _FULFILMENT_TO_REST.get(node["displayFulfillmentStatus"]),
        "source_name": node.get("sourceName"),
        "subtotal_price": amount("subtotalPriceSet"),
        "total_discounts": amount("totalDiscountsSet"),
        "total_tax": amount("totalTaxSet"),
        "total_price": amount("totalPriceSet"),
        "total_shipping_price_set": {
            "shop_money": {"amount": amount("totalShippingPriceSet"), "currency_code": currency}
        },
        "tags": ", ".join(node.get("tags") or []),
        "line_items": [
            {
                "id": _number(line["id"]),
                "admin_graphql_api_id": line["id"],
                "name": line["name"],
                "title": line.get("title"),
                "sku": line.get("sku"),
                "quantity": line["quantity"],
                "price": line["originalUnitPriceSet"]["shopMoney"]["amount"],
                "product_id": _number(line["product"]["id"]) if line.get("product") else None,
                "discount_allocations": [],
            }
            for line in node["lineItems"]
        ],
        "refunds": [
            {
                "id": _number(refund["id"]),
                "created_at": _local(refund.get("createdAt")),
                "note": refund.get("note"),
                "transactions": [
                    {
                        "kind": "refund",
                        "status": "success",
                        "amount": refund["totalRefundedSet"]["shopMoney"]["amount"],
                    }
                ],
            }
            for refund in node.get("refunds") or []
        ],
        "customer": customer,
    }
