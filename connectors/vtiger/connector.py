"""The vTiger connector: Contacts and Leads as customers, HelpDesk tickets as interactions.

Reads use vTiger's ``sync`` operation, which lists what changed after a time
and what was deleted, oldest first, never splitting one second between two
batches. The cursor is the ``lastModifiedTime`` of the batch stored, so a
crash resumes at the next batch and an idle sync reads nothing. Where an
instance has sync disabled, ``read_with: query`` pages with VTQL instead
(``modifiedtime >= mark ORDER BY modifiedtime LIMIT n``, dropping the ids read
at the mark); queries cannot see deletions. An instance that refuses ``sync``
(``UNKNOWN_OPERATION``, ``ACCESS_DENIED``) while ``query`` works falls back to
queries by itself; the two cursors convert into each other.

Accounts are the contacts' organisation. vTiger serves a contact's account
only as a reference (``account_id``), so every page of contacts gets its
accounts' names in one query (``accountname``, read as ``attributes.company``).
The ``accounts`` stream reads the Accounts changed since its cursor, the same
way, and yields the contacts linked to them: a renamed account reaches its
contacts although they did not change.

Contacts are written back with ``revise`` (only the fields sent change) when
the hub knows the record, else looked up by e-mail and revised, or created.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import ClassVar

import httpx
from pydantic import BaseModel

from connectors.vtiger.client import VtigerClient
from connectors.vtiger.config import VtigerConfig
from connectors.vtiger.mapping import (
    HELD_FIELDS,
    VtigerRecord,
    contact_to_customer,
    customer_to_contact,
    lead_to_customer,
    ticket_to_interaction,
)
from connectors.vtiger.sandbox import STREAMS, VtigerSandbox
from hub.connector import Change, Connector, Page, RawRecord, SourceRecord, WriteResult
from hub.errors import ConfigError, CrmhubError, RecordError
from hub.http import Clock
from hub.model import CanonicalRecord, Customer, Interaction
from hub.testing.sandbox import Sandbox

__all__ = ["VtigerConnector"]

log = logging.getLogger(__name__)
CONTACTS = STREAMS["customers"]
_FORMAT = "%Y-%m-%d %H:%M:%S"
ACCOUNTS = STREAMS["accounts"]
_IDS_PER_QUERY = 25
"""Account ids per VTQL ``or`` list: short enough for a GET, under the 100-row cap of names."""


class VtigerConnector(Connector):
    name = "vtiger"
    pure_mapping = True
    config_model: ClassVar[type[BaseModel]] = VtigerConfig
    reads = {
        "customers": Customer,
        "leads": Customer,
        "accounts": Customer,
        "tickets": Interaction,
    }
    writes = {"customers": Customer}
    deletes = frozenset({"customers"})
    sandbox: ClassVar[type[Sandbox]] = VtigerSandbox

    config: VtigerConfig

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
        self.client = VtigerClient(
            self.config, connection=connection, transport=transport, clock=clock
        )

    def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        pages = self._pages(STREAMS[stream], cursor)
        if stream == "accounts":
            return self._contacts_of(pages)
        if stream == "customers":
            return self._with_company(pages)
        return pages

    async def _with_company(self, pages: AsyncIterator[Page]) -> AsyncIterator[Page]:
        async for page in pages:
            yield Page(await self._named(page.records), page.cursor, deleted=page.deleted)

    async def _contacts_of(self, accounts: AsyncIterator[Page]) -> AsyncIterator[Page]:
        """The contacts of each page of changed accounts; a deleted account deletes no contact."""
        async for page in accounts:
            contacts: list[VtigerRecord] = []
            for ids in _chunks([str(a["id"]) for a in page.records]):
                contacts += await self._all(
                    f"select * from {CONTACTS} where {_any('account_id', ids)}"
                )
            yield Page(await self._named(contacts), page.cursor)

    async def _named(self, contacts: list[VtigerRecord]) -> list[VtigerRecord]:
        """The contacts with their account's name as ``accountname``, one query per 25 accounts."""
        ids = sorted({str(c["account_id"]) for c in contacts if c.get("account_id")})
        names: dict[str, str] = {}
        for chunk in _chunks(ids):
            rows = await self.client.query(
                f"select accountname from {ACCOUNTS} where {_any('id', chunk)};"
            )
            names |= {str(row["id"]): str(row["accountname"]) for row in rows}
        return [
            c | {"accountname": names[c["account_id"]]} if c.get("account_id") in names else c
            for c in contacts
        ]

    async def _all(self, statement: str) -> list[VtigerRecord]:
        """Every row of a query, paged with LIMIT past vTiger's 100-row cap."""
        rows: list[VtigerRecord] = []
        size = self.config.page_size
        while True:
            page = await self.client.query(f"{statement} limit {len(rows)}, {size};")
            rows += page
            if len(page) < size:
                return rows

    async def _pages(self, module: str, cursor: str | None) -> AsyncIterator[Page]:
        """``sync`` pages, or ``query`` pages where sync is refused but query works.

        An instance may not offer ``sync`` to the hub's user (an old version, a
        profile without it): vTiger then refuses it as a settings error. If a
        query on the module works, the walk goes on with queries from where
        it is, and says so in the log.
        """
        if self.config.read_with == "sync":
            try:
                async for page in self._sync_pages(module, cursor):
                    cursor = page.cursor
                    yield page
                return
            except ConfigError as refused:
                try:
                    await self.client.query(f"select id from {module} limit 0, 1;")
                except CrmhubError:
                    raise refused from None
                log.warning(
                    "%s: vTiger refused sync on %s, reading with query instead "
                    "(set read_with: query to skip the attempt): %s",
                    self.connection,
                    module,
                    refused,
                )
        async for page in self._query_pages(module, cursor):
            yield page

    async def _sync_pages(self, module: str, cursor: str | None) -> AsyncIterator[Page]:
        since = _since(cursor)
        while True:
            batch = await self.client.sync(module, since)
            following = int(batch["lastModifiedTime"])
            if batch["updated"] or batch["deleted"] or following != since:
                yield Page(batch["updated"], str(following), deleted=list(batch["deleted"]))
            if not batch["more"] or following == since:
                return
            since = following

    async def _query_pages(self, module: str, cursor: str | None) -> AsyncIterator[Page]:
        """From the mark, inclusive, dropping ids already read there; none is read twice."""
        mark, seen = _mark(cursor)
        size, skip = self.config.page_size, 0
        while True:
            rows = await self.client.query(
                f"select * from {module} where modifiedtime >= '{mark}' "
                f"order by modifiedtime limit {skip}, {size};"
            )
            fresh = [r for r in rows if r["modifiedtime"] != mark or r["id"] not in seen]
            for row in fresh:
                if row["modifiedtime"] != mark:
                    mark, seen = row["modifiedtime"], []
                seen.append(row["id"])
            if fresh:
                yield Page(fresh, json.dumps([mark, seen]))
            if len(rows) < size:
                return
            # A page of ids already read is a run of ties at the mark: step past it.
            skip = 0 if fresh else skip + len(rows)

    def fields_held(self, stream: str) -> frozenset[str] | None:
        return HELD_FIELDS if stream == "customers" else None

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        if stream == "tickets":
            external_id, data = ticket_to_interaction(raw, self.connection)
            ticket = Interaction.model_validate(data)
            return SourceRecord(external_id, ticket, ticket.updated_at)
        as_customer = lead_to_customer if stream == "leads" else contact_to_customer
        external_id, data = as_customer(raw, self.connection)
        customer = Customer.model_validate(data, context={"default_region": self.default_region})
        return SourceRecord(external_id, customer, customer.updated_at)

    def from_canonical(self, stream: str, record: CanonicalRecord) -> RawRecord:
        if not isinstance(record, Customer):
            raise TypeError(f"stream {stream!r} writes customers, not {type(record).__name__}")
        return customer_to_contact(record)

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        """One change at a time; a record vTiger refuses gets its error and the rest go on."""
        return [await self._write_one(stream, change) for change in changes]

    async def _write_one(self, stream: str, change: Change) -> WriteResult:
        try:
            if change.op == "delete":
                if change.external_id and await self._holds(change.external_id):
                    await self.client.delete(change.external_id)
                return WriteResult(change.hub_id, change.external_id)
            written = await self._upsert(change, self.from_canonical(stream, change.record))
        except RecordError as exc:
            return WriteResult(change.hub_id, change.external_id, error=str(exc))
        return WriteResult(change.hub_id, str(written["id"]), written=written)

    async def _upsert(self, change: Change, contact: VtigerRecord) -> VtigerRecord:
        record_id = change.external_id or await self._find(contact["email"])
        if record_id:
            return await self.client.revise({"id": record_id, **contact})
        return await self.client.create(CONTACTS, contact)

    async def _find(self, email: str) -> str | None:
        if not email:
            return None
        quoted = email.replace("'", "''")
        rows = await self.client.query(
            f"select id from {CONTACTS} where email = '{quoted}' limit 1;"
        )
        return str(rows[0]["id"]) if rows else None

    async def _holds(self, record_id: str) -> bool:
        quoted = record_id.replace("'", "''")
        rows = await self.client.query(f"select id from {CONTACTS} where id = '{quoted}';")
        return bool(rows)

    async def aclose(self) -> None:
        await self.client.aclose()


def _since(cursor: str | None) -> int:
    """A sync cursor (Unix seconds); a query cursor's mark becomes the second before it."""
    if not cursor or not cursor.startswith("["):
        return int(cursor or 0)
    mark = datetime.strptime(json.loads(cursor)[0], _FORMAT).replace(tzinfo=UTC)
    return int(mark.timestamp()) - 1  # the ties at the mark are read again, and recognised


def _mark(cursor: str | None) -> tuple[str, list[str]]:
    """A query cursor ``[mark, ids read at the mark]``; a sync cursor becomes its mark."""
    if not cursor:
        return "1970-01-01 00:00:00", []
    if cursor.startswith("["):
        mark, seen = json.loads(cursor)
        return str(mark), list(seen)
    return datetime.fromtimestamp(int(cursor), UTC).strftime(_FORMAT), []


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[start : start + _IDS_PER_QUERY] for start in range(0, len(ids), _IDS_PER_QUERY)]


def _any(field: str, values: list[str]) -> str:
    """A VTQL condition true when ``field`` is one of ``values`` (quotes doubled)."""
    quoted = (value.replace("'", "''") for value in values)
    return " or ".join(f"{field} = '{value}'" for value in quoted)
