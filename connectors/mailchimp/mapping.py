"""Mailchimp members, campaigns and activity <-> canonical records: pure functions.

Consent comes from the member's status, the one thing Mailchimp is the
authority on: ``subscribed`` is an opt-in recorded when the person confirmed
(``timestamp_opt``); ``unsubscribed`` and ``cleaned`` (bounced) are opt-outs;
``pending`` waits for the person's confirmation and ``transactional`` means
known, but never asked: neither is consent. The API gives no time for an
opt-out, and ``last_changed`` moves with every edit (our own pushes too), so
an opt-out read from the API is undated: the engine never lets an undated
opt-out be beaten, which is Mailchimp's own rule (only the person can
subscribe again, and then the status says so). A webhook's unsubscribe
carries its ``fired_at``, passed as ``unsubscribed_at``.
GDPR marketing permissions named "Direct Mail" and "Customized Online
Advertising" become the post and advertising channels.

Merge fields are the audience's own columns; which canonical field each holds
is the connection's ``merge_fields`` setting. Mailchimp writes unset merge
fields as empty strings, which read as absent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from hub.model import Address, Channel, ConsentStatus, Customer

__all__ = [
    "Member",
    "activity_id",
    "campaign_to_canonical",
    "customer_to_member",
    "held_address",
    "held_attributes",
    "held_fields",
    "interaction_to_canonical",
    "mailchimp_time",
    "member_to_customer",
    "subscriber_hash",
    "tag_changes",
]

Member = dict[str, Any]

OPTED_OUT = frozenset({"unsubscribed", "cleaned"})
VIP, BIRTHDAY = "mailchimp_vip", "birthday"  # attribute names
_PERMISSIONS = {"direct mail": Channel.POST, "customized online advertising": Channel.ADVERTISING}
_ADDRESS = {"addr1": "line1", "addr2": "line2", "city": "city", "state": "region"}
_ADDRESS |= {"zip": "postcode", "country": "country"}
_RECOMMENDATION = "recommendations."  # merge targets of the hub's derived recommendations


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: the MD5 of the lower-cased e-mail address."""
    return hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()


def mailchimp_time(moment: datetime) -> str:
    """ISO 8601 in UTC, to the second, with ``+00:00``: how Mailchimp writes times."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def held_address(addresses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The one address an ADDRESS merge field keeps, as it reads back: the first, and only
    the parts the merge field has (no company, no kind)."""
    if not addresses:
        return []
    held = set(_ADDRESS.values())
    return [{key: value for key, value in addresses[0].items() if key in held and value}]


def held_fields(merge_fields: Mapping[str, str]) -> frozenset[str]:
    """Canonical fields a member keeps with these merge fields (VIP is an attribute).

    A birthday-type field is written from ``birth_date`` and read back as the
    attribute ``birthday``: both are held, and :func:`held_attributes` says
    how the one becomes the other.
    """
    renamed = {"phone": "phones", "address": "addresses", "birthday": "birth_date"}
    mapped = {
        renamed.get(target, target)
        for target in merge_fields.values()
        if not target.startswith("attribute:")
    }
    return frozenset({"emails", "consents", "tags", "language", "attributes", *mapped})


def held_attributes(data: Mapping[str, Any], merge_fields: Mapping[str, str]) -> dict[str, Any]:
    """The attributes a member holds: those mapped to merge fields, the VIP flag, and the
    birthday (``MM/DD``) of a birthday-type field, from the birth date when there is one."""
    names = {
        t.removeprefix("attribute:") for t in merge_fields.values() if t.startswith("attribute:")
    }
    held = {k: v for k, v in (data.get("attributes") or {}).items() if k in names | {VIP}}
    if "birthday" in merge_fields.values():
        born = data.get("birth_date")
        birthday = _month_day(born) if born else (data.get("attributes") or {}).get(BIRTHDAY)
        if birthday:
            held[BIRTHDAY] = birthday
    return held


