"""openCRX contacts with their addresses <-> canonical customers, as tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.opencrx.config import OpenCrxConfig
from connectors.opencrx.connector import OpenCrxConnector
from connectors.opencrx.mapping import customer_to_contact, customer_to_email
from hub.model import (
    Address,
    Channel,
    Consent,
    ConsentStatus,
    Customer,
    Interaction,
    InteractionKind,
)

HREF = "http://crm/opencrx-rest-CRX/org.opencrx.kernel.account1/provider/CRX/segment/Standard"
CONTACT: dict[str, Any] = {
    "@type": "org.opencrx.kernel.account1.Contact",
    "@href": f"{HREF}/account/9ENFSDRCBESBTH2MA4T2TYJFL",
    "firstName": "Ana",
    "lastName": "García",
    "birthdate": "1985-02-14T00:00:00.000Z",
    "doNotEMail": False,
    "createdAt": "2021-03-04T05:06:07.000Z",
    "modifiedAt": "2024-05-01T10:20:30.123Z",
}
ADDRESSES: list[dict[str, Any]] = [
    {"@type": "org.opencrx.kernel.account1.EMailAddress", "emailAddress": "ana.work@example.es"},
    {
        "@type": "org.opencrx.kernel.account1.EMailAddress",
        "emailAddress": "Ana@Example.es",
        "isMain": True,
    },
    {"@type": "org.opencrx.kernel.account1.PhoneNumber", "phoneNumberFull": "+34 600 000 042"},
    {
        "@type": "org.opencrx.kernel.account1.PostalAddress",
        "postalStreet": ["Calle Mayor 1", "3º B"],
        "postalCity": "Madrid",
        "postalCode": "28013",
        "postalCountry": 724,
        "isMain": True,
    },
]
STAMPS = {
    "created_at": datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
    "updated_at": datetime(2024, 5, 1, 10, 20, 30, 123000, tzinfo=UTC),
}
CASES: list[tuple[str, dict[str, Any], Customer]] = [
    (
        "a contact and its addresses; the main e-mail first, the country from its number",
        {"id": "9ENFSDRCBESBTH2MA4T2TYJFL", "contact": CONTACT, "addresses": ADDRESSES},
        Customer(
            first_name="Ana",
            last_name="García",
            emails=["ana@example.es", "ana.work@example.es"],
            phones=["+34600000042"],
            addresses=[
                Address(
                    line1="Calle Mayor 1",
                    line2="3º B",
                    city="Madrid",
                    postcode="28013",
                    country="ES",
                )
            ],
            birth_date=date(1985, 2, 14),
            consents={Channel.EMAIL: Consent(status=ConsentStatus.SUBSCRIBED, source="crm")},
            **STAMPS,
        ),
    ),
    (
        "doNotEMail is an unsubscribe; no addresses, no consent without an e-mail",
        {"id": "x", "contact": {**CONTACT, "doNotEMail": True, "firstName": None}, "addresses": []},
        Customer(last_name="García", birth_date=date(1985, 2, 14), **STAMPS),
    ),
    (
        "doNotEMail with an address",
        {"id": "x", "contact": {**CONTACT, "doNotEMail": True}, "addresses": ADDRESSES[1:2]},
        Customer(
            first_name="Ana",
            last_name="García",
            emails=["ana@example.es"],
            birth_date=date(1985, 2, 14),
            consents={Channel.EMAIL: Consent(status=ConsentStatus.UNSUBSCRIBED, source="crm")},
            **STAMPS,
        ),
    ),
]


def _connector() -> OpenCrxConnector:
    config = OpenCrxConfig.model_validate(
        {"base_url": "https://crm.example.com", "username": "guest", "password": "p"}
    )
    return OpenCrxConnector(config, connection="crm")


@pytest.mark.parametrize(("record", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_contact_to_customer(record: dict[str, Any], expected: Customer) -> None:
    mapped = _connector().to_canonical("customers", record)
    assert (mapped.external_id, mapped.record) == ("9ENFSDRCBESBTH2MA4T2TYJFL", expected)


@pytest.mark.parametrize(
    ("status", "flag"),
    [(ConsentStatus.SUBSCRIBED, False), (ConsentStatus.UNSUBSCRIBED, True), (None, None)],
)
def test_customer_to_contact_and_its_main_email(
    status: ConsentStatus | None, flag: bool | None
) -> None:
    consents = {Channel.EMAIL: Consent(status=status)} if status else {}
    customer = Customer(
        first_name="Ana", last_name="García", emails=["ana@example.es"], consents=consents
    )
    contact = customer_to_contact(customer)
    assert contact.get("doNotEMail") is flag
    assert (contact["firstName"], contact["lastName"], contact["birthdate"]) == (
        "Ana",
        "García",
        None,
    )
    assert customer_to_email(customer) == {
        "@type": "org.opencrx.kernel.account1.EMailAddress",
        "emailAddress": "ana@example.es",
        "isMain": True,
    }


@pytest.mark.parametrize(
    ("addresses", "field"),
    [
        ([{**ADDRESSES[1], "emailAddress": "ann@@example.com"}], "emails.0"),
        ([{**ADDRESSES[3], "postalCountry": 999}], "addresses.0.country"),
    ],
)
def test_bad_values_fail_validation_naming_the_field(
    addresses: list[dict[str, Any]], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        _connector().to_canonical("customers", {"contact": CONTACT, "addresses": addresses})
    assert field in {".".join(str(p) for p in e["loc"]) for e in raised.value.errors()}


ACTIVITY: dict[str, Any] = {
    "@type": "org.opencrx.kernel.activity1.Incident",
    "@href": f"{HREF.replace('account1', 'activity1')}/activity/3AB7QW0E1JJKH2MA4T2TYJFL0",
    "name": "Parcel never arrived",
    "activityNumber": "00000042",
    "activityState": 10,
    "reportingContact": {"@href": CONTACT["@href"]},
    "scheduledStart": "2024-04-30T08:00:00.000Z",
    "createdAt": "2021-03-04T05:06:07.000Z",
    "modifiedAt": "2024-05-01T10:20:30.123Z",
}
ACTIVITIES: list[tuple[str, dict[str, Any], Interaction]] = [
    (
        "an incident is a ticket on its reporting contact",
        ACTIVITY,
        Interaction(
            kind=InteractionKind.TICKET,
            occurred_at=datetime(2024, 4, 30, 8, tzinfo=UTC),
            customer_ref="9ENFSDRCBESBTH2MA4T2TYJFL",
            subject="Parcel never arrived",
            status="in progress",
            details={"activity_number": "00000042"},
            updated_at=STAMPS["updated_at"],
        ),
    ),
    (
        "a phone call without a contact or a schedule",
        {
            **ACTIVITY,
            "@type": "org.opencrx.kernel.activity1.PhoneCall",
            "reportingContact": None,
            "scheduledStart": None,
            "activityState": 20,
            "activityNumber": "",
        },
        Interaction(
            kind=InteractionKind.CALL,
            occurred_at=STAMPS["created_at"],
            subject="Parcel never arrived",
            status="closed",
            updated_at=STAMPS["updated_at"],
        ),
    ),
]


@pytest.mark.parametrize(
    ("activity", "expected"), [c[1:] for c in ACTIVITIES], ids=[c[0] for c in ACTIVITIES]
)
def test_activity_to_interaction(activity: dict[str, Any], expected: Interaction) -> None:
    mapped = _connector().to_canonical("activities", activity)
    assert (mapped.external_id, mapped.record) == ("3AB7QW0E1JJKH2MA4T2TYJFL0", expected)
