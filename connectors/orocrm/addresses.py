"""Writing a contact's addresses: ``contactaddresses`` resources made to match the hub's.

Oro keeps addresses as resources of their own, so after the contact is
written its addresses are read (included with the contact) and paired with
the hub's in order, primary first: a pair that already agrees is left alone,
one that differs is PATCHed, a hub address with no partner is POSTed with the
contact as owner, and an Oro address the hub no longer has is deleted. A
write that changes nothing sends nothing, so the next rounds stay quiet.
"""

from __future__ import annotations

from typing import Any

from connectors.orocrm.client import OroClient
from connectors.orocrm.mapping import address_of, address_parts, held_addresses, included
from hub.model import Address

__all__ = ["sync_addresses"]

KIND = "contactaddresses"


def _comparable(address: dict[str, Any]) -> dict[str, Any]:
    held = held_addresses([address])
    return {key: value for key, value in held[0].items() if value is not None} if held else {}


async def sync_addresses(client: OroClient, contact_id: str, addresses: list[Address]) -> None:
    contact = await client.contact(contact_id)
    current = included(contact, "addresses")
    current.sort(key=lambda a: not (a.get("attributes") or {}).get("primary"))
    wanted = [a for a in addresses if a.country]
    for index, address in enumerate(wanted):
        attributes, relationships = address_parts(address, primary=index == 0)
        if index >= len(current):
            owner = {"owner": {"data": {"type": "contacts", "id": contact_id}}}
            await client.create(KIND, attributes, relationships | owner)
            continue
        existing = current[index]
        have = _comparable(address_of(existing))
        want = _comparable(address.model_dump(mode="json", exclude_none=True))
        primary = bool((existing.get("attributes") or {}).get("primary"))
        if have == want and primary == (index == 0):
            continue
        if have.get("region") == want.get("region"):
            attributes.pop("customRegion")  # Oro's own region id stays as it is
            relationships.pop("region")
        await client.update(KIND, str(existing["id"]), attributes, relationships)
    for extra in current[len(wanted) :]:
        await client.delete(KIND, str(extra["id"]))
