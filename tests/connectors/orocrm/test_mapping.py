"""Oro contacts <-> canonical customers, as tables of JSON:API resource and canonical record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.orocrm.config import OroConfig
from connectors.orocrm.connector import OroConnector
from connectors.orocrm.mapping import address_parts, contact_attributes, places
from hub.errors import RecordError
from hub.model import Acquisition, Address, Customer

ADDRESS: dict[str, Any] = {
    "type": "contactaddresses",
    "id": "7",
    "attributes": {
        "street": "Calle Mayor 1",
        "street2": "2º izquierda",
        "city": "Madrid",
        "postalCode": "28013",
        "organization": "Acme SL",
        "primary": True,
        "customRegion": None,
    },
    "relationships": {
        "country": {"data": {"type": "countries", "id": "ES"}},
        "region": {"data": {"type": "regions", "id": "ES-M"}},
        "types": {"data": [{"type": "addresstypes", "id": "shipping"}]},
    },
}
CONTACT: dict[str, Any] = {
    "type": "contacts",
    "id": "42",
    "attributes": {
        "firstName": "Ana",
        "lastName": "García",
        "gender": "female",
        "birthday": "1985-02-14",
        "description": "Prefers calls",
        "primaryEmail": "Ana@Example.es",
        "emails": [{"email": "ana.work@example.es"}, {"email": "Ana@Example.es"}],
        "primaryPhone": "+34 600 000 042",
        "phones": [{"phone": "+34 600 000 042"}, {"phone": "+34 911 000 000"}],
        "createdAt": "2021-03-04T05:06:07Z",
        "updatedAt": "2024-05-01T10:20:30Z",
    },
    "relationships": {
        "source": {"data": {"type": "contactsources", "id": "website"}},
        "owner": {"data": {"type": "users", "id": "1"}},
        "addresses": {"data": [{"type": "contactaddresses", "id": "7"}]},
    },
    "included": [ADDRESS, {**ADDRESS, "id": "8"}],  # 8 belongs to another contact
}

CASES: list[tuple[str, dict[str, Any], Customer]] = [
    (
        "primary e-mail and phone first; the included address; source and owner",
        CONTACT,
        Customer(
            first_name="Ana",
            last_name="García",
            emails=["ana@example.es", "ana.work@example.es"],
            phones=["+34600000042", "+34911000000"],
            addresses=[
                Address(
                    kind="shipping",
                    company="Acme SL",
                    line1="Calle Mayor 1",
                    line2="2º izquierda",
                    city="Madrid",
                    region="M",
                    postcode="28013",
                    country="ES",
                )
            ],
            birth_date=date(1985, 2, 14),
            gender="female",
            acquisition=Acquisition(source="website"),
            attributes={"oro_owner_id": "1"},
            note="Prefers calls",
            created_at=datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
            updated_at=datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC),
        ),
    ),
    (
        "nulls, an empty source and no addresses",
        {
            "type": "contacts",
            "id": "43",
            "attributes": {"lastName": "Li", "emails": [], "phones": [], "gender": None},
            "relationships": {"source": {"data": None}, "addresses": {"data": []}},
        },
        Customer(last_name="Li"),
    ),
    (
        "the first account is the company; an account of another contact is not",
        {
            **CONTACT,
            "relationships": {
                "accounts": {"data": [{"type": "accounts", "id": "5"}]},
                "addresses": {"data": []},
            },
            "included": [
                {"type": "accounts", "id": "9", "attributes": {"name": "Other SA"}},
                {"type": "accounts", "id": "5", "attributes": {"name": "García Consulting"}},
            ],
        },
        Customer(
            first_name="Ana",
            last_name="García",
            emails=["ana@example.es", "ana.work@example.es"],
            phones=["+34600000042", "+34911000000"],
            birth_date=date(1985, 2, 14),
            gender="female",
            attributes={"company": "García Consulting"},
            note="Prefers calls",
            created_at=datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
            updated_at=datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC),
        ),
    ),
]


def _connector() -> OroConnector:
    config = OroConfig(
        base_url="https://crm.example.com", client_id="c", client_secret=SecretStr("s")
    )
    return OroConnector(config, connection="crm")


@pytest.mark.parametrize(("contact", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_contact_to_customer(contact: dict[str, Any], expected: Customer) -> None:
    mapped = _connector().to_canonical("customers", contact)
    assert mapped.external_id == contact["id"] and mapped.record == expected


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"primaryEmail": "ann@@example.com"}, "emails.0"),
        ({"updatedAt": "last Tuesday"}, "not an ISO 8601 time"),
    ],
)
def test_bad_contacts_are_refused_naming_the_field(change: dict[str, Any], words: str) -> None:
    contact = {**CONTACT, "attributes": {**CONTACT["attributes"], **change}}
    with pytest.raises(RecordError) as raised:
        _connector().to_canonical("customers", contact)
    assert raised.value.external_id == "42" and words in str(raised.value)


def test_a_write_sends_the_whole_collections_with_the_primary_first() -> None:
    customer = _connector().to_canonical("customers", CONTACT).record
    assert isinstance(customer, Customer)
    assert contact_attributes(customer) == {
        "firstName": "Ana",
        "lastName": "García",
        "primaryEmail": "ana@example.es",
        "emails": [{"email": "ana@example.es"}, {"email": "ana.work@example.es"}],
        "primaryPhone": "+34600000042",
        "phones": [{"phone": "+34600000042"}, {"phone": "+34911000000"}],
        "birthday": "1985-02-14",
        "gender": "female",
    }


def test_what_the_hub_does_not_hold_is_cleared() -> None:
    attributes = contact_attributes(Customer(last_name="Li", gender="other"))
    assert attributes["emails"] == [] and attributes["primaryEmail"] is None
    assert attributes["gender"] is None  # Oro knows only male and female


def test_an_address_is_written_with_every_held_field_and_its_types() -> None:
    shop = {"company": "Acme SL", "line1": "Calle Mayor 1", "city": "Madrid",
            "region": "Madrid", "postcode": "28013", "country": "ES"}  # fmt: skip
    [place] = places([{"kind": "billing", **shop}, {"kind": "shipping", **shop}, shop])
    attributes, relationships = address_parts(place, primary=True)
    assert attributes == {
        "primary": True,
        "organization": "Acme SL",
        "street": "Calle Mayor 1",
        "street2": None,  # the hub has none: cleared in Oro
        "city": "Madrid",
        "customRegion": "Madrid",
        "postalCode": "28013",
    }
    assert relationships == {
        "country": {"data": {"type": "countries", "id": "ES"}},
        "region": {"data": None},
        "types": {
            "data": [
                {"type": "addresstypes", "id": "billing"},
                {"type": "addresstypes", "id": "shipping"},
            ]
        },
    }
    [home] = places([{"kind": "home", "country": "PT", "line1": "Rua 1"}])
    assert address_parts(home, primary=False)[1]["types"] == {"data": []}  # no "home" type


def test_oro_holds_one_address_per_place_with_a_country() -> None:
    connector = _connector()
    home = {"line1": "Rua 1", "country": "PT"}
    data = {
        "last_name": "Li",
        "addresses": [
            {"kind": "home", **home},
            {"kind": "shipping", **home},
            {"kind": "billing", "line1": "Nowhere"},
        ],
    }
    assert connector.held_view("customers", data) == {
        "last_name": "Li",
        "addresses": [{"kind": "shipping", **home}],  # as Oro reads it back
    }
    assert connector.held_view("customers", {"addresses": [{"city": "X"}]}) == {}
