"""Sugar records <-> canonical records: pure functions, easy to table-test.

Contacts and Leads are people of the same shape: an ``email`` array (each
address with ``primary_address``, ``opt_out`` and ``invalid_email`` flags), four
phone fields, a primary and an alternate postal address, a birthdate, a
preferred language key and tags. Cases are service tickets and become
interactions on the case's primary contact.

A Lead is a person not yet won: the customer's ``attributes.lifecycle`` says
``lead`` (``contact`` once Sugar converted it) and its ``acquisition`` says
where it came from (``lead_source``, ``campaign_name``, when it was entered).
An Account is the organisation: its name is the ``attributes.company`` of the
contacts linked to it (Sugar serves it on each contact as ``account_name``; a
lead's ``account_name`` is the company it typed in).

Quirks kept here:

- Sugar has no opt-in, only opt-outs per address. Its own campaigns mail every
  address that is not opted out, so the primary address's ``opt_out`` false
  reads as subscribed and true as unsubscribed (the engine's rule that an
  initial sync never subscribes anyone still applies). Writing an unsubscribe
  opts every address out; a pending or unknown consent sends no flag change.
- Addresses Sugar flags ``invalid_email`` (bounced) are left out: they reach
  nobody and must not link people.
- Countries are free text in Sugar; the hub writes the English country name and
  reads names or codes. Language keys are Sugar's (``es_ES``, ``en_us``).
- ``date_modified`` has whole seconds and a UTC offset.
"""

from __future__ import annotations

from typing import Any

import pycountry

from hub.model import Address, Channel, ConsentStatus, Customer

__all__ = [
    "HELD_FIELDS",
    "PHONE_FIELDS",
    "SugarRecord",
    "case_to_interaction",
    "customer_to_person",
    "lead_to_customer",
    "person_to_customer",
]

SugarRecord = dict[str, Any]

PHONE_FIELDS = ("phone_mobile", "phone_work", "phone_home", "phone_other")
_ADDRESS_KEYS = ("primary_address", "alt_address")
_LANGUAGES = {
    "en_us": "en",
    "es_ES": "es",
    "de_DE": "de",
    "fr_FR": "fr",
    "it_it": "it",
    "pt_PT": "pt",
    "nl_NL": "nl",
}
_SUGAR_LANGUAGE = {tag: key for key, tag in _LANGUAGES.items()}
_LIFECYCLE = {False: "lead", True: "contact"}

HELD_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "emails",
        "phones",
        "addresses",
        "birth_date",
        "language",
        "consents",
        "tags",
    }
)
"""Canonical fields a contact keeps: up to four phones and two postal addresses."""


def person_to_customer(person: SugarRecord, source: str) -> tuple[str, dict[str, Any]]:
    """Return (record id, Customer-shaped dict) for a Contact or Lead; the caller validates."""
    external_id = str(person.get("id") or "")
    if not external_id:
        raise ValueError("the Sugar record has no id")
    entries = [e for e in person.get("email") or [] if not e.get("invalid_email")]
    entries.sort(key=lambda e: not e.get("primary_address"))
    primary_opt_out = entries[0].get("opt_out") if entries else None
    data: dict[str, Any] = {
        "first_name": person.get("first_name"),
        "last_name": person.get("last_name"),
        "emails": [e["email_address"] for e in entries if e.get("email_address")],
        "phones": [person[key] for key in PHONE_FIELDS if person.get(key)],
        "addresses": [a for a in (_address(person, key) for key in _ADDRESS_KEYS) if a],
        "birth_date": person.get("birthdate"),
        "language": _language(person.get("preferred_language")),
        "consents": {
            "email": {
                "status": "unsubscribed" if primary_opt_out else "subscribed",
                "source": source,
            }
        }
        if primary_opt_out is not None
        else {},
        "tags": [tag["name"] for tag in person.get("tag") or [] if tag.get("name")],
        "attributes": {"company": person["account_name"]} if person.get("account_name") else {},
        "created_at": person.get("date_entered"),
        "updated_at": person.get("date_modified"),
    }
    return external_id, {k: v for k, v in data.items() if v not in (None, "", [], {})}


