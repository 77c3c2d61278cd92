"""Meta payloads -> canonical records, and customers -> Meta's normalised identifiers (tables)."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connectors.meta.audience import hashed_row, normalized_row
from connectors.meta.mapping import campaign_of, lead_to_customer
from hub.model import Address, Campaign, Channel, Customer

CONSENT = {"marketing_email": Channel.EMAIL}
AT = "2024-05-01T10:00:00Z"


def _lead(**extra: Any) -> dict[str, Any]:
    return {
        "id": "900000000000001",
        "created_time": "2024-05-01T10:00:00+0000",
        "form_id": "7001",
        "ad_id": "23841",
        "campaign_id": "23842",
        "campaign_name": "Spring",
        "platform": "ig",
        "field_data": [
            {"name": "email", "values": ["Ann@Example.com"]},
            {"name": "full_name", "values": ["Ann Lee"]},
        ],
        **extra,
    }


LEADS = [
    (
        "an Instagram lead who ticked the marketing box",
        _lead(custom_disclaimer_responses=[{"checkbox_key": "marketing_email", "is_checked": "1"}]),
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "emails": ["ann@example.com"],
            "consents": {
                "email": {
                    "status": "subscribed",
                    "source": "meta:form:7001",
                    "recorded_at": AT,
                    "opt_in_level": "single_opt_in",
                }
            },
            "acquisition": {
                "source": "meta",
                "channel": "instagram",
                "campaign": "Spring",
                "acquired_at": AT,
            },
        },
    ),
    (
        "a box left empty is recorded as not subscribed, never as an opt-in",
        _lead(custom_disclaimer_responses=[{"checkbox_key": "marketing_email", "is_checked": ""}]),
        {
            "consents": {
                "email": {"status": "not_subscribed", "source": "meta:form:7001", "recorded_at": AT}
            }
        },
    ),
    (
        "no consent question: no consent at all",
        _lead(platform="fb", campaign_name=None),
        {
            "acquisition": {
                "source": "meta",
                "channel": "facebook",
                "campaign": "23842",
                "acquired_at": AT,
            }
        },
    ),
    (
        "a yes/no consent question in field_data counts like a box",
        _lead(
            field_data=[
                {"name": "email", "values": ["b@example.com"]},
                {"name": "marketing_email", "values": ["Yes"]},
                {"name": "phone_number", "values": ["+34 612 345 678"]},
                {"name": "city", "values": ["Madrid"]},
                {"name": "zip_code", "values": ["28001"]},
                {"name": "country", "values": ["ES"]},
                {"name": "date_of_birth", "values": ["07/14/1990"]},
            ]
        ),
        {
            "emails": ["b@example.com"],
            "phones": ["+34612345678"],
            "addresses": [{"kind": "home", "city": "Madrid", "postcode": "28001", "country": "ES"}],
            "birth_date": "1990-07-14",
            "consents": {"email": {"status": "subscribed", "opt_in_level": "single_opt_in"}},
        },
    ),
]


@pytest.mark.parametrize(("case", "lead", "expected"), LEADS, ids=[c[0] for c in LEADS])
def test_lead_to_customer(case: str, lead: dict[str, Any], expected: dict[str, Any]) -> None:
    lead_id, data = lead_to_customer(lead, consent_keys=CONSENT)
    customer = Customer.model_validate(data).canonical_dict()
    assert lead_id == "900000000000001"
    for key, value in expected.items():
        if key == "consents" and "source" not in value["email"]:
            assert {k: customer[key]["email"][k] for k in value["email"]} == value["email"]
        else:
            assert customer.get(key, {}) == value, key
    if case.startswith("no consent"):
        assert "consents" not in customer


def test_a_lead_without_field_data_is_refused() -> None:
    with pytest.raises(ValueError, match="no field_data"):
        lead_to_customer({"id": "1", "created_time": "2024-05-01T10:00:00+0000"}, consent_keys={})


INSIGHTS = [
    (
        {
            "campaign_id": "1",
            "campaign_name": "Spring",
            "spend": "31.75",
            "impressions": "6000",
            "clicks": "240",
            "actions": [
                {"action_type": "link_click", "value": "240"},
                {"action_type": "lead", "value": "6"},
            ],
            "date_start": "2024-04-01",
        },
        "campaign",
        (
            "campaign:1",
            Campaign(
                name="Spring",
                channel="ads",
                spend=Decimal("31.75"),
                currency="EUR",
                impressions=6000,
                clicks=240,
                leads=6,
                sent_at="2024-04-01T00:00:00Z",
            ),
        ),
    ),
    (
        {"adset_id": "5", "adset_name": "Women 25-34", "campaign_name": "Spring", "spend": "0"},
        "adset",
        (
            "adset:5",
            Campaign(
                name="Spring / Women 25-34",
                channel="ads",
                spend=Decimal(0),
                currency="EUR",
                leads=0,
            ),
        ),
    ),
]


@pytest.mark.parametrize(("row", "level", "expected"), INSIGHTS)
def test_insights_row_to_campaign(
    row: dict[str, Any], level: str, expected: tuple[str, Campaign]
) -> None:
    external_id, data = campaign_of(row, level=level, currency="EUR")
    assert (external_id, Campaign.model_validate(data)) == expected


NORMALISED = [
    (
        Customer(
            emails=[" Ann.Lee@Example.COM "],
            phones=["+34 612 34 56 78"],
            first_name="Ánn-Marie",
            last_name="O'Lee",
            addresses=[
                Address(city="San Sebastián", postcode="20 001", country="es", region="Gipuzkoa")
            ],
            birth_date=date(1990, 7, 4),
            gender="female",
        ),
        {
            "EMAIL": "ann.lee@example.com",
            "PHONE": "34612345678",
            "FN": "ánnmarie",
            "LN": "olee",
            "CT": "sansebastian",
            "ST": "gipuzkoa",
            "ZIP": "20001",
            "COUNTRY": "es",
            "DOBY": "1990",
            "DOBM": "07",
            "DOBD": "04",
            "GEN": "f",
        },
    ),
    (
        Customer(
            emails=["b@example.com"], addresses=[Address(postcode="94103-1234", country="US")]
        ),
        {"EMAIL": "b@example.com", "ZIP": "94103", "COUNTRY": "us"},
    ),
]


@pytest.mark.parametrize(("customer", "expected"), NORMALISED)
def test_identifiers_are_normalised_per_metas_rules(
    customer: Customer, expected: dict[str, str]
) -> None:
    row = normalized_row(customer)
    assert {k: v for k, v in row.items() if v} == expected
    hashed = hashed_row(customer)
    assert hashed["EMAIL"] == hashlib.sha256(expected["EMAIL"].encode()).hexdigest()
    assert all(hashed[k] == "" for k, v in row.items() if not v)
