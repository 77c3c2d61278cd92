"""Writing a contact's addresses: ``contactaddresses`` resources made to match the hub's.

Oro keeps addresses as resources of their own, so the contact's addresses,
read with it before it is written (included), are paired with
the hub's in order, primary first: a pair that already agrees is left alone,
one that differs is PATCHed, a hub address with no partner is POSTed with the
contact as owner, and an Oro address the hub no longer has is deleted. A
write that changes nothing sends nothing, so the next rounds stay quiet.
"""

from __future__ import annotations

from connectors.orocrm.client import OroClient
from connectors.orocrm.mapping import Resource, address_parts, included, place_of, places
from hub.model import Address

__all__ = ["sync_addresses"]

KIND = "contactaddresses"


async def sync_addresses(client: OroClient, contact: Resource, addresses: list[Address]) -> None:
    """Make ``contact``'s addresses (read with it, under ``included``) the hub's."""
    contact_id = str(contact["id"])
    current = included(contact, "addresses")
    current.sort(key=lambda a: not (a.get("attributes") or {}).get("primary"))
    wanted = places([a.model_dump(mode="json", exclude_none=True) for a in addresses])
    for index, place in enumerate(wanted):
        attributes, relationships = address_parts(place, primary=index == 0)
        if index >= len(current):
            owner = {"owner": {"data": {"type": "contacts", "id": contact_id}}}
            await client.create(KIND, attributes, relationships | owner)
            continue
        existing = current[index]
        have = place_of(existing)
        primary = bool((existing.get("attributes") or {}).get("primary"))
        if have == place and primary == (index == 0):
            continue
        if have.fields.get("region") == place.fields.get("region"):
            attributes.pop("customRegion")  # Oro's own region id stays as it is
            relationships.pop("region")
        await client.update(KIND, str(existing["id"]), attributes, relationships)
    for extra in current[len(wanted) :]:
        await client.delete(KIND, str(extra["id"]))
