"""Oro opportunities and Magento customers -> canonical records, as tables of resource and record.

The resource shapes follow the field lists of Oro's public API documentation
for ``opportunities`` and ``magentocustomers`` (no licence-clean Oro
material exists to copy; see connectors/orocrm/sandbox.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.orocrm.config import OroConfig
from connectors.orocrm.connector import OroConnector
from hub.errors import RecordError
from hub.model import CanonicalRecord, Customer, Interaction, InteractionKind

OPPORTUNITY: dict[str, Any] = {
    "type": "opportunities",
    "id": "52",
    "attributes": {
        "name": "García Consulting: renewal",
        "closeDate": "2024-06-30",
        "probability": 0.5,
        "budgetAmountValue": "5765.0000",
        "budgetAmountCurrency": "eur",
        "closeRevenueValue": None,
        "closeRevenueCurrency": None,
        "createdAt": "2024-05-01T10:20:30Z",
        "updatedAt": "2024-05-02T08:00:00Z",
    },
    "relationships": {
        "status": {"data": {"type": "opportunitystatuses", "id": "in_progress"}},
        "closeReason": {"data": None},
        "contact": {"data": {"type": "contacts", "id": "2"}},
        "account": {"data": {"type": "accounts", "id": "3"}},
    },
}
MAGENTO_CUSTOMER: dict[str, Any] = {
    "type": "magentocustomers",
    "id": "245",
    "attributes": {
        "firstName": "Jerry",
        "lastName": "Coleman",
        "birthday": "1969-11-07",
        "email": "JerryAColeman@Example.com",
        "vat": "14605165",
        "originId": 1,
        "createdAt": "2017-02-15T15:42:19Z",
        "updatedAt": "2017-02-15T15:42:19Z",
    },
    "relationships": {
        "contact": {"data": {"type": "contacts", "id": "1"}},
        "account": {"data": {"type": "accounts", "id": "1"}},
    },
    "included": [{"type": "accounts", "id": "1", "attributes": {"name": "Coleman Trading"}}],
}

CASES: list[tuple[str, str, dict[str, Any], str, CanonicalRecord]] = [
    (
        "an open opportunity: budget, stage, close date, on its contact",
        "opportunities",
        OPPORTUNITY,
        "52",
        Interaction(
            kind=InteractionKind.OPPORTUNITY,
            occurred_at=datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC),
            customer_ref="2",
            subject="García Consulting: renewal",
            status="in_progress",
            details={
                "budget": "5765.0000",
                "currency": "EUR",
                "probability": 0.5,
                "close_date": "2024-06-30",
                "account_id": "3",
            },
            updated_at=datetime(2024, 5, 2, 8, 0, tzinfo=UTC),
        ),
    ),
    (
        "a won opportunity keeps its revenue and close reason; no contact, no customer",
        "opportunities",
        {
            **OPPORTUNITY,
            "attributes": {
                **OPPORTUNITY["attributes"],
                "closeRevenueValue": "6000",
                "closeRevenueCurrency": "EUR",
                "budgetAmountValue": None,
            },
            "relationships": {
                "status": {"data": {"type": "opportunitystatuses", "id": "won"}},
                "closeReason": {"data": {"type": "opportunityclosereasons", "id": "won"}},
                "contact": {"data": None},
            },
        },
        "52",
        Interaction(
            kind=InteractionKind.OPPORTUNITY,
            occurred_at=datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC),
            subject="García Consulting: renewal",
            status="won",
            details={
                "currency": "EUR",
                "close_revenue": "6000",
                "probability": 0.5,
                "close_date": "2024-06-30",
                "close_reason": "won",
            },
            updated_at=datetime(2024, 5, 2, 8, 0, tzinfo=UTC),
        ),
    ),
    (
        "a Magento customer: its own id space, VAT as tax_id, Magento's id, the account",
        "magento_customers",
        MAGENTO_CUSTOMER,
        "magentocustomers:245",
        Customer(
            first_name="Jerry",
            last_name="Coleman",
            emails=["jerryacoleman@example.com"],
            birth_date=date(1969, 11, 7),
            identifiers={"tax_id": "14605165"},
            attributes={"magento_customer_id": "1", "company": "Coleman Trading"},
            created_at=datetime(2017, 2, 15, 15, 42, 19, tzinfo=UTC),
            updated_at=datetime(2017, 2, 15, 15, 42, 19, tzinfo=UTC),
        ),
    ),
]


def _connector() -> OroConnector:
    config = OroConfig(
        base_url="https://crm.example.com", client_id="c", client_secret=SecretStr("s")
    )
    return OroConnector(config, connection="crm")


@pytest.mark.parametrize(
    ("stream", "resource", "external_id", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_maps_to_the_canonical_record(
    stream: str, resource: dict[str, Any], external_id: str, expected: CanonicalRecord
) -> None:
    mapped = _connector().to_canonical(stream, resource)
    assert (mapped.external_id, mapped.record) == (external_id, expected)
    assert mapped.updated_at == getattr(expected, "updated_at", None)


@pytest.mark.parametrize(
    ("stream", "resource", "change", "external_id", "words"),
    [
        ("opportunities", OPPORTUNITY, {"closeDate": "31/12/2024"}, "52", "closeDate '31/12"),
        ("opportunities", OPPORTUNITY, {"budgetAmountValue": "lots"}, "52", "not a number"),
        ("opportunities", OPPORTUNITY, {"budgetAmountCurrency": "EURO"}, "52", "currency"),
        (
            "magento_customers",
            MAGENTO_CUSTOMER,
            {"email": "ann@@example.com"},
            "magentocustomers:245",
            "emails.0",
        ),
    ],
)
def test_bad_records_are_refused_naming_the_field_and_the_id(
    stream: str, resource: dict[str, Any], change: dict[str, Any], external_id: str, words: str
) -> None:
    bad = {**resource, "attributes": {**resource["attributes"], **change}}
    with pytest.raises(RecordError) as raised:
        _connector().to_canonical(stream, bad)
    assert raised.value.external_id == external_id and words in str(raised.value)


def test_a_push_writes_contacts_never_magento_customers() -> None:
    connector = _connector()
    assert connector.writes_to("customers", "17")
    assert not connector.writes_to("customers", "magentocustomers:17")
