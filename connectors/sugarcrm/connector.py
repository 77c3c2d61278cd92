"""The SugarCRM connector: Contacts and Leads as customers, Cases as service tickets.

Accounts are the contacts' organisation. The ``accounts`` stream reads the
Accounts changed since its cursor and yields the Contacts linked to them, each
carrying its account's current name (``account_name``): a renamed account
reaches its contacts' ``attributes.company`` although the contacts themselves
did not change. The contacts are the same records the ``customers`` stream
reads, so nothing is counted twice.

Every stream reads incrementally with the same cursor: the ``date_modified``
and ``id`` of the last record stored. The next request asks for what sorts
after that pair, so a crash resumes at the next page and an idle sync reads
nothing (see :mod:`connectors.sugarcrm.client` for why not offsets).

Contacts are written back, tasks for the call centre are created
(:mod:`connectors.sugarcrm.tasks`), and hub segments become Target Lists
whose members are the linked contacts (:mod:`connectors.sugarcrm.lists`).
A contact the hub already links to is updated by id; one it does not is
upserted on Sugar's ``sync_key`` set to the hub id, so a batch resent after
a crash lands on the contacts it created the first time.
Instances older than 11.2 lack ``sync_key``: with ``upsert_by_sync_key: false``
the contact is looked up by e-mail, then updated or created.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import ClassVar

import httpx
from pydantic import BaseModel

from connectors.sugarcrm.client import SugarClient
from connectors.sugarcrm.config import SugarConfig
from connectors.sugarcrm.custom import custom_fields_of, held_custom, read_custom
from connectors.sugarcrm.lists import TargetListWriter, membership_to_sugar
from connectors.sugarcrm.mapping import (
    HELD_FIELDS,
    SugarRecord,
    case_to_interaction,
    customer_to_person,
    lead_to_customer,
    person_to_customer,
)
from connectors.sugarcrm.sandbox import STREAMS, SugarSandbox
from connectors.sugarcrm.tasks import TASKS, task_to_sugar
from hub.connector import Change, Connector, Page, RawRecord, SourceRecord, WriteResult
from hub.errors import RecordError
from hub.http import Clock
from hub.model import CanonicalRecord, Customer, Interaction, SegmentMembership, Task
from hub.testing.sandbox import Sandbox

__all__ = ["SugarConnector"]

CONTACTS = STREAMS["customers"]


class SugarConnector(Connector):
    name = "sugarcrm"
    pure_mapping = True
    config_model: ClassVar[type[BaseModel]] = SugarConfig
    reads = {"customers": Customer, "leads": Customer, "accounts": Customer, "cases": Interaction}
    writes = {"customers": Customer, "tasks": Task, "segment_members": SegmentMembership}
    deletes = frozenset({"customers"})
    sandbox: ClassVar[type[Sandbox]] = SugarSandbox

    config: SugarConfig

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
        self.client = SugarClient(
            self.config, connection=connection, transport=transport, clock=clock
        )
        self.target_lists = TargetListWriter(self.client)

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        after = tuple(json.loads(cursor)) if cursor else None
        async for records in self.client.changed(STREAMS[stream], after=_pair(after)):
            last = records[-1]
            cursor = json.dumps([last["date_modified"], last["id"]])
            if stream == "accounts":
                ids = [str(account["id"]) for account in records]
                records = await self.client.related(CONTACTS, "account_id", ids)
            yield Page(records=records, cursor=cursor)

    def fields_held(self, stream: str) -> frozenset[str] | None:
        if self.reads[stream] is not Customer:
            return None
        return HELD_FIELDS | held_custom(self.config.custom_fields)

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        if stream == "cases":
            external_id, data = case_to_interaction(raw, self.connection)
            case = Interaction.model_validate(data)
            return SourceRecord(external_id, case, case.updated_at)
        as_customer = lead_to_customer if stream == "leads" else person_to_customer
        external_id, data = as_customer(raw, self.connection)
        data |= read_custom(raw, self.config.custom_fields)
        customer = Customer.model_validate(data, context={"default_region": self.default_region})
        return SourceRecord(external_id, customer, customer.updated_at)

    def from_canonical(self, stream: str, record: CanonicalRecord) -> RawRecord:
        if stream == "tasks" and isinstance(record, Task):
            return task_to_sugar(record)
        if isinstance(record, SegmentMembership):
            return membership_to_sugar(record)
        if not isinstance(record, Customer):
            raise TypeError(f"stream {stream!r} writes customers, not {type(record).__name__}")
        return customer_to_person(record) | custom_fields_of(record, self.config.custom_fields)

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        """One change at a time (Sugar's session is one per platform); refusals go on."""
        if stream == "segment_members":
            return [await self.target_lists.write(change) for change in changes]
        return [await self._write_one(stream, change) for change in changes]

    async def _write_one(self, stream: str, change: Change) -> WriteResult:
        try:
            if change.op == "delete":
                if change.external_id:
                    await self.client.delete(CONTACTS, change.external_id)
                return WriteResult(change.hub_id, change.external_id)
            if stream == "tasks":
                written = await self._create_task(change)
            else:
                written = await self._upsert(change, self.from_canonical(stream, change.record))
        except RecordError as exc:
            return WriteResult(change.hub_id, change.external_id, error=str(exc))
        return WriteResult(change.hub_id, str(written["id"]), written=written)

    async def _upsert(self, change: Change, person: SugarRecord) -> SugarRecord:
        if change.external_id:
            return await self.client.update(CONTACTS, change.external_id, person)
        if self.config.upsert_by_sync_key:
            return await self.client.upsert_by_sync_key(CONTACTS, change.hub_id, person)
        if not person["email"]:
            raise RecordError("a contact needs an e-mail address to be found again in Sugar")
        found = await self.client.find_by_email(CONTACTS, person["email"][0]["email_address"])
        if found is not None:
            return await self.client.update(CONTACTS, str(found["id"]), person)
        return await self.client.create(CONTACTS, person)

    async def _create_task(self, change: Change) -> SugarRecord:
        """A task is only ever created: keyed by the hub's task key, so a resend is harmless."""
        if not isinstance(change.record, Task):
            raise TypeError(f"stream tasks writes tasks, not {type(change.record).__name__}")
        body = task_to_sugar(change.record)
        if self.config.upsert_by_sync_key:
            return await self.client.upsert_by_sync_key(TASKS, change.record.key, body)
        return await self.client.create(TASKS, body)

    async def aclose(self) -> None:
        await self.client.aclose()


def _pair(saved: tuple[object, ...] | None) -> tuple[str, str] | None:
    return (str(saved[0]), str(saved[1])) if saved else None
