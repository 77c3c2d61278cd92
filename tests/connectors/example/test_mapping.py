"""Example contacts <-> canonical customers, as tables of vendor payload and canonical record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from connectors.example.config import ExampleConfig
from connectors.example.connector import ExampleConnector
from connectors.example.mapping import contact_to_customer, customer_to_contact
from hub.model import Address, Channel, Consent, ConsentStatus, Customer

FULL: dict[str, Any] = {
    "id": "ct_000042",
    "email": "Ana.Garcia@Example.es",
    "first_name": "Ana",
    "last_name": "García",
    "phone": "+34 600 000 042",
    "birthday": "1985-02-14",
    "language": "es",
    "address": {
        "street": "Calle Mayor 1",
        "city": "Madrid",
        "postal_code": "28013",
        "country": "ES",
    },
    "marketing_opt_in": True,
    "tags": ["vip", "b2b"],
    "created_at": "2021-03-04T05:06:07.000Z",
    "updated_at": "2024-05-01T10:20:30.123Z",
}
SPARSE: dict[str, Any] = {
    "id": "ct_000043",
    "email": "bo@example.com",
    "first_name": None,
    "last_name": "",
    "phone": None,
    "birthday": None,
    "language": None,
    "address": None,
    "marketing_opt_in": None,
    "tags": [],
    "created_at": "2021-03-04T05:06:07.000Z",
    "updated_at": "2021-03-04T05:06:07.000Z",
}

CASES: list[tuple[str, dict[str, Any], Customer]] = [
    (
        "every field",
        FULL,
        Customer(
            first_name="Ana",
            last_name="García",
            emails=["ana.garcia@example.es"],
            phones=["+34600000042"],
            addresses=[
                Address(line1="Calle Mayor 1", city="Madrid", postcode="28013", country="ES")
            ],
            birth_date=date(1985, 2, 14),
            language="es",
            consents={Channel.EMAIL: Consent(status=ConsentStatus.SUBSCRIBED, source="crm")},
            tags=["b2b", "vip"],
            created_at=datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
            updated_at=datetime(2024, 5, 1, 10, 20, 30, 123000, tzinfo=UTC),
        ),
    ),
    (
        "nulls and blanks are absent, not empty values",
        SPARSE,
        Customer(
            emails=["bo@example.com"],
            created_at=datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
            updated_at=datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
        ),
    ),
    (
        "an opt-out is an unsubscribe",
        {**SPARSE, "marketing_opt_in": False},
        Customer(
            emails=["bo@example.com"],
            consents={Channel.EMAIL: Consent(status=ConsentStatus.UNSUBSCRIBED, source="crm")},
            created_at=datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
            updated_at=datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
        ),
    ),
]


def _connector() -> ExampleConnector:
    config = ExampleConfig(base_url="https://crm.example.com", api_token=SecretStr("t"))
    return ExampleConnector(config, connection="crm")


@pytest.mark.parametrize(("contact", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_contact_to_customer(contact: dict[str, Any], expected: Customer) -> None:
    mapped = _connector().to_canonical("customers", contact)
    assert mapped.external_id == contact["id"]
    assert mapped.record == expected
    assert mapped.updated_at == expected.updated_at


def test_customer_to_contact_sends_every_writable_field() -> None:
    customer = _connector().to_canonical("customers", FULL).record
    assert isinstance(customer, Customer)
    assert customer_to_contact(customer) == {
        "email": "ana.garcia@example.es",
        "first_name": "Ana",
        "last_name": "García",
        "phone": "+34600000042",
        "birthday": "1985-02-14",
        "language": "es",
        "address": {
            "street": "Calle Mayor 1",
            "city": "Madrid",
            "postal_code": "28013",
            "country": "ES",
        },
        "marketing_opt_in": True,
        "tags": ["b2b", "vip"],
    }


@pytest.mark.parametrize(
    ("status", "flag"),
    [
        (ConsentStatus.SUBSCRIBED, True),
        (ConsentStatus.UNSUBSCRIBED, False),
        (ConsentStatus.PENDING, None),
        (ConsentStatus.NOT_SUBSCRIBED, None),
    ],
)
def test_only_a_yes_or_a_no_reaches_the_opt_in_flag(
    status: ConsentStatus, flag: bool | None
) -> None:
    customer = Customer(emails=["a@example.com"], consents={Channel.EMAIL: Consent(status=status)})
    assert customer_to_contact(customer)["marketing_opt_in"] is flag


def test_a_customer_without_details_clears_them_at_the_vendor() -> None:
    contact = customer_to_contact(Customer(emails=["a@example.com"]))
    assert contact["address"] is None and contact["phone"] is None and contact["tags"] == []


def test_a_contact_without_id_is_refused() -> None:
    with pytest.raises(ValueError, match="no id"):
        contact_to_customer({**SPARSE, "id": None}, "crm")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "ann@@example.com"}, "emails.0"),
        ({"updated_at": "2024-05-01T10:20:30"}, "updated_at"),
        ({"address": {"country": "Atlantis"}}, "addresses.0.country"),
    ],
)
def test_bad_values_fail_validation_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        _connector().to_canonical("customers", {**SPARSE, **change})
    assert field in {".".join(str(p) for p in e["loc"]) for e in raised.value.errors()}
