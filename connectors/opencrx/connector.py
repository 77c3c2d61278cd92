"""The openCRX connector: Contact accounts with their addresses as customers, both ways,
and activities (incidents, calls) as interactions.

Reads page through contacts (and activities) ordered by ``modifiedAt`` from a mark, inclusive,
dropping the ids already read at exactly that mark; the cursor is the mark and
those ids. Each request starts at the mark, so a contact edited during the
walk moves nothing else; only a run of ties longer than a page is stepped
through by ``position``. A contact's addresses are read
with it (one request per contact), and a change to an address is a change of
its account's ``modifiedAt``.

Writes set the contact's names, birthdate and ``doNotEMail`` and its main
e-mail address. A contact the hub creates carries ``crmhub:<hub id>`` in its
``externalLink``, so a batch resent after a crash finds it instead of
creating it twice.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import ClassVar

import httpx
from pydantic import BaseModel

from connectors.opencrx.client import OpenCrxClient
from connectors.opencrx.config import OpenCrxConfig
from connectors.opencrx.mapping import (
    EMAIL,
    HELD_FIELDS,
    OpenCrxRecord,
    activity_to_interaction,
    contact_to_customer,
    customer_to_contact,
    customer_to_email,
)
from connectors.opencrx.sandbox import OpenCrxSandbox
from hub.connector import Change, Connector, Page, RawRecord, SourceRecord, WriteResult
from hub.errors import RecordError
from hub.http import Clock
from hub.model import CanonicalRecord, Customer, Interaction
from hub.testing.sandbox import Sandbox

__all__ = ["OpenCrxConnector"]

_EPOCH = "1970-01-01T00:00:00.000Z"
Fetch = Callable[[str, int], Awaitable[tuple[list[OpenCrxRecord], bool]]]


class OpenCrxConnector(Connector):
    name = "opencrx"
    pure_mapping = True
    config_model: ClassVar[type[BaseModel]] = OpenCrxConfig
    reads = {"customers": Customer, "activities": Interaction}
    writes = {"customers": Customer}
    sandbox: ClassVar[type[Sandbox]] = OpenCrxSandbox

    config: OpenCrxConfig

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
        self.client = OpenCrxClient(
            self.config, connection=connection, transport=transport, clock=clock
        )

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        if stream == "activities":
            async for activities, state in self._walk(self.client.activities, cursor):
                yield Page([{"id": _id(a), **a} for a in activities], state)
            return
        async for contacts, state in self._walk(self.client.contacts, cursor):
            records = [
                {"id": _id(c), "contact": c, "addresses": await self.client.addresses(_id(c))}
                for c in contacts
            ]
            yield Page(records, state)

    async def _walk(
        self, fetch: Fetch, cursor: str | None
    ) -> AsyncIterator[tuple[list[OpenCrxRecord], str]]:
        """Objects changed at or after the cursor's mark, each once, with the cursor after them."""
        mark, seen = json.loads(cursor) if cursor else (_EPOCH, [])
        position = 0
        while True:
            query = f"thereExistsModifiedAt().greaterThanOrEqualTo(:datetime:{mark});"
            found, more = await fetch(query + "orderByModifiedAt().ascending()", position)
            fresh = [o for o in found if o["modifiedAt"] != mark or _id(o) not in seen]
            for obj in fresh:
                if obj["modifiedAt"] != mark:
                    mark, seen = obj["modifiedAt"], []
                seen.append(_id(obj))
            if fresh:
                yield fresh, json.dumps([mark, seen])
            if not more or not found:
                return
            # A page of ids already read is a run of ties at the mark: step past it.
            position = 0 if fresh else position + len(found)

    def fields_held(self, stream: str) -> frozenset[str] | None:
        return HELD_FIELDS if stream == "customers" else None

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        if stream == "activities":
            activity_id, fields = activity_to_interaction(raw, self.connection)
            activity = Interaction.model_validate(fields)
            return SourceRecord(activity_id, activity, activity.updated_at)
        external_id, data = contact_to_customer(raw, self.connection)
        customer = Customer.model_validate(data, context={"default_region": self.default_region})
        return SourceRecord(external_id, customer, customer.updated_at)

    def from_canonical(self, stream: str, record: CanonicalRecord) -> RawRecord:
        if not isinstance(record, Customer):
            raise TypeError(f"stream {stream!r} writes customers, not {type(record).__name__}")
        return {"contact": customer_to_contact(record), "email": customer_to_email(record)}

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        """One change at a time; a contact openCRX refuses gets its error, the rest go on."""
        return [await self._write_one(stream, change) for change in changes]

    async def _write_one(self, stream: str, change: Change) -> WriteResult:
        try:
            if change.op == "delete":
                raise RecordError("openCRX contacts are not deleted by the hub; disable them")
            sent = self.from_canonical(stream, change.record)
            account_id = change.external_id or await self._linked(change.hub_id)
            if account_id:
                written = await self.client.update_contact(account_id, sent["contact"])
            else:
                contact = {**sent["contact"], "externalLink": [f"crmhub:{change.hub_id}"]}
                written = await self.client.create_contact(contact)
            if sent["email"] is not None:
                await self._set_email(_id(written), sent["email"])
        except RecordError as exc:
            return WriteResult(change.hub_id, change.external_id, error=str(exc))
        return WriteResult(change.hub_id, _id(written), written=written)

    async def _linked(self, hub_id: str) -> str | None:
        query = f'thereExistsExternalLink().equalTo("crmhub:{hub_id}")'
        found, _ = await self.client.contacts(query, 0)
        return _id(found[0]) if found else None

    async def _set_email(self, account_id: str, email: OpenCrxRecord) -> None:
        addresses = await self.client.addresses(account_id)
        main = next((a for a in addresses if a.get("@type") == EMAIL and a.get("isMain")), None)
        if main is None:
            await self.client.create_address(account_id, email)
        elif main.get("emailAddress") != email["emailAddress"]:
            await self.client.update_address(account_id, _id(main), email)

    async def aclose(self) -> None:
        await self.client.aclose()


def _id(obj: OpenCrxRecord) -> str:
    return str(obj["@href"]).rsplit("/", 1)[-1]
