"""Magento customers and orders <-> canonical records, as tables of vendor payload and record.

The first row of each table is the response printed in Adobe's REST tutorials
(tests/fixtures/vendor/magento2/docs/), so the mapping is held to real bodies.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.magento.config import MagentoConfig
from connectors.magento.connector import MagentoConnector
from connectors.magento.mapping import customer_body, held_addresses
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

DOCS = Path(__file__).parents[2] / "fixtures" / "vendor" / "magento2" / "docs"


def _response(page: str) -> dict[str, Any]:
    """The JSON block after "**Response:**" in a tutorial page, without its "..." elisions."""
    text = (DOCS / page).read_text().split("**Response:**", 1)[1]
    block = text.split("```json", 1)[1].split("```", 1)[0]
    block = re.sub(r",\s*\.\.\.\s*", "", block)
    return dict(json.loads(block))


TUTORIAL_CUSTOMER = _response("order-create-customer.md")
TUTORIAL_ORDER = _response("order-create-order.md")
JANE_CREATED = datetime(2017, 1, 31, 1, 18, 13, tzinfo=UTC)

SHOP_CUSTOMER: dict[str, Any] = {
    "id": 41,
    "group_id": 3,
    "created_at": "2021-03-04 05:06:07",
    "updated_at": "2024-05-01 10:20:30",
    "dob": "1985-02-14",
    "email": "Ana.Garcia@Example.es",
    "firstname": "Ana",
    "lastname": "García",
    "gender": 2,
    "store_id": 2,
    "website_id": 1,
    "taxvat": "ES12345678Z",
    "addresses": [
        {
            "id": 7,
            "customer_id": 41,
            "region": {"region_code": "M", "region": "Madrid", "region_id": 161},
            "region_id": 161,
            "country_id": "ES",
            "street": ["Calle Mayor 1", "2º izquierda"],
            "telephone": "600 000 042",
            "postcode": "28013",
            "city": "Madrid",
            "firstname": "Ana",
            "lastname": "García",
            "default_shipping": True,
        },
        {
            "id": 8,
            "customer_id": 41,
            "country_id": "ES",
            "street": ["Gran Vía 2"],
            "telephone": "+34 911 000 000",
            "postcode": "28010",
            "city": "Madrid",
            "company": "Acme SL",
            "firstname": "Ana",
            "lastname": "García",
            "default_billing": True,
        },
    ],
    "extension_attributes": {"is_subscribed": False},
}

CUSTOMERS: list[tuple[str, dict[str, Any], Customer]] = [
    (
        "the tutorial's POST /V1/customers response",
        TUTORIAL_CUSTOMER,
        Customer(
            first_name="Jane",
            last_name="Doe",
            emails=["jdoe@example.com"],
            phones=["+15125551111"],
            addresses=[
                Address(
                    kind="billing",
                    line1="123 Oak Ave",
                    city="Purchase",
                    region="New York",
                    postcode="10755",
                    country="US",
                )
            ],
            attributes={"magento_group_id": 1, "magento_store_id": 1, "magento_website_id": 1},
            created_at=JANE_CREATED,
            updated_at=JANE_CREATED,
        ),
    ),
    (
        "Magento's address order; the phones of every address; an unsubscribe; gender, tax id",
        SHOP_CUSTOMER,
        Customer(
            first_name="Ana",
            last_name="García",
            emails=["ana.garcia@example.es"],
            phones=["+34600000042", "+34911000000"],
            addresses=[
                Address(
                    kind="shipping",
                    line1="Calle Mayor 1",
                    line2="2º izquierda",
                    city="Madrid",
                    region="Madrid",
                    postcode="28013",
                    country="ES",
                ),
                Address(
                    kind="billing",
                    company="Acme SL",
                    line1="Gran Vía 2",
                    city="Madrid",
                    postcode="28010",
                    country="ES",
                ),
            ],
            birth_date=date(1985, 2, 14),
            gender="female",
            consents={Channel.EMAIL: Consent(status=ConsentStatus.UNSUBSCRIBED, source="shop")},
            identifiers={"tax_id": "ES12345678Z"},
            attributes={"magento_group_id": 3, "magento_store_id": 2, "magento_website_id": 1},
            created_at=datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
            updated_at=datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC),
        ),
    ),
    (
        "a subscriber who has not said their gender (3) and has no address",
        {
            **TUTORIAL_CUSTOMER,
            "addresses": [],
            "gender": 3,
            "extension_attributes": {"is_subscribed": True},
        },
        Customer(
            first_name="Jane",
            last_name="Doe",
            emails=["jdoe@example.com"],
            gender="other",
            consents={Channel.EMAIL: Consent(status=ConsentStatus.SUBSCRIBED, source="shop")},
            attributes={"magento_group_id": 1, "magento_store_id": 1, "magento_website_id": 1},
            created_at=JANE_CREATED,
            updated_at=JANE_CREATED,
        ),
    ),
]


def _connector(**settings: Any) -> MagentoConnector:
    config = MagentoConfig(
        base_url="https://shop.example.com", access_token=SecretStr("t"), **settings
    )
    return MagentoConnector(config, connection="shop")


@pytest.mark.parametrize(
    ("customer", "expected"), [c[1:] for c in CUSTOMERS], ids=[c[0] for c in CUSTOMERS]
)
def test_customer_to_canonical(customer: dict[str, Any], expected: Customer) -> None:
    mapped = _connector().to_canonical("customers", customer)
    assert mapped.external_id == str(customer["id"])
    assert mapped.record == expected
    assert mapped.updated_at == expected.updated_at


def test_not_subscribed_can_be_read_as_never_asked() -> None:
    mapped = _connector(unsubscribed_is_opt_out=False).to_canonical("customers", SHOP_CUSTOMER)
    assert isinstance(mapped.record, Customer)
    assert mapped.record.consents[Channel.EMAIL].status is ConsentStatus.NOT_SUBSCRIBED


ORDERS: list[tuple[str, dict[str, Any], Order]] = [
    (
        "the tutorial's GET /V1/orders/3 response",
        TUTORIAL_ORDER,
        Order(
            number="000000003",
            customer_ref="3",
            customer_email="jdoe@example.com",
            placed_at=datetime(2017, 8, 21, 22, 22, 19, tzinfo=UTC),
            currency="USD",
            lines=[
                OrderLine(
                    sku="WS12-M-Orange",
                    product_id="1553",
                    name="Radiant Tee-M-Orange",
                    quantity=1,
                    unit_price=Decimal(22),
                    total=Decimal(22),
                )
            ],
            subtotal=Decimal(160),
            shipping=Decimal(5),
            total=Decimal(165),
            status=OrderStatus.OPEN,
            financial_status="pending",
            fulfillment_status="pending",
            updated_at=datetime(2017, 8, 21, 22, 22, 20, tzinfo=UTC),
        ),
    ),
    (
        "a guest's completed, partly refunded order; a configurable item's child is no line",
        {
            **TUTORIAL_ORDER,
            "customer_id": None,
            "customer_is_guest": 1,
            "state": "complete",
            "status": "complete",
            "discount_amount": -10,
            "tax_amount": 3.5,
            "total_paid": 165,
            "total_refunded": 20,
            "items": [
                {**TUTORIAL_ORDER["items"][0], "product_type": "configurable"},
                {**TUTORIAL_ORDER["items"][0], "item_id": 4, "parent_item_id": 3, "price": 0},
            ],
        },
        Order(
            number="000000003",
            customer_email="jdoe@example.com",
            placed_at=datetime(2017, 8, 21, 22, 22, 19, tzinfo=UTC),
            currency="USD",
            lines=[
                OrderLine(
                    sku="WS12-M-Orange",
                    product_id="1553",
                    name="Radiant Tee-M-Orange",
                    quantity=1,
                    unit_price=Decimal(22),
                    total=Decimal(22),
                )
            ],
            subtotal=Decimal(160),
            discount=Decimal(10),
            shipping=Decimal(5),
            tax=Decimal("3.5"),
            total=Decimal(165),
            refunded=Decimal(20),
            status=OrderStatus.CLOSED,
            financial_status="partially_refunded",
            fulfillment_status="complete",
            updated_at=datetime(2017, 8, 21, 22, 22, 20, tzinfo=UTC),
        ),
    ),
]


@pytest.mark.parametrize(("order", "expected"), [c[1:] for c in ORDERS], ids=[c[0] for c in ORDERS])
def test_order_to_canonical(order: dict[str, Any], expected: Order) -> None:
    mapped = _connector().to_canonical("orders", order)
    assert mapped.external_id == str(order["entity_id"])
    assert mapped.record == expected


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("canceled", OrderStatus.CANCELLED),
        ("closed", OrderStatus.CLOSED),
        ("holded", OrderStatus.OPEN),
    ],
)
def test_order_states(state: str, status: OrderStatus) -> None:
    order = _connector().to_canonical("orders", {**TUTORIAL_ORDER, "state": state}).record
    assert isinstance(order, Order) and order.status is status


@pytest.mark.parametrize(
    ("stream", "change", "words"),
    [
        ("customers", {"email": "ann@@example.com"}, "emails.0"),
        ("customers", {"updated_at": "2024-05-01T10:20:30Z"}, "not a Magento timestamp"),
        ("orders", {"order_currency_code": "EURO"}, "currency"),
        ("orders", {"created_at": None}, "no created_at"),
    ],
)
def test_bad_records_are_refused_with_their_id_and_the_field(
    stream: str, change: dict[str, Any], words: str
) -> None:
    raw = {**(SHOP_CUSTOMER if stream == "customers" else TUTORIAL_ORDER), **change}
    with pytest.raises(RecordError) as raised:
        _connector().to_canonical(stream, raw)
    assert raised.value.external_id == str(raw.get("id") or raw.get("entity_id"))
    assert words in str(raised.value)


def _read(customer: dict[str, Any]) -> Customer:
    record = _connector().to_canonical("customers", customer).record
    assert isinstance(record, Customer)
    return record


def test_a_write_keeps_what_the_hub_does_not_own() -> None:
    current = {
        **SHOP_CUSTOMER,
        "custom_attributes": [{"attribute_code": "loyalty", "value": "gold"}],
    }
    hub = _read(current).model_copy(update={"first_name": "Anabel", "phones": ["+34699000001"]})
    body = customer_body(hub, current, website_id=1, group_id=1)
    assert body["firstname"] == "Anabel"
    kept = ("group_id", "store_id", "taxvat", "custom_attributes", "created_at")
    assert {key: body[key] for key in kept} == {key: current[key] for key in kept}
    shipping, billing = body["addresses"]
    assert (shipping["id"], billing["id"]) == (7, 8)  # matched to Magento's, not new ones
    assert shipping["telephone"] == "+34699000001" and billing["telephone"] == "+34 911 000 000"
    assert (shipping["default_shipping"], billing["default_billing"]) == (True, True)
    assert shipping["region"] == SHOP_CUSTOMER["addresses"][0]["region"]
    assert shipping["street"] == ["Calle Mayor 1", "2º izquierda"]
    assert body["extension_attributes"] == {"is_subscribed": False}


@pytest.mark.parametrize(
    ("status", "flag"),
    [
        (ConsentStatus.SUBSCRIBED, True),
        (ConsentStatus.UNSUBSCRIBED, False),
        (ConsentStatus.PENDING, "unchanged"),
        (ConsentStatus.NOT_SUBSCRIBED, "unchanged"),
    ],
)
def test_only_a_yes_or_a_no_reaches_is_subscribed(status: ConsentStatus, flag: object) -> None:
    current = {**SHOP_CUSTOMER, "extension_attributes": {"is_subscribed": True, "other": 1}}
    hub = Customer(
        emails=["ana.garcia@example.es"], consents={Channel.EMAIL: Consent(status=status)}
    )
    sent = customer_body(hub, current, website_id=1, group_id=1)["extension_attributes"]
    assert sent == {"is_subscribed": True if flag == "unchanged" else flag, "other": 1}


def test_a_new_customer_gets_the_configured_website_and_group() -> None:
    hub = Customer(first_name="Bo", last_name="Li", emails=["bo@example.com"])
    body = customer_body(hub, None, website_id=2, group_id=4)
    assert body == {
        "website_id": 2,
        "group_id": 4,
        "email": "bo@example.com",
        "firstname": "Bo",
        "lastname": "Li",
    }


def test_what_the_hub_writes_reads_back_the_same() -> None:
    hub = _read(SHOP_CUSTOMER)
    body = customer_body(hub, SHOP_CUSTOMER, website_id=1, group_id=1)
    assert _read({**body, "id": 41}).model_dump(exclude={"attributes"}) == hub.model_dump(
        exclude={"attributes"}
    )


def test_magento_holds_one_default_billing_and_one_default_shipping_address() -> None:
    home = {"line1": "Calle Mayor 1", "country": "ES"}
    work = {"line1": "Gran Vía 2", "country": "ES"}
    held = held_addresses(
        [{"kind": "billing", **home}, {"kind": "billing", **work}, {"kind": "home", **work}]
    )
    assert held == [{"kind": "billing", **home}, work, work]  # as it reads back
