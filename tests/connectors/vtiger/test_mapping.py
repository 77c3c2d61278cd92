"""vTiger records <-> canonical records, as tables of vendor payload and canonical record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from connectors.vtiger.config import VtigerConfig
from connectors.vtiger.connector import VtigerConnector
from connectors.vtiger.mapping import customer_to_contact
from hub.model import (
    Acquisition,
    Address,
    Channel,
    Consent,
    ConsentStatus,
    Customer,
    Interaction,
    InteractionKind,
)

STAMPS = {
    "created_at": datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
    "updated_at": datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC),
}
FULL: dict[str, Any] = {
    "id": "12x42",
    "firstname": "Ana",
    "lastname": "García",
    "email": "Ana.Garcia@Example.es",
    "secondaryemail": "ana.work@example.es",
    "mobile": "+34 600 000 042",
    "phone": "+34 910 000 042",
    "homephone": "",
    "otherphone": "",
    "mailingstreet": "Calle Mayor 1",
    "mailingcity": "Madrid",
    "mailingstate": "Madrid",
    "mailingzip": "28013",
    "mailingcountry": "Spain",
    "otherstreet": "Rua Augusta 10",
    "othercity": "Lisboa",
    "otherstate": "",
    "otherzip": "1100-053",
    "othercountry": "PT",
    "birthday": "1985-02-14",
    "emailoptout": "0",
    "contact_no": "CON42",
    "assigned_user_id": "19x1",
    "createdtime": "2021-03-04 05:06:07",
    "modifiedtime": "2024-05-01 10:20:30",
}
SPARSE: dict[str, Any] = {
    "id": "12x43",
    "firstname": "",
    "lastname": "Bo",
    "email": "",
    "mobile": "",
    "mailingstreet": "",
    "birthday": "",
    "emailoptout": "0",
    "createdtime": "2021-03-04 05:06:07",
    "modifiedtime": "2024-05-01 10:20:30",
}
CONTACTS: list[tuple[str, dict[str, Any], Customer]] = [
    (
        "every field",
        FULL,
        Customer(
            first_name="Ana",
            last_name="García",
            emails=["ana.garcia@example.es", "ana.work@example.es"],
            phones=["+34600000042", "+34910000042"],
            addresses=[
                Address(
                    line1="Calle Mayor 1",
                    city="Madrid",
                    region="Madrid",
                    postcode="28013",
                    country="ES",
                ),
                Address(line1="Rua Augusta 10", city="Lisboa", postcode="1100-053", country="PT"),
            ],
            birth_date=date(1985, 2, 14),
            consents={Channel.EMAIL: Consent(status=ConsentStatus.SUBSCRIBED, source="crm")},
            **STAMPS,
        ),
    ),
    ("empty strings are absent; no e-mail, no consent", SPARSE, Customer(last_name="Bo", **STAMPS)),
    (
        "emailoptout 1 is an unsubscribe",
        {**SPARSE, "email": "bo@example.com", "emailoptout": "1"},
        Customer(
            last_name="Bo",
            emails=["bo@example.com"],
            consents={Channel.EMAIL: Consent(status=ConsentStatus.UNSUBSCRIBED, source="crm")},
            **STAMPS,
        ),
    ),
]
TICKET: dict[str, Any] = {
    "id": "17x50",
    "ticket_title": "Where is my order #7?",
    "ticket_no": "TT7",
    "ticketstatus": "Wait For Response",
    "ticketpriorities": "High",
    "ticketseverities": "Minor",
    "ticketcategories": "Small Problem",
    "contact_id": "12x42",
    "parent_id": "",
    "createdtime": "2021-03-04 05:06:07",
    "modifiedtime": "2024-05-01 10:20:30",
}
TICKETS: list[tuple[str, dict[str, Any], Interaction]] = [
    (
        "a ticket on its contact",
        TICKET,
        Interaction(
            kind=InteractionKind.TICKET,
            occurred_at=STAMPS["created_at"],
            customer_ref="12x42",
            subject="Where is my order #7?",
            status="Wait For Response",
            details={
                "ticket_no": "TT7",
                "ticketpriorities": "High",
                "ticketseverities": "Minor",
                "ticketcategories": "Small Problem",
            },
            updated_at=STAMPS["updated_at"],
        ),
    ),
    (
        "a ticket of an organisation only",
        {**TICKET, "contact_id": "", "parent_id": "11x3", "ticketseverities": ""},
        Interaction(
            kind=InteractionKind.TICKET,
            occurred_at=STAMPS["created_at"],
            subject="Where is my order #7?",
            status="Wait For Response",
            details={
                "ticket_no": "TT7",
                "ticketpriorities": "High",
                "ticketcategories": "Small Problem",
                "parent_id": "11x3",
            },
            updated_at=STAMPS["updated_at"],
        ),
    ),
]


LEAD: dict[str, Any] = {
    "id": "10x7",
    "firstname": "Bo",
    "lastname": "Ruiz",
    "company": "Ruiz Imports",
    "email": "bo@example.com",
    "secondaryemail": "",
    "mobile": "+34 600 000 007",
    "phone": "",
    "lane": "Gran Vía 2",
    "city": "Madrid",
    "state": "",
    "code": "28013",
    "country": "Spain",
    "leadsource": "Trade Show",
    "leadstatus": "Not Contacted",
    "emailoptout": "1",
    "createdtime": "2021-03-04 05:06:07",
    "modifiedtime": "2024-05-01 10:20:30",
}
LEADS: list[tuple[str, dict[str, Any], Customer]] = [
    (
        "a lead is a person at the lead stage, acquired from its lead source",
        LEAD,
        Customer(
            first_name="Bo",
            last_name="Ruiz",
            emails=["bo@example.com"],
            phones=["+34600000007"],
            addresses=[Address(line1="Gran Vía 2", city="Madrid", postcode="28013", country="ES")],
            consents={Channel.EMAIL: Consent(status=ConsentStatus.UNSUBSCRIBED, source="crm")},
            attributes={"lifecycle": "lead", "company": "Ruiz Imports"},
            acquisition=Acquisition(
                source="crm", channel="trade_show", acquired_at=STAMPS["created_at"]
            ),
            **STAMPS,
        ),
    ),
    (
        "no company and no source: the stage and the date stay",
        {
            **LEAD,
            "company": "",
            "leadsource": "",
            "lane": "",
            "city": "",
            "code": "",
            "country": "",
        },
        Customer(
            first_name="Bo",
            last_name="Ruiz",
            emails=["bo@example.com"],
            phones=["+34600000007"],
            consents={Channel.EMAIL: Consent(status=ConsentStatus.UNSUBSCRIBED, source="crm")},
            attributes={"lifecycle": "lead"},
            acquisition=Acquisition(source="crm", acquired_at=STAMPS["created_at"]),
            **STAMPS,
        ),
    ),
]


def _connector() -> VtigerConnector:
    config = VtigerConfig(
        base_url="https://acme.od2.vtiger.com", username="hub", access_key=SecretStr("k")
    )
    return VtigerConnector(config, connection="crm")


@pytest.mark.parametrize(
    ("contact", "expected"), [c[1:] for c in CONTACTS], ids=[c[0] for c in CONTACTS]
)
def test_contact_to_customer(contact: dict[str, Any], expected: Customer) -> None:
    mapped = _connector().to_canonical("customers", contact)
    assert (mapped.external_id, mapped.record) == (contact["id"], expected)
    assert mapped.updated_at == expected.updated_at


@pytest.mark.parametrize(("lead", "expected"), [c[1:] for c in LEADS], ids=[c[0] for c in LEADS])
def test_lead_to_customer(lead: dict[str, Any], expected: Customer) -> None:
    mapped = _connector().to_canonical("leads", lead)
    assert (mapped.external_id, mapped.record) == (lead["id"], expected)


@pytest.mark.parametrize("stream", ["customers", "accounts"])
def test_the_accountname_the_connector_adds_is_the_company(stream: str) -> None:
    """Both streams read contacts; the name of the contact's account is its company."""
    contact = {**FULL, "account_id": "11x3", "accountname": "Comercial Norte SL"}
    mapped = _connector().to_canonical(stream, contact).record
    assert isinstance(mapped, Customer)
    assert mapped.attributes == {"company": "Comercial Norte SL"}
    assert mapped.model_dump(exclude={"attributes"}) == (
        _connector().to_canonical("customers", FULL).record.model_dump(exclude={"attributes"})
    )


