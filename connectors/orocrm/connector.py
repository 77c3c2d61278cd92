"""The OroCRM connector: contacts both ways; accounts, opportunities and Magento customers read.

Streams: ``customers`` (contacts with their addresses and accounts, written
back with their addresses), ``accounts`` (the contacts of changed accounts,
so a renamed account reaches its contacts' ``company``), ``opportunities``
(interactions on their contact) and ``magento_customers`` (the customers
Oro's Magento integration keeps, joined to the shop's by identity). Cursors
are :class:`~connectors.orocrm.cursor.Cursor` positions in each walk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel

from connectors.orocrm.addresses import sync_addresses
from connectors.orocrm.client import CONTACT_INCLUDES, OroClient
from connectors.orocrm.config import OroConfig
from connectors.orocrm.cursor import Cursor
from connectors.orocrm.mapping import (
    HELD_FIELDS,
    Resource,
    contact_attributes,
    contact_to_customer,
    held_addresses,
)
from connectors.orocrm.mapping_sales import (
    MAGENTO_PREFIX,
    magento_customer_to_customer,
    opportunity_to_interaction,
)
from connectors.orocrm.sandbox import OroSandbox
from hub.connector import Change, Connector, Page, RawRecord, SourceRecord, WriteResult
from hub.errors import RecordError
from hub.http import Clock
from hub.model import CanonicalRecord, Customer, Interaction
from hub.testing.sandbox import Sandbox

__all__ = ["OroConnector"]

_WALKS = {
    "customers": ("contacts", CONTACT_INCLUDES),
    "accounts": ("accounts", None),
    "opportunities": ("opportunities", None),
    "magento_customers": ("magentocustomers", "account"),
}
"""Stream -> (the Oro kind walked, what it is read with)."""


class OroConnector(Connector):
    name = "orocrm"
    pure_mapping = True
    config_model: ClassVar[type[BaseModel]] = OroConfig
    reads = {
        "customers": Customer,
        "accounts": Customer,
        "opportunities": Interaction,
        "magento_customers": Customer,
    }
    writes = {"customers": Customer}
    deletes = frozenset({"customers"})
    sandbox: ClassVar[type[Sandbox]] = OroSandbox

    config: OroConfig

    def __init__(
        self,
        config: BaseModel,
        *,
        connection: str,
        default_region: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(config, connection=connection, default_region=default_region)
        self.client = OroClient(
            self.config, connection=connection, transport=transport, clock=clock
        )

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        kind, include = _WALKS[stream]
        start = state = Cursor.load(cursor)
        async for page in self.client.walk(kind, start.start(), include):
            fresh = [resource for resource in page.resources if not start.already_read(resource)]
            state = state.after(fresh, page.next)
            records = fresh
            if stream == "accounts":
                members = [m["id"] for a in fresh for m in _members(a)]
                records = await self.client.contacts_by_id(list(dict.fromkeys(members)))
            yield Page(records=records, cursor=state.dump())

    def fields_held(self, stream: str) -> frozenset[str] | None:
        return HELD_FIELDS if self.reads[stream] is Customer else None

    def held_view(self, stream: str, data: dict[str, Any]) -> dict[str, Any]:
        """Addresses as Oro can hold them (with a country; home and work as "other")."""
        if not data.get("addresses"):
            return data
        held = held_addresses(data["addresses"])
        rest = {key: value for key, value in data.items() if key != "addresses"}
        return rest | ({"addresses": held} if held else {})

    def writes_to(self, stream: str, external_id: str) -> bool:
        """A push updates contacts, never the Magento customers Oro's integration keeps."""
        return not external_id.startswith(MAGENTO_PREFIX)

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        external_id = str(raw.get("id") or "") or None
        try:
            if stream == "opportunities":
                external_id, data = opportunity_to_interaction(raw)
                interaction = Interaction.model_validate(data)
                return SourceRecord(external_id, interaction, interaction.updated_at)
            if stream == "magento_customers":
                external_id = f"{MAGENTO_PREFIX}{external_id}" if external_id else None
                external_id, data = magento_customer_to_customer(raw)
            else:
                external_id, data = contact_to_customer(raw)
            customer = Customer.model_validate(
                data, context={"default_region": self.default_region}
            )
        except ValueError as exc:
            raise RecordError(str(exc), external_id=external_id) from exc
        return SourceRecord(external_id, customer, customer.updated_at)

    def from_canonical(self, stream: str, record: CanonicalRecord) -> RawRecord:
        if not isinstance(record, Customer):
            raise TypeError(f"Oro contacts are written from customers, not {type(record).__name__}")
        return contact_attributes(record)

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        """PATCH a linked contact, else the one with this primary e-mail, else POST a new one;
        then make its addresses match (:func:`~connectors.orocrm.addresses.sync_addresses`)."""
        return [await self._write_one(change) for change in changes]

    async def _write_one(self, change: Change) -> WriteResult:
        try:
            if change.op == "delete":
                if change.external_id:
                    await self._delete(change.external_id)
                return WriteResult(change.hub_id, change.external_id)
            record = change.record
            assert isinstance(record, Customer)
            attributes = self.from_canonical("customers", record)
            current = await self._current(change, attributes["primaryEmail"])
            if current is None:
                written = await self.client.create("contacts", attributes)
            else:
                written = await self.client.update("contacts", str(current["id"]), attributes)
            await sync_addresses(self.client, current or written, record.addresses)
        except RecordError as exc:
            return WriteResult(change.hub_id, change.external_id, error=str(exc))
        return WriteResult(change.hub_id, str(written["id"]), written=written)

    async def _current(self, change: Change, email: str | None) -> Resource | None:
        """The contact to update, with its addresses: the linked one, else the one with this
        primary e-mail; None to create one. A linked contact Oro no longer has is a stale
        link: a dead letter, or a new contact with ``stale_link: recreate``."""
        if change.external_id is not None:
            found = await self.client.contacts_by_id([change.external_id])
            if found:
                return found[0]
            if self.config.stale_link == "dead_letter":
                raise RecordError(
                    f"crmhub: connection {self.connection!r}: Oro contact {change.external_id} "
                    f"is linked to hub customer {change.hub_id} but no longer exists in Oro "
                    "(deleted or merged there?); the link is stale. Set stale_link: recreate "
                    "to create the contact again, or unlink it"
                )
        return await self.client.find_by_email(email) if email else None

    async def _delete(self, external_id: str) -> None:
        """Erase a contact or a Magento customer; one already gone is erased, not an error."""
        kind, resource_id = "contacts", external_id
        if external_id.startswith(MAGENTO_PREFIX):
            kind, resource_id = "magentocustomers", external_id.removeprefix(MAGENTO_PREFIX)
        if await self.client.exists(kind, resource_id):
            await self.client.delete(kind, resource_id)

    async def aclose(self) -> None:
        await self.client.aclose()


def _members(account: RawRecord) -> list[dict[str, Any]]:
    data = ((account.get("relationships") or {}).get("contacts") or {}).get("data")
    return [item for item in data or [] if isinstance(item, dict) and item.get("id")]
