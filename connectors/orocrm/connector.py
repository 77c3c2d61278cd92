"""The OroCRM connector: contacts both ways.

The cursor holds the walk's position (see :mod:`connectors.orocrm.client`)
while a walk is under way, and the newest ``updatedAt`` read with the ids read
at that very second. Oro keeps seconds, so the next sync asks from that
second, inclusive, and drops those ids: a contact saved in the same second as
the last one read is not missed, and nothing is read twice.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import ClassVar

import httpx
from pydantic import BaseModel

from connectors.orocrm.client import OroClient, Position
from connectors.orocrm.config import OroConfig
from connectors.orocrm.mapping import (
    HELD_FIELDS,
    Resource,
    contact_attributes,
    contact_to_customer,
)
from connectors.orocrm.sandbox import OroSandbox
from hub.connector import Change, Connector, Page, RawRecord, SourceRecord, WriteResult
from hub.errors import RecordError
from hub.http import Clock
from hub.model import CanonicalRecord, Customer
from hub.testing.sandbox import Sandbox

__all__ = ["OroConnector"]


@dataclass(frozen=True, slots=True)
class _Cursor:
    mark: str | None = None
    seen: tuple[int, ...] = ()
    at: Position | None = None

    @classmethod
    def load(cls, text: str | None) -> _Cursor:
        if not text:
            return cls()
        saved = json.loads(text)
        at = Position(*saved["at"]) if saved.get("at") else None
        return cls(saved["mark"], tuple(saved["seen"]), at)

    def dump(self) -> str:
        at = [self.at.updated_at, self.at.contact_id, self.at.page] if self.at else None
        return json.dumps({"mark": self.mark, "seen": list(self.seen), "at": at})

    def start(self) -> Position | None:
        if self.at is not None:
            return self.at
        return Position(self.mark, 0) if self.mark else None

    def already_read(self, contact: Resource) -> bool:
        updated = (contact.get("attributes") or {}).get("updatedAt")
        return updated == self.mark and int(contact.get("id") or 0) in self.seen

    def after(self, contacts: list[Resource], at: Position | None) -> _Cursor:
        mark, seen = self.mark, list(self.seen)
        for contact in contacts:
            updated = (contact.get("attributes") or {}).get("updatedAt")
            if not isinstance(updated, str):
                continue
            if mark is None or updated > mark:
                mark, seen = updated, [int(contact["id"])]
            elif updated == mark:
                seen.append(int(contact["id"]))
        return _Cursor(mark, tuple(seen), at)


class OroConnector(Connector):
    name = "orocrm"
    config_model: ClassVar[type[BaseModel]] = OroConfig
    reads = {"customers": Customer}
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
        start = state = _Cursor.load(cursor)
        async for page in self.client.contacts(start.start()):
            fresh = [contact for contact in page.contacts if not start.already_read(contact)]
            state = state.after(fresh, page.next)
            yield Page(records=fresh, cursor=state.dump())

    def fields_held(self, stream: str) -> frozenset[str]:
        return HELD_FIELDS

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        try:
            external_id, data = contact_to_customer(raw)
            customer = Customer.model_validate(
                data, context={"default_region": self.default_region}
            )
        except ValueError as exc:
            raise RecordError(str(exc), external_id=str(raw.get("id") or "") or None) from exc
        return SourceRecord(external_id, customer, customer.updated_at)

    def from_canonical(self, stream: str, record: CanonicalRecord) -> RawRecord:
        if not isinstance(record, Customer):
            raise TypeError(f"Oro contacts are written from customers, not {type(record).__name__}")
        return contact_attributes(record)

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        """PATCH a linked contact, else the one with this primary e-mail, else POST a new one."""
        return [await self._write_one(change) for change in changes]

    async def _write_one(self, change: Change) -> WriteResult:
        try:
            if change.op == "delete":
                if change.external_id:
                    await self._delete(change.external_id)
                return WriteResult(change.hub_id, change.external_id)
            attributes = self.from_canonical("customers", change.record)
            contact_id = change.external_id
            if contact_id is None and attributes["primaryEmail"]:
                found = await self.client.find_by_email(attributes["primaryEmail"])
                contact_id = str(found["id"]) if found else None
            if contact_id is None:
                written = await self.client.create_contact(attributes)
            else:
                written = await self.client.update_contact(contact_id, attributes)
        except RecordError as exc:
            return WriteResult(change.hub_id, change.external_id, error=str(exc))
        return WriteResult(change.hub_id, str(written["id"]), written=written)

    async def _delete(self, contact_id: str) -> None:
        """Erase; a contact already gone is erased, not an error."""
        if await self.client.exists(contact_id):
            await self.client.delete_contact(contact_id)

    async def aclose(self) -> None:
        await self.client.aclose()
