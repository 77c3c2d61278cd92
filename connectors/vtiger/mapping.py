"""vTiger records <-> canonical records: pure functions, easy to table-test.

A Contact holds two e-mails (``email``, ``secondaryemail``), four phones, a
mailing and an other address, a birthday and ``emailoptout``. A HelpDesk
ticket becomes an interaction on its contact (``contact_id``).

A Lead is a person not yet won, with the fields of a Lead (``phone``,
``mobile``, ``lane``/``city``/``state``/``code``/``country``): the customer's
``attributes.lifecycle`` says ``lead`` and its ``acquisition`` comes from
``leadsource`` and ``createdtime``. An Account is the organisation: its
``accountname`` is the ``attributes.company`` of the contacts linked to it
(``account_id``); the connector adds it to each contact as ``accountname``,
since vTiger serves only the reference. A lead's ``company`` is the same.

Quirks kept here:

- Every value is a string: flags are ``"0"``/``"1"``, empty fields ``""``,
  references ``"<module>x<record>"`` ids (``"12x34"``).
- ``emailoptout`` is the only e-mail consent vTiger keeps. Its own mailings
  skip opted-out contacts and reach the others, so ``"0"`` reads as subscribed
  and ``"1"`` as unsubscribed; the engine's rule that an initial sync never
  subscribes anyone still applies. A pending or unknown consent sends no flag.
- Times are the database's, UTC, as ``2024-05-01 10:20:30``.
- Countries are free text; the hub writes the English name and reads names or
  codes.
"""

from __future__ import annotations

from typing import Any

import pycountry

from hub.model import Address, Channel, ConsentStatus, Customer

__all__ = [
    "HELD_FIELDS",
    "VtigerRecord",
    "contact_to_customer",
    "customer_to_contact",
    "lead_to_customer",
    "ticket_to_interaction",
    "utc",
]

VtigerRecord = dict[str, Any]

_EMAILS = ("email", "secondaryemail")
_PHONES = ("mobile", "phone", "homephone", "otherphone")
_ADDRESSES = (
    ("mailingstreet", "mailingcity", "mailingstate", "mailingzip", "mailingcountry"),
    ("otherstreet", "othercity", "otherstate", "otherzip", "othercountry"),
)
_LEAD_PHONES = ("mobile", "phone")
_LEAD_ADDRESS = ("lane", "city", "state", "code", "country")
_PARTS = ("line1", "city", "region", "postcode", "country")
_TICKET_DETAILS = (
    "ticket_no",
    "ticketpriorities",
    "ticketseverities",
    "ticketcategories",
    "parent_id",
)

HELD_FIELDS = frozenset(
    {"first_name", "last_name", "emails", "phones", "addresses", "birth_date", "consents"}
)
"""Canonical fields a contact keeps: two e-mails, four phones, two addresses."""


def utc(stamp: object) -> str | None:
    """``2024-05-01 10:20:30`` (UTC) as ISO 8601 with its zone; anything else is absent."""
    if not isinstance(stamp, str) or not stamp.strip():
        return None
    return stamp.strip().replace(" ", "T") + "+00:00"


def contact_to_customer(contact: VtigerRecord, source: str) -> tuple[str, dict[str, Any]]:
    """Return (record id, Customer-shaped dict); the caller validates it."""
    external_id = str(contact.get("id") or "")
    if not external_id:
        raise ValueError("the vTiger record has no id")
    data: dict[str, Any] = {
        "first_name": contact.get("firstname"),
        "last_name": contact.get("lastname"),
        "emails": [contact[key] for key in _EMAILS if contact.get(key)],
        "phones": [contact[key] for key in _PHONES if contact.get(key)],
        "addresses": [a for a in (_address(contact, keys) for keys in _ADDRESSES) if a],
        "birth_date": contact.get("birthday"),
        "consents": _consents(contact, source),
        "attributes": {"company": contact["accountname"]} if contact.get("accountname") else {},
        "created_at": utc(contact.get("createdtime")),
        "updated_at": utc(contact.get("modifiedtime")),
    }
    return external_id, {k: v for k, v in data.items() if v not in (None, "", [], {})}