def _month_day(born: Any) -> str:
    """``MM/DD`` of a date or ISO date string: what a birthday merge field holds."""
    text = born.isoformat() if isinstance(born, date) else str(born)
    return f"{text[5:7]}/{text[8:10]}"


def member_to_customer(
    member: Member, source: str, merge_fields: Mapping[str, str]
) -> tuple[str, dict[str, Any]]:
    """Return (member id, Customer-shaped dict); the caller validates it."""
    external_id = str(member.get("id") or "")
    if not external_id:
        raise ValueError("the member has no id")
    email = member.get("email_address")
    if not email:
        raise ValueError(f"member {external_id} has no email_address")
    data: dict[str, Any] = {"emails": [email]}
    values = member.get("merge_fields") or {}
    for tag, target in merge_fields.items():
        _read_merge_field(data, target, values.get(tag))
    consents = _consents(member, source)
    data |= {
        "language": (member.get("language") or "").replace("_", "-") or None,
        "consents": consents,
        "tags": [tag["name"] for tag in member.get("tags") or [] if tag.get("name")],
        "created_at": member.get("timestamp_signup") or member.get("timestamp_opt") or None,
        "updated_at": member.get("last_changed") or None,
    }
    if member.get("vip"):
        data.setdefault("attributes", {})[VIP] = True
    return external_id, {k: v for k, v in data.items() if v not in (None, "", [], {})}


def _read_merge_field(data: dict[str, Any], target: str, value: Any) -> None:
    if value in (None, ""):
        return
    if target == "address":
        if isinstance(value, dict) and value.get("addr1"):
            data["addresses"] = [{t: value[k] for k, t in _ADDRESS.items() if value.get(k)}]
    elif target == "phone":
        data["phones"] = [value]
    elif target == "birthday":
        data.setdefault("attributes", {})[BIRTHDAY] = value
    elif target.startswith("attribute:"):
        data.setdefault("attributes", {})[target.removeprefix("attribute:")] = value
    elif target.startswith(_RECOMMENDATION):
        data.setdefault("recommendations", {})[target.removeprefix(_RECOMMENDATION)] = value
    else:
        data[target] = value


def _consents(member: Member, source: str) -> dict[str, dict[str, Any]]:
    status = member.get("status")
    consents: dict[str, dict[str, Any]] = {}
    if status == "subscribed":
        when = member.get("timestamp_opt") or member.get("last_changed") or None
        consents["email"] = {"status": "subscribed", "source": source, "recorded_at": when}
    elif status in OPTED_OUT:
        when = member.get("unsubscribed_at") or None  # webhooks know it; the API does not
        consents["email"] = {"status": "unsubscribed", "source": source, "recorded_at": when}
    elif status == "pending":
        when = member.get("timestamp_signup") or None  # when the confirmation was asked for
        consents["email"] = {"status": "pending", "source": source, "recorded_at": when}
    elif status == "transactional":
        consents["email"] = {"status": "not_subscribed", "source": source}
    for permission in member.get("marketing_permissions") or []:
        channel = _PERMISSIONS.get(str(permission.get("text", "")).strip().lower())
        if channel is not None:
            state = "subscribed" if permission.get("enabled") else "unsubscribed"
            consents[channel.value] = {"status": state, "source": source}
    return {k: {f: v for f, v in c.items() if v} for k, c in consents.items()}


def customer_to_member(
    customer: Customer, merge_fields: Mapping[str, str], *, without_consent: str
) -> Member:
    """The body of the upsert PUT; None as ``status_if_new`` means "do not create".

    An opt-out is sent as ``status`` so it applies to an existing member too.
    An opt-in only reaches ``status_if_new`` and only with its recorded time,
    sent as ``timestamp_opt``: a member Mailchimp holds as unsubscribed or
    cleaned keeps that status, whatever the hub believes. Anyone else is new
    as a transactional contact (or not at all, per ``without_consent``).
    """
    email = customer.primary_email
    if not email:
        raise ValueError("a member needs an e-mail address")
    consent = customer.consents.get(Channel.EMAIL)
    body: Member = {
        "email_address": email,
        "merge_fields": {
            tag: _merge_value(customer, target) for tag, target in merge_fields.items()
        },
        "language": (customer.language or "").replace("-", "_"),
    }
    if consent is not None and consent.status is ConsentStatus.UNSUBSCRIBED:
        body |= {"status": "unsubscribed", "status_if_new": "unsubscribed"}
    elif consent is not None and consent.status is ConsentStatus.SUBSCRIBED and consent.recorded_at:
        body |= {
            "status_if_new": "subscribed",
            "timestamp_opt": mailchimp_time(consent.recorded_at),
        }
    else:
        body["status_if_new"] = "transactional" if without_consent == "transactional" else None
    return body


