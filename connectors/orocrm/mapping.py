"""Oro contacts (JSON:API resources) <-> canonical customers: pure functions.

A contact's e-mails and phones are attributes in Oro's API (collections of
``{"email": ...}`` and ``{"phone": ...}`` objects beside ``primaryEmail`` and
``primaryPhone``), while its addresses are ``contactaddresses`` resources the
connector asks to have included. The connector hands each contact over with
the resources included for it under ``included``, so a contact is one record.

The hub writes the attributes it owns and nothing else: a PATCH in JSON:API
changes only what the document names, so Oro's other fields stay as they are.
Addresses are written as resources of their own (:func:`address_parts`),
and an account reaches the hub as the ``company`` attribute of its contacts.
An address Oro cannot hold (it needs a country) is left out, kinds it has
no type for (home, work) read back as "other", and the hub's copies of one
place in several kinds are one Oro address with several types
(:class:`Place`): :func:`held_addresses` says what Oro keeps, so such a
difference is not written on every pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.model import Customer

__all__ = [
    "HELD_FIELDS",
    "Place",
    "Resource",
    "address_of",
    "address_parts",
    "company_of",
    "contact_attributes",
    "contact_to_customer",
    "held_addresses",
    "included",
    "parse_time",
    "place_of",
    "places",
    "related_id",
]

Resource = dict[str, Any]

HELD_FIELDS = frozenset(
    {"first_name", "last_name", "emails", "phones", "birth_date", "gender", "addresses"}
)
"""Canonical fields the hub writes to Oro contacts."""

_GENDERS = {"male", "female"}
_TYPES = ("billing", "shipping")


def _related(resource: Resource, name: str) -> list[Resource]:
    data = ((resource.get("relationships") or {}).get(name) or {}).get("data")
    if isinstance(data, dict):
        return [data]
    return [item for item in data or [] if isinstance(item, dict)]


def related_id(resource: Resource, name: str) -> str | None:
    """The id of a to-one relationship (the first of a to-many), or None."""
    found = _related(resource, name)
    return str(found[0]["id"]) if found and found[0].get("id") is not None else None


def included(resource: Resource, name: str) -> list[Resource]:
    """The resources of relationship ``name`` found under the record's ``included``."""
    order = [(item.get("type"), str(item.get("id"))) for item in _related(resource, name)]
    found = {
        (item.get("type"), str(item.get("id"))): item for item in resource.get("included") or []
    }
    return [found[key] for key in order if key in found]


def company_of(resource: Resource, name: str) -> dict[str, str]:
    """The ``company`` attribute: the name of the (first) account the record belongs to."""
    accounts = included(resource, name)
    title = (accounts[0].get("attributes") or {}).get("name") if accounts else None
    return {"company": str(title)} if title else {}


def address_of(address: Resource) -> dict[str, Any]:
    """An Oro contact address as a canonical one; a billing-and-shipping one reads as billing."""
    values = address.get("attributes") or {}
    types = {str(t.get("id")) for t in _related(address, "types")}
    region = related_id(address, "region")
    data = {
        "kind": "billing" if "billing" in types else "shipping" if "shipping" in types else "other",
        "company": values.get("organization"),
        "line1": values.get("street"),
        "line2": values.get("street2"),
        "city": values.get("city"),
        "region": values.get("customRegion") or (region.split("-", 1)[-1] if region else None),
        "postcode": values.get("postalCode"),
        "country": related_id(address, "country"),
    }
    return {key: value for key, value in data.items() if value not in (None, "")}


def parse_time(value: Any, name: str) -> datetime | None:
    """Oro's UTC ISO 8601 time (``2024-05-01T10:20:30Z``), None when unset."""
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
    addresses = included(contact, "addresses")
    addresses.sort(key=lambda a: not (a.get("attributes") or {}).get("primary"))
    source = related_id(contact, "source")
    owner = related_id(contact, "owner")
    data: dict[str, Any] = {
        "first_name": values.get("firstName"),
        "last_name": values.get("lastName"),
        "emails": _listed(values.get("primaryEmail"), values.get("emails"), "email"),
        "phones": _listed(values.get("primaryPhone"), values.get("phones"), "phone"),
        "addresses": [mapped for mapped in map(address_of, addresses) if len(mapped) > 1],
        "birth_date": values.get("birthday"),
        "gender": values.get("gender") if values.get("gender") in _GENDERS else None,
        "acquisition": {"source": source} if source else None,
        "attributes": ({"oro_owner_id": owner} if owner else {}) | company_of(contact, "accounts"),
        "note": values.get("description"),
        "created_at": parse_time(values.get("createdAt"), "createdAt"),
        "updated_at": parse_time(values.get("updatedAt"), "updatedAt"),
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


@dataclass(frozen=True, slots=True)
class Place:
    """One address as Oro holds it: the canonical fields but the kind, and its address types.

    Oro's ``types`` is a to-many relationship, so one Oro address is both the
    billing and the shipping address. The hub keeps the same place once per
    kind it was given in (a shop's default billing and default shipping
    copies), so those copies are one place here, with every type they name.
    """

    fields: dict[str, Any]
    types: tuple[str, ...] = ()

    def canonical(self) -> dict[str, Any]:
        """As it reads back: the first type (billing before shipping) is the kind."""
        return self.fields | ({"kind": self.types[0]} if self.types else {})


def places(addresses: list[dict[str, Any]]) -> list[Place]:
    """Canonical addresses (dicts) as Oro's addresses, in order, one per place with a country.

    Oro requires a country, so an address without one stays out of Oro; home
    and work have no address type there, so they are plain addresses.
    """
    found: dict[str, tuple[dict[str, Any], set[str]]] = {}
    for address in addresses:
        if not address.get("country"):
            continue
        fields = {k: v for k, v in address.items() if k != "kind" and v is not None}
        key = json.dumps(fields, sort_keys=True)
        kinds = found.setdefault(key, (fields, set()))[1]
        kinds |= {str(address.get("kind"))} & set(_TYPES)
    return [
        Place(fields, tuple(t for t in _TYPES if t in kinds)) for fields, kinds in found.values()
    ]


def held_addresses(addresses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Canonical addresses as Oro holds them and reads them back (see :func:`places`)."""
    return [place.canonical() for place in places(addresses)]


def place_of(address: Resource) -> Place:
    """An Oro contact address as a place: its canonical fields and its types."""
    fields = {k: v for k, v in address_of(address).items() if k != "kind"}
    types = {str(t.get("id")) for t in _related(address, "types")}
    return Place(fields, tuple(t for t in _TYPES if t in types))


def address_parts(place: Place, *, primary: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(attributes, relationships) of a contact address write, every held field named.

    A field the hub lacks is sent as null so it is cleared, as for contacts.
    The region goes as free text (``customRegion``): the hub keeps what the
    shop gave (often a name), not Oro's region ids.
    """
    values = place.fields
    attributes = {
        "primary": primary,
        "organization": values.get("company"),
        "street": values.get("line1"),
        "street2": values.get("line2"),
        "city": values.get("city"),
        "customRegion": values.get("region"),
        "postalCode": values.get("postcode"),
    }
    relationships = {
        "country": {"data": {"type": "countries", "id": values["country"]}},
        "region": {"data": None},
        "types": {"data": [{"type": "addresstypes", "id": kind} for kind in place.types]},
    }
    return attributes, relationships
