"""Meta leads and insights rows -> canonical records: pure functions, easy to table-test.

A lead is what a person typed into a lead form: ``field_data`` holds one
``{name, values}`` per question, with Meta's standard keys (``email``,
``full_name``, ``phone_number`` ...) or the form's own for custom questions.
Consent comes from the form's custom disclaimer checkboxes
(``custom_disclaimer_responses``) or from a yes/no question, and only from the
keys the connection maps to a channel: a box the person ticked is a recorded
single opt-in at the lead's time; a box left empty is recorded as not
subscribed, never as an opt-in. ``platform`` says where the form was shown
(``fb`` or ``ig``), which is the acquisition channel.

Insights rows carry figures as strings (``"spend": "12.34"``) and leads inside
``actions`` as ``{"action_type": "lead", "value": "3"}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.model import Channel

__all__ = [
    "LEAD_FIELDS",
    "Lead",
    "campaign_of",
    "lead_reference",
    "lead_to_customer",
    "meta_time",
]

Lead = dict[str, Any]

LEAD_FIELDS = (
    "id,created_time,ad_id,ad_name,adset_id,adset_name,campaign_id,campaign_name,"
    "form_id,platform,is_organic,field_data,custom_disclaimer_responses"
)
"""What a lead read asks for; ad and campaign fields need ads_management."""

_PLATFORMS = {"fb": "facebook", "ig": "instagram", "msgr": "messenger", "an": "audience_network"}
_YES = frozenset({"1", "true", "yes", "y", "si", "sí", "oui", "ja", "checked"})
_ADDRESS = {"street_address": "line1", "city": "city", "state": "region", "country": "country"}
_POSTCODE = ("zip_code", "post_code", "zip", "postal_code")
_GENDER = {"female": "female", "f": "female", "male": "male", "m": "male"}
_LEAD_ACTIONS = frozenset({"lead", "onsite_conversion.lead_grouped", "leadgen_grouped"})


def meta_time(value: object) -> datetime:
    """Graph API times: ``2024-05-01T10:00:00+0000`` (no colon in the offset) or epoch seconds."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value), UTC)
    if not isinstance(value, str):
        raise ValueError(f"the time {value!r} is not a Graph API timestamp")
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)


def lead_to_customer(lead: Lead, *, consent_keys: dict[str, Channel]) -> tuple[str, dict[str, Any]]:
    """Return (lead id, Customer-shaped dict); the caller validates it."""
    lead_id = str(lead.get("id") or "")
    if not lead_id:
        raise ValueError("the lead has no id")
    if not isinstance(lead.get("field_data"), list):
        raise ValueError(f"lead {lead_id} has no field_data (read it with fields={LEAD_FIELDS})")
    answers = _answers(lead["field_data"])
    created = meta_time(lead.get("created_time")).isoformat()
    first, last = answers.get("first_name"), answers.get("last_name")
    if not (first or last) and answers.get("full_name"):
        first, _, last = answers["full_name"].partition(" ")
    address = {target: answers[key] for key, target in _ADDRESS.items() if answers.get(key)}
    postcode = next((answers[key] for key in _POSTCODE if answers.get(key)), None)
    if postcode:
        address["postcode"] = postcode
    data: dict[str, Any] = {
        "first_name": first or None,
        "last_name": last or None,
        "emails": [answers["email"]] if answers.get("email") else [],
        "phones": [answers["phone_number"]] if answers.get("phone_number") else [],
        "addresses": [{"kind": "home", **address}] if address else [],
        "birth_date": _birth_date(answers.get("date_of_birth")),
        "gender": _GENDER.get((answers.get("gender") or "").lower()),
        "consents": _consents(lead, answers, consent_keys, created),
        "acquisition": {
            "source": "meta",
            "channel": _PLATFORMS.get(str(lead.get("platform") or "fb"), "facebook"),
            "campaign": lead.get("campaign_name") or lead.get("campaign_id"),
            "acquired_at": created,
        },
        "attributes": {
            f"meta_{key}": str(lead[key])
            for key in ("form_id", "ad_id", "adset_id", "campaign_id")
            if lead.get(key)
        },
        "created_at": created,
        "updated_at": created,
    }
    return lead_id, {key: value for key, value in data.items() if value not in (None, [], {})}


