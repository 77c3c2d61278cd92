"""Sugar records <-> canonical records, as tables of vendor payload and canonical record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from connectors.sugarcrm.config import SugarConfig
from connectors.sugarcrm.connector import SugarConnector
from connectors.sugarcrm.mapping import customer_to_person
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

CREATED = "2021-03-04T05:06:07+00:00"
MODIFIED = "2024-05-01T12:20:30+02:00"
STAMPS = {
    "created_at": datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
    "updated_at": datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC),
}


def _email(address: str, **flags: bool) -> dict[str, Any]:
    return {
        "email_address": address,
        "primary_address": False,
        "reply_to_address": False,
        "invalid_email": False,
        "opt_out": False,
    } | flags


FULL: dict[str, Any] = {
    "id": "c0ffee00-0000-4000-8000-000000000042",
    "_module": "Contacts",
    "first_name": "Ana",
    "last_name": "García",
    "email": [
        _email("ana.work@example.es"),
        _email("Ana.Garcia@Example.es", primary_address=True),
        _email("bounced@example.es", invalid_email=True),
    ],
    "email1": "Ana.Garcia@Example.es",
    "phone_mobile": "+34 600 000 042",
    "phone_work": "+34 910 000 042",
    "phone_home": "",
    "phone_other": None,
    "primary_address_street": "Calle Mayor 1\n3º B",
    "primary_address_city": "Madrid",
    "primary_address_state": "Madrid",
    "primary_address_postalcode": "28013",
    "primary_address_country": "Spain",
    "alt_address_street": "Rua Augusta 10",
    "alt_address_city": "Lisboa",
    "alt_address_postalcode": "1100-053",
    "alt_address_country": "PT",
    "birthdate": "1985-02-14",
    "preferred_language": "es_ES",
    "tag": [{"id": "t1", "name": "vip"}, {"id": "t2", "name": "b2b"}],
    "date_entered": CREATED,
    "date_modified": MODIFIED,
}
SPARSE: dict[str, Any] = {
    "id": "c0ffee00-0000-4000-8000-000000000043",
    "first_name": "",
    "last_name": "Bo",
    "email": [],
    "phone_mobile": "",
    "primary_address_street": "",
    "birthdate": None,
    "preferred_language": "",
    "tag": [],
    "date_entered": CREATED,
    "date_modified": MODIFIED,
}

PEOPLE: list[tuple[str, dict[str, Any], Customer]] = [
    (
        "every field; the primary address first, the bounced one left out",
        FULL,
        Customer(
            first_name="Ana",
            last_name="García",
            emails=["ana.garcia@example.es", "ana.work@example.es"],
            phones=["+34600000042", "+34910000042"],
            addresses=[
                Address(
                    line1="Calle Mayor 1",
                    line2="3º B",
                    city="Madrid",
                    region="Madrid",
                    postcode="28013",
                    country="ES",
                ),
                Address(line1="Rua Augusta 10", city="Lisboa", postcode="1100-053", country="PT"),
            ],
            birth_date=date(1985, 2, 14),
            language="es",
            consents={Channel.EMAIL: Consent(status=ConsentStatus.SUBSCRIBED, source="crm")},
            tags=["b2b", "vip"],
            **STAMPS,
        ),
    ),
    ("blanks are absent, not empty values", SPARSE, Customer(last_name="Bo", **STAMPS)),
    (
        "the primary address opted out is an unsubscribe",
        {**SPARSE, "email": [_email("bo@example.com", primary_address=True, opt_out=True)]},
        Customer(
            last_name="Bo",
            emails=["bo@example.com"],
            consents={Channel.EMAIL: Consent(status=ConsentStatus.UNSUBSCRIBED, source="crm")},
            **STAMPS,
        ),
    ),
    (
        "only a bounced address: no e-mail and no consent",
        {**SPARSE, "email": [_email("bo@example.com", primary_address=True, invalid_email=True)]},
        Customer(last_name="Bo", **STAMPS),
    ),
    (
        "a language key outside the table is read as a language tag",
        {**SPARSE, "preferred_language": "pt_BR"},
        Customer(last_name="Bo", language="pt-BR", **STAMPS),
    ),
    (
        "the contact's account is the company it works for",
        {**SPARSE, "account_id": "acc-1", "account_name": "Comercial Norte SL"},
        Customer(last_name="Bo", attributes={"company": "Comercial Norte SL"}, **STAMPS),
    ),
]

LEAD: dict[str, Any] = {
    **SPARSE,
    "_module": "Leads",
    "email": [_email("bo@example.com", primary_address=True)],
    "status": "New",
    "lead_source": "Web Site",
    "campaign_name": "Spring sale",
    "account_name": "Bo Imports",
    "converted": False,
}
LEAD_CUSTOMER: dict[str, Any] = {
    "last_name": "Bo",
    "emails": ["bo@example.com"],
    "consents": {Channel.EMAIL: Consent(status=ConsentStatus.SUBSCRIBED, source="crm")},
    **STAMPS,
}
LEADS: list[tuple[str, dict[str, Any], Customer]] = [
    (
        "a lead is a person in the lead stage, acquired from its lead source and campaign",
        LEAD,
        Customer(
            **LEAD_CUSTOMER,
            attributes={"company": "Bo Imports", "lifecycle": "lead"},
            acquisition=Acquisition(
                source="crm",
                channel="web_site",
                campaign="Spring sale",
                acquired_at=STAMPS["created_at"],
            ),
        ),
    ),
    (
        "a converted lead is a contact; no source or campaign leaves only the date",
        {**LEAD, "status": "Converted", "converted": True, "lead_source": "", "campaign_name": ""},
        Customer(
            **LEAD_CUSTOMER,
            attributes={"company": "Bo Imports", "lifecycle": "contact"},
            acquisition=Acquisition(source="crm", acquired_at=STAMPS["created_at"]),
        ),
    ),
]

CASE: dict[str, Any] = {
    "id": "cafe0000-0000-4000-8000-000000000007",
    "_module": "Cases",
    "name": "Order problem #7",
    "case_number": 7,
    "status": "Pending Input",
    "priority": "P2",
    "type": "Product",
    "source": "Email",
    "description": "The parcel arrived damaged.",
    "primary_contact_id": FULL["id"],
    "account_id": "",
    "resolution": "",
    "date_entered": CREATED,
    "date_modified": MODIFIED,
}
CASES: list[tuple[str, dict[str, Any], Interaction]] = [
    (
        "a case is a ticket on its primary contact",
        CASE,
        Interaction(
            kind=InteractionKind.TICKET,
            occurred_at=STAMPS["created_at"],
            customer_ref=FULL["id"],
            channel="email",
            subject="Order problem #7",
            status="Pending Input",
            details={"case_number": 7, "priority": "P2", "type": "Product"},
            updated_at=STAMPS["updated_at"],
        ),
    ),
    (
        "a case without a contact belongs to nobody yet",
        {**CASE, "primary_contact_id": "", "source": "", "account_id": "acc-1"},
        Interaction(
            kind=InteractionKind.TICKET,
            occurred_at=STAMPS["created_at"],
            subject="Order problem #7",
            status="Pending Input",
            details={"case_number": 7, "priority": "P2", "type": "Product", "account_id": "acc-1"},
            updated_at=STAMPS["updated_at"],
        ),
    ),
]


def _connector() -> SugarConnector:
    config = SugarConfig(
        base_url="https://acme.sugarondemand.com", username="hub", password=SecretStr("p")
    )
    return SugarConnector(config, connection="crm")


@pytest.mark.parametrize(
    ("person", "expected"), [c[1:] for c in PEOPLE], ids=[c[0] for c in PEOPLE]
)
@pytest.mark.parametrize("stream", ["customers", "accounts"])
def test_person_to_customer(stream: str, person: dict[str, Any], expected: Customer) -> None:
    """The accounts stream reads the contacts of changed accounts: mapped as contacts."""
    mapped = _connector().to_canonical(stream, person)
    assert mapped.external_id == person["id"]
    assert mapped.record == expected
    assert mapped.updated_at == expected.updated_at


@pytest.mark.parametrize(("lead", "expected"), [c[1:] for c in LEADS], ids=[c[0] for c in LEADS])
def test_lead_to_customer(lead: dict[str, Any], expected: Customer) -> None:
    mapped = _connector().to_canonical("leads", lead)
    assert (mapped.external_id, mapped.record) == (lead["id"], expected)


@pytest.mark.parametrize(("case", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_case_to_interaction(case: dict[str, Any], expected: Interaction) -> None:
    mapped = _connector().to_canonical("cases", case)
    assert (mapped.external_id, mapped.record) == (case["id"], expected)


def test_customer_to_person_sends_every_writable_field() -> None:
    customer = _connector().to_canonical("customers", FULL).record
    assert isinstance(customer, Customer)
    assert customer_to_person(customer) == {
        "first_name": "Ana",
        "last_name": "García",
        "email": [
            {"email_address": "ana.garcia@example.es", "primary_address": True, "opt_out": False},
            {"email_address": "ana.work@example.es", "primary_address": False, "opt_out": False},
        ],
        "phone_mobile": "+34600000042",
        "phone_work": "+34910000042",
        "phone_home": "",
        "phone_other": "",
        "primary_address_street": "Calle Mayor 1\n3º B",
        "primary_address_city": "Madrid",
        "primary_address_state": "Madrid",
        "primary_address_postalcode": "28013",
        "primary_address_country": "Spain",
        "alt_address_street": "Rua Augusta 10",
        "alt_address_city": "Lisboa",
        "alt_address_state": "",
        "alt_address_postalcode": "1100-053",
        "alt_address_country": "Portugal",
        "birthdate": "1985-02-14",
        "preferred_language": "es_ES",
        "tag": [{"name": "b2b"}, {"name": "vip"}],
    }


@pytest.mark.parametrize(
    ("status", "flag"),
    [
        (ConsentStatus.SUBSCRIBED, False),
        (ConsentStatus.UNSUBSCRIBED, True),
        (ConsentStatus.PENDING, None),
        (ConsentStatus.NOT_SUBSCRIBED, None),
        (None, None),
    ],
)
def test_only_a_yes_or_a_no_reaches_the_opt_out_flags(
    status: ConsentStatus | None, flag: bool | None
) -> None:
    consents = {Channel.EMAIL: Consent(status=status)} if status else {}
    customer = Customer(emails=["a@example.com", "b@example.com"], consents=consents)
    sent = customer_to_person(customer)["email"]
    assert [entry.get("opt_out") for entry in sent] == [flag, flag]


def test_a_customer_without_details_clears_them_in_sugar() -> None:
    person = customer_to_person(Customer(emails=["a@example.com"]))
    assert person["phone_mobile"] == person["primary_address_city"] == person["birthdate"] == ""
    assert person["tag"] == []


@pytest.mark.parametrize(
    ("stream", "change", "field"),
    [
        ("customers", {"email": [_email("ann@@example.com", primary_address=True)]}, "emails.0"),
        ("customers", {"date_modified": "2024-05-01 10:20:30"}, "updated_at"),
        ("customers", {"primary_address_country": "Atlantis"}, "addresses.0.country"),
        ("cases", {"date_entered": ""}, "occurred_at"),
    ],
)
def test_bad_values_fail_validation_naming_the_field(
    stream: str, change: dict[str, Any], field: str
) -> None:
    base = CASE if stream == "cases" else SPARSE
    with pytest.raises(ValidationError) as raised:
        _connector().to_canonical(stream, {**base, **change})
    assert field in {".".join(str(p) for p in e["loc"]) for e in raised.value.errors()}


def test_a_record_without_id_is_refused() -> None:
    with pytest.raises(ValueError, match="no id"):
        _connector().to_canonical("customers", {**SPARSE, "id": ""})
