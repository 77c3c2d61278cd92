"""openCRX contacts and their addresses <-> canonical customers: pure functions.

In the account1 model a Contact holds the person (names, birthdate, the
``doNotEMail`` flag) and its addresses are objects of their own under it:
``EMailAddress`` (``emailAddress``), ``PhoneNumber`` (``phoneNumberFull``) and
``PostalAddress`` (``postalStreet`` lines, ``postalCity``, ``postalCode``,
``postalState``, ``postalCountry`` as the ISO 3166 numeric code). The
connector reads a contact with its addresses as one record:
``{"id": account id, "contact": {...}, "addresses": [...]}``.

Activities (``org.opencrx.kernel.activity1``) become interactions on their
``reportingContact``: an Incident is a ticket, a PhoneCall a call, an EMail an
e-mail event, the rest notes; ``activityState`` 0/10/20/30 reads as open, in
progress, closed, cancelled.

``doNotEMail`` is the only e-mail consent openCRX keeps: true reads as
unsubscribed, false as subscribed (the engine never subscribes anyone on an
initial sync); a pending or unknown consent leaves it as it is. Times are UTC
with milliseconds and a ``Z``; a birthdate is a date-time at midnight UTC.
"""

from __future__ import annotations

from typing import Any

import pycountry

from hub.model import Channel, ConsentStatus, Customer

__all__ = [
    "EMAIL",
    "HELD_FIELDS",
    "OpenCrxRecord",
    "activity_to_interaction",
    "contact_to_customer",
    "customer_to_contact",
    "customer_to_email",
]

OpenCrxRecord = dict[str, Any]

CONTACT = "org.opencrx.kernel.account1.Contact"
EMAIL = "org.opencrx.kernel.account1.EMailAddress"
PHONE = "org.opencrx.kernel.account1.PhoneNumber"
POSTAL = "org.opencrx.kernel.account1.PostalAddress"

HELD_FIELDS = frozenset({"first_name", "last_name", "emails", "birth_date", "consents"})
"""Canonical fields the hub writes back: the person and its main e-mail address."""


def contact_to_customer(record: OpenCrxRecord, source: str) -> tuple[str, dict[str, Any]]:
    """Return (account id, Customer-shaped dict) from a contact and its addresses."""
    contact, addresses = record.get("contact") or {}, record.get("addresses") or []
    external_id = str(contact.get("@href") or "").rsplit("/", 1)[-1]
    if not external_id:
        raise ValueError("the openCRX contact has no @href")
    by_type = {kind: _ordered(addresses, kind) for kind in (EMAIL, PHONE, POSTAL)}
    opt_out = contact.get("doNotEMail")
    emails = [a["emailAddress"] for a in by_type[EMAIL] if a.get("emailAddress")]
    data: dict[str, Any] = {
        "first_name": contact.get("firstName"),
        "last_name": contact.get("lastName"),
        "emails": emails,
        "phones": [a["phoneNumberFull"] for a in by_type[PHONE] if a.get("phoneNumberFull")],
        "addresses": [p for p in (_postal(a) for a in by_type[POSTAL]) if p],
        "birth_date": (contact.get("birthdate") or "")[:10] or None,
        "consents": {
            "email": {"status": "unsubscribed" if opt_out else "subscribed", "source": source}
        }
        if isinstance(opt_out, bool) and emails
        else {},
        "created_at": contact.get("createdAt"),
        "updated_at": contact.get("modifiedAt"),
    }
    return external_id, {k: v for k, v in data.items() if v not in (None, "", [], {})}


def customer_to_contact(customer: Customer) -> OpenCrxRecord:
    """The Contact attributes to send; its addresses are written apart."""
    consent = customer.consents.get(Channel.EMAIL)
    flag = {ConsentStatus.UNSUBSCRIBED: True, ConsentStatus.SUBSCRIBED: False}.get(
        consent.status if consent else ConsentStatus.NOT_SUBSCRIBED
    )
    contact: OpenCrxRecord = {
        "@type": CONTACT,
        "firstName": customer.first_name,
        "lastName": customer.last_name or "",
        "birthdate": f"{customer.birth_date.isoformat()}T00:00:00.000Z"
        if customer.birth_date
        else None,
    }
    if flag is not None:
        contact["doNotEMail"] = flag
    return contact


def customer_to_email(customer: Customer) -> OpenCrxRecord | None:
    """The main EMailAddress object for the customer's first e-mail, if any."""
    if not customer.emails:
        return None
    return {"@type": EMAIL, "emailAddress": customer.emails[0], "isMain": True}


_KINDS = {
    "org.opencrx.kernel.activity1.Incident": "ticket",
    "org.opencrx.kernel.activity1.PhoneCall": "call",
    "org.opencrx.kernel.activity1.EMail": "email_event",
    "org.opencrx.kernel.activity1.Meeting": "note",
    "org.opencrx.kernel.activity1.Task": "note",
}
_STATES = {0: "open", 10: "in progress", 20: "closed", 30: "cancelled"}


def activity_to_interaction(activity: OpenCrxRecord, source: str) -> tuple[str, dict[str, Any]]:
    """Return (activity id, Interaction-shaped dict); incidents are tickets, calls calls."""
    external_id = str(activity.get("@href") or "").rsplit("/", 1)[-1]
    if not external_id:
        raise ValueError("the openCRX activity has no @href")
    contact = str((activity.get("reportingContact") or {}).get("@href") or "")
    data: dict[str, Any] = {
        "kind": _KINDS.get(str(activity.get("@type")), "note"),
        "occurred_at": activity.get("scheduledStart") or activity.get("createdAt"),
        "customer_ref": contact.rsplit("/", 1)[-1] or None,
        "subject": activity.get("name") or None,
        "status": _STATES.get(int(activity.get("activityState") or 0)),
        "details": {"activity_number": activity["activityNumber"]}
        if activity.get("activityNumber")
        else {},
        "updated_at": activity.get("modifiedAt"),
    }
    return external_id, {k: v for k, v in data.items() if v is not None}


def _ordered(addresses: list[OpenCrxRecord], kind: str) -> list[OpenCrxRecord]:
    """Addresses of one type, the main one first."""
    return sorted(
        (a for a in addresses if a.get("@type") == kind), key=lambda a: not a.get("isMain")
    )


def _postal(address: OpenCrxRecord) -> dict[str, Any] | None:
    street = [line for line in address.get("postalStreet") or [] if line]
    country = address.get("postalCountry")
    known = pycountry.countries.get(numeric=f"{int(country):03d}") if country else None
    postal = {
        "line1": street[0] if street else None,
        "line2": ", ".join(street[1:]) or None,
        "city": address.get("postalCity"),
        "region": address.get("postalState"),
        "postcode": address.get("postalCode"),
        "country": known.alpha_2 if known else (str(country) if country else None),
    }
    kept = {k: v for k, v in postal.items() if v}
    return kept or None