def lead_to_customer(lead: SugarRecord, source: str) -> tuple[str, dict[str, Any]]:
    """A Lead as a person (:func:`person_to_customer`) marked as a lead, with its acquisition."""
    external_id, data = person_to_customer(lead, source)
    converted = lead.get("converted") in (True, 1, "1") or lead.get("status") == "Converted"
    data["attributes"] = {**data.get("attributes", {}), "lifecycle": _LIFECYCLE[converted]}
    acquisition = {
        "source": source,
        "channel": _channel(lead.get("lead_source")),
        "campaign": lead.get("campaign_name") or None,
        "acquired_at": lead.get("date_entered") or None,
    }
    data["acquisition"] = {k: v for k, v in acquisition.items() if v}
    return external_id, data


def customer_to_person(customer: Customer) -> SugarRecord:
    """The Contact fields to send; what the customer lacks is sent empty, which clears it."""
    consent = customer.consents.get(Channel.EMAIL)
    opt_out = {ConsentStatus.UNSUBSCRIBED: True, ConsentStatus.SUBSCRIBED: False}.get(
        consent.status if consent else ConsentStatus.NOT_SUBSCRIBED
    )
    record: SugarRecord = {
        "first_name": customer.first_name or "",
        "last_name": customer.last_name or "",
        "email": [
            {"email_address": email, "primary_address": number == 0}
            | ({} if opt_out is None else {"opt_out": opt_out})
            for number, email in enumerate(customer.emails)
        ],
        "birthdate": customer.birth_date.isoformat() if customer.birth_date else "",
        "preferred_language": _SUGAR_LANGUAGE.get(customer.language or "", customer.language) or "",
        "tag": [{"name": tag} for tag in customer.tags],
    }
    record |= {key: "" for key in PHONE_FIELDS}
    record |= dict(zip(PHONE_FIELDS, customer.phones, strict=False))
    for number, key in enumerate(_ADDRESS_KEYS):
        address = customer.addresses[number] if number < len(customer.addresses) else None
        record |= _sugar_address(key, address)
    return record


def case_to_interaction(case: SugarRecord, source: str) -> tuple[str, dict[str, Any]]:
    """Return (case id, Interaction-shaped dict): a ticket on the case's primary contact."""
    external_id = str(case.get("id") or "")
    if not external_id:
        raise ValueError("the Sugar case has no id")
    details = {
        key: case[key]
        for key in ("case_number", "priority", "type", "account_id", "resolution")
        if case.get(key) not in (None, "")
    }
    data: dict[str, Any] = {
        "kind": "ticket",
        "occurred_at": case.get("date_entered") or None,
        "customer_ref": case.get("primary_contact_id") or None,
        "channel": (case.get("source") or "").lower() or None,
        "subject": case.get("name") or None,
        "status": case.get("status") or None,
        "details": details,
        "updated_at": case.get("date_modified"),
    }
    return external_id, {k: v for k, v in data.items() if v is not None}


def _address(person: SugarRecord, key: str) -> dict[str, Any] | None:
    street = (person.get(f"{key}_street") or "").split("\n", 1)
    address = {
        "line1": street[0],
        "line2": street[1] if len(street) > 1 else None,
        "city": person.get(f"{key}_city"),
        "region": person.get(f"{key}_state"),
        "postcode": person.get(f"{key}_postalcode"),
        "country": person.get(f"{key}_country"),
    }
    kept = {k: v for k, v in address.items() if v}
    return kept or None


def _sugar_address(key: str, address: Address | None) -> SugarRecord:
    lines = [address.line1, address.line2] if address else []
    country = (
        pycountry.countries.get(alpha_2=address.country) if address and address.country else None
    )
    return {
        f"{key}_street": "\n".join(line for line in lines if line),
        f"{key}_city": (address.city if address else None) or "",
        f"{key}_state": (address.region if address else None) or "",
        f"{key}_postalcode": (address.postcode if address else None) or "",
        f"{key}_country": country.name if country else "",
    }


def _channel(lead_source: object) -> str | None:
    """Sugar's lead source key (``Web Site``, ``Cold Call``) as a channel: ``web_site``."""
    if not isinstance(lead_source, str) or not lead_source.strip():
        return None
    return "_".join(lead_source.lower().split())


def _language(key: object) -> str | None:
    if not isinstance(key, str) or not key:
        return None
    return _LANGUAGES.get(key, key)