def lead_to_customer(lead: VtigerRecord, source: str) -> tuple[str, dict[str, Any]]:
    """Return (record id, Customer-shaped dict) for a Lead: a person at the lead stage."""
    external_id = str(lead.get("id") or "")
    if not external_id:
        raise ValueError("the vTiger record has no id")
    acquisition = {
        "source": source,
        "channel": "_".join(str(lead.get("leadsource") or "").lower().split()) or None,
        "acquired_at": utc(lead.get("createdtime")),
    }
    attributes = {"lifecycle": "lead"} | (
        {"company": lead["company"]} if lead.get("company") else {}
    )
    data: dict[str, Any] = {
        "first_name": lead.get("firstname"),
        "last_name": lead.get("lastname"),
        "emails": [lead[key] for key in _EMAILS if lead.get(key)],
        "phones": [lead[key] for key in _LEAD_PHONES if lead.get(key)],
        "addresses": [a for a in [_address(lead, _LEAD_ADDRESS)] if a],
        "consents": _consents(lead, source),
        "attributes": attributes,
        "acquisition": {k: v for k, v in acquisition.items() if v},
        "created_at": utc(lead.get("createdtime")),
        "updated_at": utc(lead.get("modifiedtime")),
    }
    return external_id, {k: v for k, v in data.items() if v not in (None, "", [], {})}


def _consents(person: VtigerRecord, source: str) -> dict[str, Any]:
    opt_out = person.get("emailoptout")
    if opt_out not in ("0", "1") or not person.get("email"):
        return {}
    status = "unsubscribed" if opt_out == "1" else "subscribed"
    return {"email": {"status": status, "source": source}}


def customer_to_contact(customer: Customer) -> VtigerRecord:
    """The fields to send with create or revise; what the customer lacks is sent empty."""
    consent = customer.consents.get(Channel.EMAIL)
    flag = {ConsentStatus.UNSUBSCRIBED: "1", ConsentStatus.SUBSCRIBED: "0"}.get(
        consent.status if consent else ConsentStatus.NOT_SUBSCRIBED
    )
    contact: VtigerRecord = {
        "firstname": customer.first_name or "",
        "lastname": customer.last_name or "",
        "birthday": customer.birth_date.isoformat() if customer.birth_date else "",
    }
    contact |= {key: "" for key in (*_EMAILS, *_PHONES)}
    contact |= dict(zip(_EMAILS, customer.emails, strict=False))
    contact |= dict(zip(_PHONES, customer.phones, strict=False))
    for number, keys in enumerate(_ADDRESSES):
        address = customer.addresses[number] if number < len(customer.addresses) else None
        contact |= dict(zip(keys, _parts(address), strict=True))
    if flag is not None:
        contact["emailoptout"] = flag
    return contact


def ticket_to_interaction(ticket: VtigerRecord, source: str) -> tuple[str, dict[str, Any]]:
    """Return (ticket id, Interaction-shaped dict): a ticket on its contact."""
    external_id = str(ticket.get("id") or "")
    if not external_id:
        raise ValueError("the vTiger ticket has no id")
    data: dict[str, Any] = {
        "kind": "ticket",
        "occurred_at": utc(ticket.get("createdtime")),
        "customer_ref": ticket.get("contact_id") or None,
        "subject": ticket.get("ticket_title") or None,
        "status": ticket.get("ticketstatus") or None,
        "details": {key: ticket[key] for key in _TICKET_DETAILS if ticket.get(key)},
        "updated_at": utc(ticket.get("modifiedtime")),
    }
    return external_id, {k: v for k, v in data.items() if v is not None}


def _address(contact: VtigerRecord, keys: tuple[str, ...]) -> dict[str, Any] | None:
    kept = {part: contact[key] for part, key in zip(_PARTS, keys, strict=True) if contact.get(key)}
    return kept or None


def _parts(address: Address | None) -> list[str]:
    if address is None:
        return [""] * len(_PARTS)
    country = pycountry.countries.get(alpha_2=address.country) if address.country else None
    street = ", ".join(line for line in (address.line1, address.line2) if line)
    return [
        street,
        address.city or "",
        address.region or "",
        address.postcode or "",
        country.name if country else "",
    ]