def _merge_value(customer: Customer, target: str) -> Any:
    if target == "address":
        return _address(customer.addresses[0]) if customer.addresses else ""
    if target == "phone":
        return customer.phones[0] if customer.phones else ""
    if target == "birth_date":
        return customer.birth_date.isoformat() if customer.birth_date else ""
    if target == "birthday":
        if customer.birth_date:
            return _month_day(customer.birth_date)
        return customer.attributes.get(BIRTHDAY) or ""
    if target.startswith("attribute:"):
        value = customer.attributes.get(target.removeprefix("attribute:"))
        return "" if value is None else value
    if target.startswith(_RECOMMENDATION):
        held = customer.recommendations
        return (getattr(held, target.removeprefix(_RECOMMENDATION)) if held else None) or ""
    return getattr(customer, target) or ""


def _address(address: Address) -> dict[str, str]:
    return {key: getattr(address, target) or "" for key, target in _ADDRESS.items()}


def tag_changes(wanted: list[str], held: list[str]) -> list[dict[str, str]]:
    """The tags body that makes a member's tags ``wanted``: add the missing, drop the rest."""
    add = [{"name": name, "status": "active"} for name in wanted if name not in held]
    drop = [{"name": name, "status": "inactive"} for name in held if name not in wanted]
    return add + drop


def campaign_to_canonical(campaign: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A campaign with its ``report`` (the connector attaches it) as a Campaign dict."""
    external_id = str(campaign.get("id") or "")
    if not external_id:
        raise ValueError("the campaign has no id")
    settings, report = campaign.get("settings") or {}, campaign.get("report") or {}
    bounces = report.get("bounces") or {}
    data = {
        "name": settings.get("title") or settings.get("subject_line") or external_id,
        "channel": "email",
        "status": campaign.get("status"),
        "sent_at": campaign.get("send_time") or None,
        "sends": report.get("emails_sent", campaign.get("emails_sent")),
        "opens": (report.get("opens") or {}).get("unique_opens"),
        "clicks": (report.get("clicks") or {}).get("unique_clicks"),
        "unsubscribes": report.get("unsubscribed"),
        "bounces": sum(bounces.get(k) or 0 for k in ("hard_bounces", "soft_bounces"))
        if bounces
        else None,
    }
    return external_id, {k: v for k, v in data.items() if v not in (None, "")}


def activity_id(event: dict[str, Any]) -> str:
    """One open or click of one member in one campaign: Mailchimp gives events no id."""
    parts = (event.get("campaign_id"), event.get("email_id"), event.get("action"))
    return ":".join(str(p or "") for p in (*parts, event.get("timestamp")))


def interaction_to_canonical(event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A flattened e-mail activity event (as Airbyte records them) as an Interaction dict."""
    if not event.get("timestamp") or not event.get("action"):
        raise ValueError("the e-mail activity event has no action or timestamp")
    data = {
        "kind": "email_event",
        "occurred_at": event["timestamp"],
        "customer_ref": event.get("email_id"),
        "customer_email": event.get("email_address"),
        "channel": "email",
        "subject": event["action"],
        "campaign_ref": event.get("campaign_id"),
        "details": {k: event[k] for k in ("url", "ip", "type") if event.get(k)},
    }
    return activity_id(event), {k: v for k, v in data.items() if v not in (None, "", {})}
