"""Example contacts <-> canonical customers: pure functions, easy to table-test.

A contact holds one e-mail, one phone and one postal address, a birthday, a
language, a marketing opt-in flag and tags; those are the fields that make the
round trip. Timestamps are UTC with a ``Z``, which the canonical model reads as
they are. The opt-in flag knows only yes and no, so a pending or never-asked
consent is written as unknown (null) rather than as a refusal.
"""

from __future__ import annotations

from typing import Any

from hub.model import Address, Channel, ConsentStatus, Customer

__all__ = ["HELD_FIELDS", "Contact", "contact_to_customer", "customer_to_contact"]

Contact = dict[str, Any]

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
"""Canonical fields a contact keeps (the first e-mail, phone and address of each list)."""

_ADDRESS = {"street": "line1", "city": "city", "postal_code": "postcode", "country": "country"}
_OPT_IN = {ConsentStatus.SUBSCRIBED: True, ConsentStatus.UNSUBSCRIBED: False}


def contact_to_customer(contact: Contact, source: str) -> tuple[str, dict[str, Any]]:
    """Return (contact id, Customer-shaped dict); the caller validates it."""
    external_id = str(contact.get("id") or "")
    if not external_id:
        raise ValueError("the contact has no id")
    address = contact.get("address") or {}
    opt_in = contact.get("marketing_opt_in")
    data: dict[str, Any] = {
        "first_name": contact.get("first_name"),
        "last_name": contact.get("last_name"),
        "emails": [contact["email"]] if contact.get("email") else [],
        "phones": [contact["phone"]] if contact.get("phone") else [],
        "addresses": [
            {target: address[key] for key, target in _ADDRESS.items() if address.get(key)}
        ]
        if any(address.get(key) for key in _ADDRESS)
        else [],
        "birth_date": contact.get("birthday"),
        "language": contact.get("language"),
        "consents": {
            "email": {"status": "subscribed" if opt_in else "unsubscribed", "source": source}
        }
        if opt_in is not None
        else {},
        "tags": contact.get("tags") or [],
        "created_at": contact.get("created_at"),
        "updated_at": contact.get("updated_at"),
    }
    return external_id, {
        key: value for key, value in data.items() if value not in (None, "", [], {})
    }


def customer_to_contact(customer: Customer) -> Contact:
    """The contact body to send; fields the customer lacks are sent as null."""
    consent = customer.consents.get(Channel.EMAIL)
    return {
        "email": customer.primary_email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone": customer.phones[0] if customer.phones else None,
        "birthday": customer.birth_date.isoformat() if customer.birth_date else None,
        "language": customer.language,
        "address": _address(customer.addresses[0]) if customer.addresses else None,
        "marketing_opt_in": _OPT_IN.get(consent.status) if consent else None,
        "tags": list(customer.tags),
    }


def _address(address: Address) -> dict[str, str | None]:
    return {key: getattr(address, target) for key, target in _ADDRESS.items()}
