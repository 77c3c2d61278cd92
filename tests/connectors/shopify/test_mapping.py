"""Shopify nodes and webhook payloads <-> canonical records, as tables of payload and record."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from connectors.shopify.config import ShopifyConfig
from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.mapping import consent_input, customer_input
from connectors.shopify.rest import customer_node, order_node
from hub.errors import RecordError
from hub.model import (
    Address,
    Channel,
    Consent,
    ConsentStatus,
    Customer,
    Order,
    OrderLine,
    OrderStatus,
)

VENDOR = Path(__file__).parents[2] / "fixtures" / "vendor" / "shopify"
T0 = datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)


def _vendor(name: str) -> Any:
    return json.loads((VENDOR / name).read_text())


def _money(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "EUR"}}


CUSTOMER: dict[str, Any] = {
    "id": "gid://shopify/Customer/6000000042",
    "firstName": "Ana",
    "lastName": "García",
    "email": "Ana.Garcia@Example.es",
    "phone": "+34600000042",
    "note": "Prefiere envío a tienda",
    "locale": "es",
    "tags": ["vip", "b2b"],
    "state": "ENABLED",
    "verifiedEmail": True,
    "createdAt": "2021-03-04T05:06:07Z",
    "updatedAt": "2024-05-01T10:20:30Z",
    "addresses": [
        {
            "address1": "Calle Mayor 1",
            "address2": None,
            "city": "Madrid",
            "company": None,
            "province": "Madrid",
            "provinceCode": "M",
            "zip": "28013",
            "countryCodeV2": "ES",
        }
    ],
    "emailMarketingConsent": {
        "marketingState": "SUBSCRIBED",
        "marketingOptInLevel": "CONFIRMED_OPT_IN",
        "consentUpdatedAt": "2024-05-01T10:20:30Z",
    },
    "smsMarketingConsent": {
        "marketingState": "NOT_SUBSCRIBED",
        "marketingOptInLevel": "SINGLE_OPT_IN",
        "consentUpdatedAt": None,
    },
    "amountSpent": {"amount": "41.94", "currencyCode": "EUR"},
    "numberOfOrders": "2",
}
ANA = Customer(
    first_name="Ana",
    last_name="García",
    emails=["ana.garcia@example.es"],
    phones=["+34600000042"],
    addresses=[
        Address(line1="Calle Mayor 1", city="Madrid", region="M", postcode="28013", country="ES")
    ],
    language="es",
    consents={
        Channel.EMAIL: Consent(
            status=ConsentStatus.SUBSCRIBED,
            source="shop",
            recorded_at=T0,
            opt_in_level="confirmed_opt_in",
        ),
        Channel.SMS: Consent(
            status=ConsentStatus.NOT_SUBSCRIBED, source="shop", opt_in_level="single_opt_in"
        ),
    },
    tags=["b2b", "vip"],
    note="Prefiere envío a tienda",
    attributes={"amount_spent": "41.94", "amount_spent_currency": "EUR", "number_of_orders": 2},
    created_at=datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
    updated_at=T0,
)
BARE = {
    "id": "gid://shopify/Customer/7",
    "firstName": None,
    "lastName": None,
    "email": "bo@example.com",
    "phone": None,
    "note": None,
    "locale": "en",
    "tags": [],
    "addresses": [],
    "emailMarketingConsent": None,
    "smsMarketingConsent": None,
    "createdAt": "2021-03-04T05:06:07Z",
    "updatedAt": "2021-03-04T05:06:07Z",
}
BO = Customer(
    emails=["bo@example.com"],
    language="en",
    created_at=datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
    updated_at=datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
)
CUSTOMERS: list[tuple[str, dict[str, Any], Customer]] = [
    ("every field", CUSTOMER, ANA),
    ("nulls and empty lists are absent", BARE, BO),
    *[
        (
            f"e-mail state {state}",
            {**BARE, "emailMarketingConsent": {"marketingState": state}},
            BO.model_copy(
                update={"consents": {Channel.EMAIL: Consent(status=status, source="shop")}}
            ),
        )
        for state, status in [
            ("UNSUBSCRIBED", ConsentStatus.UNSUBSCRIBED),
            ("PENDING", ConsentStatus.PENDING),
            ("INVALID", ConsentStatus.UNSUBSCRIBED),
            ("REDACTED", ConsentStatus.UNSUBSCRIBED),
        ]
    ],
]

ORDER: dict[str, Any] = {
    "id": "gid://shopify/Order/5000001001",
    "name": "#1001",
    "email": "ana.garcia@example.es",
    "createdAt": "2024-05-01T10:00:00Z",
    "updatedAt": "2024-05-02T09:00:00Z",
    "processedAt": "2024-05-01T10:00:00Z",
    "cancelledAt": None,
    "cancelReason": None,
    "closed": False,
    "closedAt": None,
    "currencyCode": "EUR",
    "displayFinancialStatus": "PARTIALLY_REFUNDED",
    "displayFulfillmentStatus": "FULFILLED",
    "sourceName": "web",
    "customer": {"id": "gid://shopify/Customer/6000000042"},
    "subtotalPriceSet": _money("39.80"),
    "totalDiscountsSet": _money("0.00"),
    "totalShippingPriceSet": _money("4.95"),
    "totalTaxSet": _money("8.36"),
    "totalPriceSet": _money("53.11"),
    "totalRefundedSet": _money("19.90"),
    "lineItems": {
        "nodes": [
            {
                "id": "gid://shopify/LineItem/1",
                "name": "Camiseta",
                "sku": "TEE-ORG",
                "quantity": 2,
                "product": {"id": "gid://shopify/Product/9"},
                "originalUnitPriceSet": _money("19.90"),
                "discountedTotalSet": _money("39.80"),
            }
        ],
        "pageInfo": {"hasNextPage": False},
    },
}
PLACED = Order(
    number="#1001",
    customer_ref="gid://shopify/Customer/6000000042",
    customer_email="ana.garcia@example.es",
    placed_at=datetime(2024, 5, 1, 10, tzinfo=UTC),
    currency="EUR",
    lines=[
        OrderLine(
            sku="TEE-ORG",
            product_id="gid://shopify/Product/9",
            name="Camiseta",
            quantity=2,
            unit_price=Decimal("19.90"),
            total=Decimal("39.80"),
        )
    ],
    subtotal=Decimal("39.80"),
    shipping=Decimal("4.95"),
    tax=Decimal("8.36"),
    total=Decimal("53.11"),
    refunded=Decimal("19.90"),
    financial_status="partially_refunded",
    fulfillment_status="fulfilled",
    channel="web",
    updated_at=datetime(2024, 5, 2, 9, tzinfo=UTC),
)
ORDERS: list[tuple[str, dict[str, Any], Order]] = [
    ("a paid order with a refund", ORDER, PLACED),
    (
        "a cancelled order",
        {**ORDER, "cancelledAt": "2024-05-02T09:00:00Z", "displayFinancialStatus": "VOIDED"},
        PLACED.model_copy(
            update={
                "status": OrderStatus.CANCELLED,
                "cancelled_at": datetime(2024, 5, 2, 9, tzinfo=UTC),
                "financial_status": "voided",
            }
        ),
    ),
    (
        "an archived order is closed",
        {**ORDER, "closed": True, "closedAt": "2024-05-02T09:00:00Z"},
        PLACED.model_copy(update={"status": OrderStatus.CLOSED}),
    ),
    (
        "a guest order",
        {**ORDER, "customer": None, "email": None},
        PLACED.model_copy(update={"customer_ref": None, "customer_email": None}),
    ),
]


def _connector() -> ShopifyConnector:
    config = ShopifyConfig(shop="acme.myshopify.com", access_token=SecretStr("shpat_x"))
    return ShopifyConnector(config, connection="shop")


@pytest.mark.parametrize(
    ("node", "expected"), [c[1:] for c in CUSTOMERS], ids=[c[0] for c in CUSTOMERS]
)
def test_customer_node_to_customer(node: dict[str, Any], expected: Customer) -> None:
    mapped = _connector().to_canonical("customers", node)
    assert mapped.external_id == node["id"]
    assert mapped.record == expected


@pytest.mark.parametrize(("node", "expected"), [c[1:] for c in ORDERS], ids=[c[0] for c in ORDERS])
def test_order_node_to_order(node: dict[str, Any], expected: Order) -> None:
    mapped = _connector().to_canonical("orders", node)
    assert mapped.external_id == node["id"]
    assert mapped.record == expected


def test_an_order_with_more_lines_than_a_page_read_is_refused_not_cut_short() -> None:
    node = {**ORDER, "lineItems": {**ORDER["lineItems"], "pageInfo": {"hasNextPage": True}}}
    with pytest.raises(RecordError, match="raise line_items"):
        _connector().to_canonical("orders", node)


def test_customer_input_sends_the_profile_and_clears_what_is_missing() -> None:
    assert customer_input(ANA) == {
        "firstName": "Ana",
        "lastName": "García",
        "email": "ana.garcia@example.es",
        "phone": "+34600000042",
        "note": "Prefiere envío a tienda",
        "locale": "es",
        "addresses": [
            {
                "company": None,
                "address1": "Calle Mayor 1",
                "address2": None,
                "city": "Madrid",
                "provinceCode": "M",
                "zip": "28013",
                "countryCode": "ES",
            }
        ],
    }
    assert customer_input(Customer(emails=["a@example.com"]))["phone"] is None


@pytest.mark.parametrize(
    ("status", "written"),
    [
        (ConsentStatus.SUBSCRIBED, "SUBSCRIBED"),
        (ConsentStatus.UNSUBSCRIBED, "UNSUBSCRIBED"),
        (ConsentStatus.PENDING, None),
        (ConsentStatus.NOT_SUBSCRIBED, None),
    ],
)
def test_only_a_subscription_or_an_opt_out_is_written(
    status: ConsentStatus, written: str | None
) -> None:
    customer = Customer(emails=["a@example.com"], consents={Channel.EMAIL: Consent(status=status)})
    given = consent_input(customer, Channel.EMAIL)
    assert (given or {}).get("marketingState") == written


def test_consent_keeps_its_level_and_time_on_the_way_out() -> None:
    assert consent_input(ANA, Channel.EMAIL) == {
        "marketingState": "SUBSCRIBED",
        "marketingOptInLevel": "CONFIRMED_OPT_IN",
        "consentUpdatedAt": "2024-05-01T10:20:30Z",
    }


def test_a_bad_email_fails_validation_naming_the_field() -> None:
    with pytest.raises(ValidationError) as raised:
        _connector().to_canonical("customers", {**BARE, "email": "ann@@example.com"})
    assert "emails.0" in {".".join(str(p) for p in e["loc"]) for e in raised.value.errors()}


def test_shopifys_own_customer_webhook_payload_maps() -> None:
    """customer.json is a REST customer from Shopify's own API library (MIT)."""
    payload = _vendor("rest_fixtures/customer.json")["customer"]
    mapped = _connector().to_canonical("customers", customer_node(payload))
    assert mapped.external_id == "gid://shopify/Customer/207119551"
    customer = mapped.record
    assert isinstance(customer, Customer)
    assert customer.emails == ["bob.norman@hostmail.com"]
    assert (customer.first_name, customer.last_name) == ("Bob", "Norman")
    assert customer.addresses == [
        Address(
            line1="Chestnut Street 92",
            city="Louisville",
            region="KY",
            postcode="40202",
            country="US",
        )
    ]
    assert customer.attributes == {"amount_spent": "41.94", "number_of_orders": 1}
    assert customer.updated_at == datetime(2015, 5, 27, 22, 11, 24, tzinfo=UTC)


def test_shopifys_own_order_webhook_payload_maps() -> None:
    """order.json is a REST order from Shopify's own API library (MIT)."""
    payload = _vendor("rest_fixtures/order.json")["order"]
    mapped = _connector().to_canonical("orders", order_node(payload))
    order = mapped.record
    assert isinstance(order, Order)
    assert mapped.external_id == "gid://shopify/Order/450789469"
    assert order.customer_ref == "gid://shopify/Customer/207119551"
    assert (order.number, order.currency, order.total) == ("#1001", "USD", Decimal("409.94"))
    assert order.financial_status == "authorized" and order.fulfillment_status == "unfulfilled"
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("IPOD2008GREEN", 1, Decimal("199.00")),
        ("IPOD2008RED", 1, Decimal("199.00")),
        ("IPOD2008BLACK", 1, Decimal("199.00")),
    ]
    assert order.placed_at == datetime(2008, 1, 10, 16, tzinfo=UTC)
