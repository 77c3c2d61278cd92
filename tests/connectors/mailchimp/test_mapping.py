"""Mailchimp records <-> canonical records, as tables of (vendor payload, canonical record).

The first rows are records captured from a live account (Airbyte's MIT
fixtures, tests/fixtures/vendor/mailchimp); the others vary one rule each.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.mailchimp.config import DEFAULT_MERGE_FIELDS, MailchimpConfig
from connectors.mailchimp.connector import MailchimpConnector
from connectors.mailchimp.mapping import (
    campaign_to_canonical,
    customer_to_member,
    held_address,
    interaction_to_canonical,
    member_to_customer,
    subscriber_hash,
    tag_changes,
)
from hub.model import Address, Campaign, Consent, Customer, Interaction

FIXTURE = (
    Path(__file__).parents[2] / "fixtures/vendor/mailchimp/airbyte_expected_records_subset.jsonl"
)
RECORDED = {
    (line := json.loads(text))["stream"]: line["data"]
    for text in FIXTURE.read_text().splitlines()
    if text.strip()
}
MEMBER = RECORDED["list_members"]
FIELDS = {
    "FNAME": "Ana",
    "LNAME": "Ruiz",
    "PHONE": "+34600000001",
    "BIRTHDAY": "04/02",
    "ADDRESS": {
        "addr1": "Calle Mayor 1",
        "addr2": "",
        "city": "Madrid",
        "state": "",
        "zip": "28013",
        "country": "ES",
    },
}
OPTED = "2024-05-01T09:30:00+00:00"
CHANGED = "2024-06-02T10:00:00+00:00"


def _member(**fields: Any) -> dict[str, Any]:
    base = {**MEMBER, "last_changed": CHANGED, "timestamp_opt": OPTED}
    return base | fields


def _customer(raw: dict[str, Any]) -> dict[str, Any]:
    _, data = member_to_customer(raw, "newsletter", DEFAULT_MERGE_FIELDS)
    return Customer.model_validate(data).canonical_dict()


def test_the_recorded_member_id_is_the_md5_of_its_lower_cased_address() -> None:
    assert subscriber_hash(MEMBER["email_address"]) == MEMBER["id"]
    assert (
        subscriber_hash("AirbyteMailchimpUser@gmail.com") == RECORDED["email_activity"]["email_id"]
    )


MEMBERS = [
    (
        "recorded unsubscribed member",
        MEMBER,
        {
            "first_name": "Thomas",
            "emails": ["integration-test+thomas@airbyte.io"],
            "consents": {"email": {"status": "unsubscribed", "source": "newsletter"}},
            "created_at": "2022-12-27T08:34:39Z",
            "updated_at": "2023-11-03T20:53:12Z",
        },
    ),
    (
        "subscribed: opt-in recorded at timestamp_opt; merge fields, tags, language, vip",
        _member(
            status="subscribed",
            merge_fields=FIELDS,
            tags=[{"id": 1, "name": "vip"}, {"id": 2, "name": "2022"}],
            language="es",
            vip=True,
        ),
        {
            "first_name": "Ana",
            "last_name": "Ruiz",
            "emails": ["integration-test+thomas@airbyte.io"],
            "phones": ["+34600000001"],
            "attributes": {"birthday": "04/02", "mailchimp_vip": True},
            "addresses": [
                {"line1": "Calle Mayor 1", "city": "Madrid", "postcode": "28013", "country": "ES"}
            ],
            "language": "es",
            "consents": {
                "email": {
                    "status": "subscribed",
                    "source": "newsletter",
                    "recorded_at": "2024-05-01T09:30:00Z",
                }
            },
            "tags": ["2022", "vip"],
            "created_at": "2024-05-01T09:30:00Z",
            "updated_at": "2024-06-02T10:00:00Z",
        },
    ),
    (
        "cleaned (bounced) is an opt-out; the API gives it no time, so it is undated",
        _member(status="cleaned", merge_fields={}),
        {"consents": {"email": {"status": "unsubscribed", "source": "newsletter"}}},
    ),
    (
        "pending waits for confirmation (asked at signup): not consent",
        _member(status="pending", merge_fields={}, timestamp_signup="2024-06-01T08:00:00+00:00"),
        {
            "consents": {
                "email": {
                    "status": "pending",
                    "source": "newsletter",
                    "recorded_at": "2024-06-01T08:00:00Z",
                }
            }
        },
    ),
    (
        "transactional: known, never asked",
        _member(status="transactional", merge_fields={}),
        {"consents": {"email": {"status": "not_subscribed", "source": "newsletter"}}},
    ),
    (
        "GDPR marketing permissions become the post and advertising channels",
        _member(
            status="transactional",
            merge_fields={},
            marketing_permissions=[
                {"marketing_permission_id": "a1", "text": "Email", "enabled": True},
                {"marketing_permission_id": "b2", "text": "Direct Mail", "enabled": False},
                {
                    "marketing_permission_id": "c3",
                    "text": "Customized Online Advertising",
                    "enabled": True,
                },
            ],
        ),
        {
            "consents": {
                "email": {"status": "not_subscribed", "source": "newsletter"},
                "post": {"status": "unsubscribed", "source": "newsletter"},
                "advertising": {"status": "subscribed", "source": "newsletter"},
            }
        },
    ),
]


@pytest.mark.parametrize(("case", "member", "expected"), MEMBERS, ids=[m[0] for m in MEMBERS])
def test_members_map_to_customers(
    case: str, member: dict[str, Any], expected: dict[str, Any]
) -> None:
    got = _customer(member)
    subset = {key: got.get(key) for key in expected}
    assert subset == expected
    if not member.get("merge_fields"):
        assert "first_name" not in got


def test_a_member_without_an_address_is_refused_with_its_id() -> None:
    with pytest.raises(ValueError, match=f"member {MEMBER['id']} has no email_address"):
        member_to_customer({**MEMBER, "email_address": ""}, "newsletter", DEFAULT_MERGE_FIELDS)


RECORDED_AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
PERSON = {
    "first_name": "Ana",
    "last_name": "Ruiz",
    "emails": ["ana@example.es"],
    "phones": ["+34600000001"],
    "birth_date": date(1990, 4, 2),
    "addresses": [Address(line1="Calle Mayor 1", city="Madrid", postcode="28013", country="ES")],
    "language": "pt-BR",
}
WRITES = [
    (
        "an opt-in with its time: status_if_new only, the time as timestamp_opt",
        {"email": Consent(status="subscribed", recorded_at=RECORDED_AT)},
        "transactional",
        {"status_if_new": "subscribed", "timestamp_opt": "2024-05-01T09:30:00+00:00"},
    ),
    (
        "an opt-out: status, so it applies to an existing member too",
        {"email": Consent(status="unsubscribed")},
        "transactional",
        {"status": "unsubscribed", "status_if_new": "unsubscribed"},
    ),
    (
        "an opt-in without a recorded time is not consent: transactional",
        {"email": Consent(status="subscribed")},
        "transactional",
        {"status_if_new": "transactional"},
    ),
    (
        "no consent, without_consent transactional",
        {},
        "transactional",
        {"status_if_new": "transactional"},
    ),
    ("no consent, without_consent skip: not created", {}, "skip", {"status_if_new": None}),
    (
        "pending is not consent either",
        {"email": Consent(status="pending")},
        "transactional",
        {"status_if_new": "transactional"},
    ),
]


@pytest.mark.parametrize(
    ("case", "consents", "without", "status"), WRITES, ids=[w[0] for w in WRITES]
)
def test_customers_map_to_member_upserts(
    case: str, consents: dict[str, Consent], without: str, status: dict[str, Any]
) -> None:
    customer = Customer(**PERSON, consents=consents)
    body = customer_to_member(customer, DEFAULT_MERGE_FIELDS, without_consent=without)
    assert body == {
        "email_address": "ana@example.es",
        "merge_fields": FIELDS,
        "language": "pt_BR",
        **status,
    }


def test_fields_the_customer_lacks_are_cleared_and_custom_attributes_map() -> None:
    customer = Customer(emails=["a@example.com"], attributes={"tier": "gold"})
    body = customer_to_member(
        customer,
        {"FNAME": "first_name", "TIER": "attribute:tier", "ADDRESS": "address"},
        without_consent="transactional",
    )
    assert body["merge_fields"] == {"FNAME": "", "TIER": "gold", "ADDRESS": ""}


@pytest.mark.parametrize(
    ("wanted", "held", "body"),
    [
        (["vip", "b2b"], ["vip"], [{"name": "b2b", "status": "active"}]),
        (["vip"], ["vip", "old"], [{"name": "old", "status": "inactive"}]),
        (["vip"], ["vip"], []),
    ],
)
def test_tags_become_the_hubs_set(
    wanted: list[str], held: list[str], body: list[dict[str, str]]
) -> None:
    assert tag_changes(wanted, held) == body


CAMPAIGNS = [
    (
        "recorded draft campaign",
        RECORDED["campaigns"],
        {"name": "Untitled", "channel": "email", "status": "save", "sends": 0},
    ),
    (
        "sent campaign with its report",
        {
            **RECORDED["campaigns"],
            "status": "sent",
            "send_time": "2024-06-02T10:00:00+00:00",
            "report": {
                "emails_sent": 47,
                "unsubscribed": 1,
                "opens": {"unique_opens": 20},
                "clicks": {"unique_clicks": 11},
                "bounces": {"hard_bounces": 1, "soft_bounces": 2, "syntax_errors": 0},
            },
        },
        {
            "name": "Untitled",
            "channel": "email",
            "status": "sent",
            "sent_at": "2024-06-02T10:00:00Z",
            "sends": 47,
            "opens": 20,
            "clicks": 11,
            "unsubscribes": 1,
            "bounces": 3,
        },
    ),
]


@pytest.mark.parametrize(("case", "raw", "expected"), CAMPAIGNS, ids=[c[0] for c in CAMPAIGNS])
def test_campaigns_map_with_their_report(
    case: str, raw: dict[str, Any], expected: dict[str, Any]
) -> None:
    external_id, data = campaign_to_canonical(raw)
    assert external_id == "324b8a398e"
    assert Campaign.model_validate(data).canonical_dict() == expected


def test_recorded_email_activity_maps_to_an_interaction() -> None:
    event = RECORDED["email_activity"]
    external_id, data = interaction_to_canonical(event)
    assert (
        external_id == "7847cdaeff:11273c9a5dc6ae6c5aaccfb77b2addfb:open:2023-11-06T20:17:57+00:00"
    )
    assert Interaction.model_validate(data).canonical_dict() == {
        "kind": "email_event",
        "occurred_at": "2023-11-06T20:17:57Z",
        "customer_ref": "11273c9a5dc6ae6c5aaccfb77b2addfb",
        "customer_email": "airbytemailchimpuser@gmail.com",
        "channel": "email",
        "subject": "open",
        "campaign_ref": "7847cdaeff",
        "details": {"ip": "74.125.212.231"},
    }


def test_the_held_address_is_the_first_one_as_the_address_merge_field_reads_it_back() -> None:
    first = {"company": "Comercial Ejemplo S.L.", "line1": "Calle Mayor 1", "city": "Madrid"}
    second = {"line1": "Rue de la Paix 2", "city": "Paris", "country": "FR"}
    assert held_address([first | {"postcode": "28013", "country": "ES"}, second]) == [
        {"line1": "Calle Mayor 1", "city": "Madrid", "postcode": "28013", "country": "ES"}
    ]
    assert held_address([]) == []


def test_a_date_field_holds_the_birth_date_and_a_birthday_field_its_month_and_day() -> None:
    customer = Customer(emails=["a@example.com"], birth_date=date(1990, 4, 2))
    dated = {"DOB": "birth_date", "BIRTHDAY": "birthday"}
    body = customer_to_member(customer, dated, without_consent="transactional")
    assert body["merge_fields"] == {"DOB": "1990-04-02", "BIRTHDAY": "04/02"}
    _, read = member_to_customer(
        {**MEMBER, "merge_fields": body["merge_fields"]}, "newsletter", dated
    )
    assert read["birth_date"] == "1990-04-02"
    assert read["attributes"]["birthday"] == "04/02", "no year: not a birth date"


def test_the_held_view_is_what_reads_back_attributes_and_birthday_included() -> None:
    mailchimp = MailchimpConnector(
        MailchimpConfig(list_id="l", api_key=SecretStr("k-us1")), connection="newsletter"
    )
    hub = {
        "birth_date": "1990-04-02",
        "attributes": {"amount_spent": "10.00", "mailchimp_vip": True},
        "consents": {
            "email": {"status": "subscribed", "recorded_at": "2024-05-01T09:30:00Z"},
            "sms": {"status": "subscribed"},
        },
    }
    assert mailchimp.held_view("customers", hub) == {
        "attributes": {"mailchimp_vip": True, "birthday": "04/02"},
        "consents": {"email": hub["consents"]["email"]},
    }
    _, read = member_to_customer(
        {**MEMBER, "status": "transactional", "vip": True, "merge_fields": {"BIRTHDAY": "04/02"}},
        "newsletter",
        DEFAULT_MERGE_FIELDS,
    )
    assert mailchimp.held_view("customers", read)["attributes"] == {
        "mailchimp_vip": True,
        "birthday": "04/02",
    }
