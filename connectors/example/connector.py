"""The example connector: canonical customers from and to the example API's contacts.

Reads are incremental. The API lists contacts changed at or after
``updated_since``, oldest change first, in pages linked by a token. The cursor
saved with each page holds the token of the next page and the high-water mark:
the newest ``updated_at`` read so far and the ids read at exactly that time.
The next sync asks from that time, inclusive so that a change in the same
millisecond is not missed, and drops the ids it has already read, so nothing is
read twice either.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import ClassVar

import httpx
from pydantic import BaseModel

from connectors.example.client import ExampleClient
from connectors.example.config import ExampleConfig
from connectors.example.mapping import (
    HELD_FIELDS,
    Contact,
    contact_to_customer,
    customer_to_contact,
)
from connectors.example.sandbox import ExampleSandbox
from connectors.example.webhooks import events_to_pages, verify
from hub.connector import (
    Change,
    Connector,
    Page,
    RawRecord,
    SourceRecord,
    WebhookDelivery,
    WebhookReply,
    WebhookRequest,
    WriteResult,
)
from hub.errors import RecordError
from hub.http import Clock
from hub.model import CanonicalRecord, Customer
from hub.testing.sandbox import Sandbox

__all__ = ["ExampleConnector"]


@dataclass(frozen=True, slots=True)
class _Cursor:
    since: str | None = None
    seen: tuple[str, ...] = ()
    page_token: str | None = None

    @classmethod
    def load(cls, text: str | None) -> _Cursor:
        if not text:
            return cls()
        saved = json.loads(text)
        return cls(saved["since"], tuple(saved["seen"]), saved["page_token"])

    def dump(self) -> str:
        return json.dumps(asdict(self))

    def already_read(self, contact: Contact) -> bool:
        return contact.get("updated_at") == self.since and contact.get("id") in self.seen

    def after(self, contacts: list[Contact], page_token: str | None) -> _Cursor:
        """The cursor once ``contacts`` (in the API's order) are stored.

        A contact without a readable time moves nothing: it goes to dead
        letters, and the mark follows the contacts around it.
        """
        since, seen = self.since, list(self.seen)
        for contact in contacts:
            changed = _time(contact.get("updated_at"))
            if changed is None:
                continue
            if since is None or changed > datetime.fromisoformat(since):
                since, seen = contact["updated_at"], [contact["id"]]
            elif contact["updated_at"] == since:
                seen.append(contact["id"])
        return _Cursor(since, tuple(seen), page_token)


def _time(value: object) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


class ExampleConnector(Connector):
    name = "example"
    config_model: ClassVar[type[BaseModel]] = ExampleConfig
    reads = {"customers": Customer}
    writes = {"customers": Customer}
    deletes = frozenset({"customers"})
    sandbox: ClassVar[type[Sandbox]] = ExampleSandbox
    pure_mapping = True  # to_canonical reads the payload and settings only: see Connector

    config: ExampleConfig

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
        self.client = ExampleClient(
            self.config, connection=connection, transport=transport, clock=clock
        )

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        start = state = _Cursor.load(cursor)
        pages = self.client.contact_pages(since=start.since, page_token=start.page_token)
        async for contacts, page_token in pages:
            fresh = [contact for contact in contacts if not start.already_read(contact)]
            state = state.after(fresh, page_token)
            yield Page(records=fresh, cursor=state.dump())

    def fields_held(self, stream: str) -> frozenset[str]:
        return HELD_FIELDS

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        external_id, data = contact_to_customer(raw, self.connection)
        customer = Customer.model_validate(data, context={"default_region": self.default_region})
        return SourceRecord(external_id, customer, customer.updated_at)

    def from_canonical(self, stream: str, record: CanonicalRecord) -> RawRecord:
        if not isinstance(record, Customer):
            raise TypeError(f"stream {stream!r} writes customers, not {type(record).__name__}")
        return customer_to_contact(record)

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        """Deletes by id; updates by id when the hub knows it, else upserts by e-mail.

        Either way a resent batch lands on the same contacts, so it creates
        nothing twice. A contact the API refuses gets its error; the rest go on.
        """
        return [await self._write_one(stream, change) for change in changes]

    async def _write_one(self, stream: str, change: Change) -> WriteResult:
        try:
            if change.op == "delete":
                if change.external_id:
                    await self.client.delete_contact(change.external_id)
                return WriteResult(change.hub_id, change.external_id)
            contact = self.from_canonical(stream, change.record)
            if change.external_id:
                written = await self.client.update_contact(change.external_id, contact)
            elif contact["email"]:
                written = await self.client.upsert_contact(contact)
            else:
                raise RecordError("a contact needs an e-mail address to be created")
        except RecordError as exc:
            return WriteResult(change.hub_id, change.external_id, error=str(exc))
        return WriteResult(change.hub_id, str(written["id"]), written=written)

    def verify_webhook(self, request: WebhookRequest) -> WebhookDelivery | WebhookReply:
        secret = self.config.webhook_secret
        return verify(secret.get_secret_value() if secret else None, request)

    def webhook_pages(self, request: WebhookRequest) -> list[tuple[str, Page]]:
        return events_to_pages(request.body)

    async def aclose(self) -> None:
        await self.client.aclose()