@pytest.mark.parametrize(
    ("ticket", "expected"), [c[1:] for c in TICKETS], ids=[c[0] for c in TICKETS]
)
def test_ticket_to_interaction(ticket: dict[str, Any], expected: Interaction) -> None:
    mapped = _connector().to_canonical("tickets", ticket)
    assert (mapped.external_id, mapped.record) == (ticket["id"], expected)


def test_customer_to_contact_sends_every_writable_field_as_text() -> None:
    customer = _connector().to_canonical("customers", FULL).record
    assert isinstance(customer, Customer)
    assert customer_to_contact(customer) == {
        "firstname": "Ana",
        "lastname": "García",
        "email": "ana.garcia@example.es",
        "secondaryemail": "ana.work@example.es",
        "mobile": "+34600000042",
        "phone": "+34910000042",
        "homephone": "",
        "otherphone": "",
        "mailingstreet": "Calle Mayor 1",
        "mailingcity": "Madrid",
        "mailingstate": "Madrid",
        "mailingzip": "28013",
        "mailingcountry": "Spain",
        "otherstreet": "Rua Augusta 10",
        "othercity": "Lisboa",
        "otherstate": "",
        "otherzip": "1100-053",
        "othercountry": "Portugal",
        "birthday": "1985-02-14",
        "emailoptout": "0",
    }


@pytest.mark.parametrize(
    ("status", "flag"),
    [
        (ConsentStatus.SUBSCRIBED, "0"),
        (ConsentStatus.UNSUBSCRIBED, "1"),
        (ConsentStatus.PENDING, None),
        (None, None),
    ],
)
def test_only_a_yes_or_a_no_reaches_emailoptout(
    status: ConsentStatus | None, flag: str | None
) -> None:
    consents = {Channel.EMAIL: Consent(status=status)} if status else {}
    contact = customer_to_contact(Customer(emails=["a@example.com"], consents=consents))
    assert contact.get("emailoptout") == flag


@pytest.mark.parametrize(
    ("stream", "change", "field"),
    [
        ("customers", {"email": "ann@@example.com"}, "emails.0"),
        ("customers", {"mailingcountry": "Atlantis"}, "addresses.0.country"),
        ("tickets", {"createdtime": "0000-00-00 00:00:00"}, "occurred_at"),
    ],
)
def test_bad_values_fail_validation_naming_the_field(
    stream: str, change: dict[str, Any], field: str
) -> None:
    base = TICKET if stream == "tickets" else SPARSE
    with pytest.raises(ValidationError) as raised:
        _connector().to_canonical(stream, {**base, **change})
    assert field in {".".join(str(p) for p in e["loc"]) for e in raised.value.errors()}