def lead_reference(entry_id: str, value: dict[str, Any]) -> Lead:
    """The lead a ``leadgen`` webhook change announces: ids and time, no answers."""
    lead_id = str(value.get("leadgen_id") or "")
    if not lead_id:
        raise ValueError(f"the leadgen change of page {entry_id} has no leadgen_id")
    reference: Lead = {"id": lead_id, "page_id": str(value.get("page_id") or entry_id)}
    for key, target in (("form_id", "form_id"), ("ad_id", "ad_id"), ("adgroup_id", "adset_id")):
        if value.get(key):
            reference[target] = str(value[key])
    if value.get("created_time") is not None:
        reference["created_time"] = meta_time(value["created_time"]).isoformat()
    return reference


def campaign_of(
    row: dict[str, Any], *, level: str, currency: str | None
) -> tuple[str, dict[str, Any]]:
    """Return (``campaign:<id>`` or ``adset:<id>``, Campaign-shaped dict) for one insights row."""
    object_id = str(row.get(f"{level}_id") or "")
    if not object_id:
        raise ValueError(f"the insights row has no {level}_id")
    name = row.get(f"{level}_name") or object_id
    if level == "adset" and row.get("campaign_name"):
        name = f"{row['campaign_name']} / {name}"
    data: dict[str, Any] = {
        "name": name,
        "channel": "ads",
        "impressions": _count(row, "impressions"),
        "clicks": _count(row, "clicks"),
        "leads": sum(
            _number(action.get("value"))
            for action in row.get("actions") or []
            if action.get("action_type") in _LEAD_ACTIONS
        ),
        "spend": _money(row.get("spend")),
        "currency": currency,
        "sent_at": _date_start(row.get("date_start")),
    }
    return f"{level}:{object_id}", {k: v for k, v in data.items() if v is not None}


def _answers(field_data: list[Any]) -> dict[str, str]:
    answers: dict[str, str] = {}
    for item in field_data:
        if not isinstance(item, dict) or not item.get("name"):
            raise ValueError(f"a field_data entry is not {{name, values}}: {item!r}")
        values = [str(v).strip() for v in item.get("values") or [] if str(v).strip()]
        if values:
            answers[str(item["name"]).lower()] = values[0]
    return answers


def _consents(
    lead: Lead, answers: dict[str, str], keys: dict[str, Channel], recorded_at: str
) -> dict[str, dict[str, str]]:
    ticked = {
        str(box.get("checkbox_key") or "").lower(): str(box.get("is_checked") or "").lower()
        for box in lead.get("custom_disclaimer_responses") or []
        if isinstance(box, dict)
    }
    consents: dict[str, dict[str, str]] = {}
    for key, channel in keys.items():
        said = ticked.get(key.lower(), answers.get(key.lower()))
        if said is None:
            continue
        yes = said.lower() in _YES
        consents[channel.value] = {
            "status": "subscribed" if yes else "not_subscribed",
            "source": f"meta:form:{lead.get('form_id') or 'unknown'}",
            "recorded_at": recorded_at,
            **({"opt_in_level": "single_opt_in"} if yes else {}),
        }
    return consents


def _birth_date(value: str | None) -> str | None:
    """Lead forms give ``MM/DD/YYYY``; ISO dates pass through."""
    if not value:
        return None
    if "/" in value:
        return datetime.strptime(value, "%m/%d/%Y").date().isoformat()
    return value


def _count(row: dict[str, Any], key: str) -> int | None:
    return _number(row[key]) if row.get(key) is not None else None


def _number(value: object) -> int:
    try:
        return int(Decimal(str(value)))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


def _money(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"spend {value!r} is not an amount") from None


def _date_start(value: object) -> str | None:
    return f"{value}T00:00:00+00:00" if isinstance(value, str) and value else None
