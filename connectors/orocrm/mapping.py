"""Oro contacts (JSON:API resources) <-> canonical customers: pure functions.

A contact's e-mails and phones are attributes in Oro's API (collections of
``{"email": ...}`` and ``{"phone": ...}`` objects beside ``primaryEmail`` and
``primaryPhone``), while its addresses are ``contactaddresses`` resources the
connector asks to have included. The connector hands each contact over with
the resources included for it under ``included``, so a contact is one record.

The hub writes the attributes it owns and nothing else: a PATCH in JSON:API
changes only what the document names, so Oro's other fields stay as they are.
Addresses are read only (Oro writes them as resources of their own).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.model import Customer

__all__ = ["HELD_FIELDS", "Resource", "contact_attributes", "contact_to_customer"]

Resource = dict[str, Any]

HELD_FIELDS = frozenset({"first_name", "last_name", "emails", "phones", "birth_date", "gender"})
"""Canonical fields the hub writes to Oro contacts."""

_GENDERS = {"male", "female"}


def _related(resource: Resource, name: str) -> list[Resource]:
    data = ((resource.get("relationships") or {}).get(name) or {}).get("data")
    if isinstance(data, dict):
        return [data]
    return [item for item in data or [] if isinstance(item, dict)]


def _related_id(resource: Resource, name: str) -> str | None:
    found = _related(resource, name)
    return str(found[0]["id"]) if found and found[0].get("id") is not None else None


def _address(address: Resource) -> dict[str, Any]:
    values = address.get("attributes") or {}
    types = {str(t.get("id")) for t in _related(address, "types")}
    region = _related_id(address, "region")
    data = {
        "kind": "billing" if "billing" in types else "shipping" if "shipping" in types else "other",
        "company": values.get("organization"),
        "line1": values.get("street"),
        "line2": values.get("street2"),
        "city": values.get("city"),
        "region": values.get("customRegion") or (region.split("-", 1)[-1] if region else None),
        "postcode": values.get("postalCode"),
        "country": _related_id(address, "country"),
    }
    return {key: value for key, value in data.items() if value not in (None, "")}


def _time(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an ISO 8601 time") from None


def _listed(primary: Any, items: Any, key: str) -> list[str]:
    values = [primary] if primary else []
    values += [item.get(key) for item in items or [] if isinstance(item, dict) and item.get(key)]
    return list(dict.fromkeys(str(value) for value in values))


def contact_to_customer(contact: Resource) -> tuple[str, dict[str, Any]]:
    """Return (contact id, Customer-shaped dict); the caller validates it."""
    external_id = str(contact.get("id") or "")
    if not external_id:
        raise ValueError("the Oro contact has no id")
    values = contact.get("attributes") or {}
    wanted = {(a.get("type"), str(a.get("id"))) for a in _related(contact, "addresses")}
    addresses = [
        resource
        for resource in contact.get("included") or []
        if (resource.get("type"), str(resource.get("id"))) in wanted
    ]
    addresses.sort(key=lambda a: not (a.get("attributes") or {}).get("primary"))
    source = _related_id(contact, "source")
    owner = _related_id(contact, "owner")
    data: dict[str, Any] = {
        "first_name": values.get("firstName"),
        "last_name": values.get("lastName"),
        "emails": _listed(values.get("primaryEmail"), values.get("emails"), "email"),
        "phones": _listed(values.get("primaryPhone"), values.get("phones"), "phone"),
        "addresses": [mapped for mapped in map(_address, addresses) if len(mapped) > 1],
        "birth_date": values.get("birthday"),
        "gender": values.get("gender") if values.get("gender") in _GENDERS else None,
        "acquisition": {"source": source} if source else None,
        "attributes": {"oro_owner_id": owner} if owner else {},
        "note": values.get("description"),
        "created_at": _time(values.get("createdAt"), "createdAt"),
        "updated_at": _time(values.get("updatedAt"), "updatedAt"),
    }
    return external_id, {
        key: value for key, value in data.items() if value not in (None, "", [], {})
    }


def contact_attributes(customer: Customer) -> dict[str, Any]:
    """The attributes a PATCH or POST sends: the hub's fields, whole collections included.

    Oro replaces the ``emails`` and ``phones`` collections with what a request
    holds, so they are sent whole, the primary one first and named again in
    ``primaryEmail``/``primaryPhone``. A field the hub lacks is sent as null,
    so a value removed in the hub is removed in Oro.
    """
    return {
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "primaryEmail": customer.primary_email,
        "emails": [{"email": email} for email in customer.emails],
        "primaryPhone": customer.phones[0] if customer.phones else None,
        "phones": [{"phone": phone} for phone in customer.phones],
        "birthday": customer.birth_date.isoformat() if customer.birth_date else None,
        "gender": customer.gender if customer.gender in _GENDERS else None,
    }
