"""The Magento connector: customers both ways, orders read only.

Reads are incremental on ``updated_at``, which Magento keeps to the second.
The cursor saved with each page holds where the walk stands (the last record
read, see :mod:`connectors.magento.client`), the newest change read so far (the
mark), and the id and time of every record read within ``overlap_seconds`` of
the mark. A new sync starts ``overlap_seconds`` before the mark, so a change
that was saved late (a transaction that took a while, a record written in the
same second) is still read, and drops what it has already read at that same
time, so nothing is read twice either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel

from connectors.magento.client import MagentoClient, Position
from connectors.magento.config import MagentoConfig
from connectors.magento.mapping import (
    HELD_FIELDS,
    MagentoRecord,
    customer_body,
    customer_to_canonical,
    format_time,
    held_addresses,
    order_to_canonical,
    parse_time,
)
from connectors.magento.sandbox import MagentoSandbox
from hub.connector import Change, Connector, Page, RawRecord, SourceRecord, WriteResult
from hub.errors import RecordError
from hub.http import Clock
from hub.model import CanonicalRecord, Customer, Order
from hub.testing.sandbox import Sandbox

__all__ = ["MagentoConnector"]

_ID_KEY = {"customers": "id", "orders": "entity_id"}


@dataclass(frozen=True, slots=True)
class _Cursor:
    mark: str | None = None
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Entity id -> (updated_at, digest of the record) for what was read near the mark."""
    at: Position | None = None
    """Set while a walk is under way: resume after this record."""

    @classmethod
    def load(cls, text: str | None) -> _Cursor:
        if not text:
            return cls()
        saved = json.loads(text)
        at = saved.get("at")
        seen = {key: (when, digest) for key, (when, digest) in saved["seen"].items()}
        return cls(saved["mark"], seen, Position(at[0], at[1]) if at else None)

    def dump(self) -> str:
        at = [self.at.updated_at, self.at.entity_id] if self.at else None
        return json.dumps({"mark": self.mark, "seen": self.seen, "at": at}, sort_keys=True)

    def start(self, overlap: timedelta) -> Position | None:
        """Where this sync's walk begins: its saved place, else the mark less the overlap."""
        if self.at is not None:
            return self.at
        mark = parse_time(self.mark)
        return Position(format_time(mark - overlap), 0) if mark else None

    def after(
        self, stream: str, records: list[MagentoRecord], at: Position | None, overlap: timedelta
    ) -> _Cursor:
        mark, seen = self.mark, dict(self.seen)
        for record in records:
            changed = parse_time(record.get("updated_at"))
            if changed is None:
                continue  # it goes to dead letters; the mark follows the records around it
            seen[str(record.get(_ID_KEY[stream]))] = (record["updated_at"], _digest(record))
            if mark is None or record["updated_at"] > mark:
                mark = record["updated_at"]
        floor = parse_time(mark)
        if floor is not None:
            oldest = format_time(floor - overlap)
            seen = {key: entry for key, entry in seen.items() if entry[0] >= oldest}
        return _Cursor(mark, seen, at)

    def already_read(self, stream: str, record: MagentoRecord) -> bool:
        """Read before, as it is now: a second change within the same second still counts."""
        entry = self.seen.get(str(record.get(_ID_KEY[stream])))
        return entry is not None and entry == (record.get("updated_at"), _digest(record))


def _digest(record: MagentoRecord) -> str:
    text = json.dumps(record, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class MagentoConnector(Connector):
    name = "magento"
    pure_mapping = True
    config_model: ClassVar[type[BaseModel]] = MagentoConfig
    reads = {"customers": Customer, "orders": Order}
    writes = {"customers": Customer}
    deletes = frozenset({"customers"})
    sandbox: ClassVar[type[Sandbox]] = MagentoSandbox

    config: MagentoConfig

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
        self.client = MagentoClient(
            self.config, connection=connection, transport=transport, clock=clock
        )
        self.overlap = timedelta(seconds=self.config.overlap_seconds)

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        start = state = _Cursor.load(cursor)
        async for page in self.client.changed(stream, start.start(self.overlap)):
            # A page lists only records after the walk's position, and the positions
            # increase, so only the overlap re-read at the start can bring back a
            # record already read at this time: the check is against the saved state.
            fresh = [record for record in page.items if not start.already_read(stream, record)]
            state = state.after(stream, page.items, page.next, self.overlap)
            yield Page(records=fresh, cursor=state.dump())

    def fields_held(self, stream: str) -> frozenset[str] | None:
        return HELD_FIELDS if stream == "customers" else None

    def held_view(self, stream: str, data: dict[str, Any]) -> dict[str, Any]:
        if not data.get("addresses"):
            return data
        return data | {"addresses": held_addresses(data["addresses"])}

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        """Map and validate; a refusal names the Magento id (orders key it ``entity_id``)."""
        external_id = str(raw.get(_ID_KEY[stream]) or "") or None
        try:
            record = self._validated(stream, raw)
        except ValueError as exc:  # pydantic's ValidationError among them
            raise RecordError(str(exc), external_id=external_id) from exc
        return record

    def _validated(self, stream: str, raw: RawRecord) -> SourceRecord:
        context = {"default_region": self.default_region}
        if stream == "orders":
            external_id, data = order_to_canonical(raw)
            order = Order.model_validate(data, context=context)
            return SourceRecord(external_id, order, order.updated_at)
        external_id, data = customer_to_canonical(
            raw, self.connection, unsubscribed_is_opt_out=self.config.unsubscribed_is_opt_out
        )
        customer = Customer.model_validate(data, context=context)
        return SourceRecord(external_id, customer, customer.updated_at)

    def from_canonical(self, stream: str, record: CanonicalRecord) -> RawRecord:
        """The body of a new customer; an update lays the same fields over Magento's copy."""
        if stream != "customers" or not isinstance(record, Customer):
            raise TypeError(f"Magento is written only with customers, not {stream!r}")
        return customer_body(
            record, None, website_id=self.config.website_id, group_id=self.config.group_id
        )

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        """Read-modify-write each customer; a refused one gets its error, the rest go on.

        A change without a Magento id is matched by e-mail within the website
        first, so a batch resent after a crash updates what it created.
        """
        if stream != "customers":
            raise RecordError(f"Magento {stream} are read only; the hub writes customers")
        return [await self._write_one(change) for change in changes]

    async def _write_one(self, change: Change) -> WriteResult:
        try:
            if change.op == "delete":
                await self._delete(change.external_id)
                return WriteResult(change.hub_id, change.external_id)
            customer = change.record
            if not isinstance(customer, Customer):
                raise RecordError(f"expected a customer, got {type(customer).__name__}")
            written = await self._upsert(change, customer)
        except RecordError as exc:
            return WriteResult(change.hub_id, change.external_id, error=str(exc))
        return WriteResult(change.hub_id, str(written["id"]), written=written)

    async def _upsert(self, change: Change, customer: Customer) -> MagentoRecord:
        current: MagentoRecord | None = None
        if change.external_id:
            current = await self.client.find_customer(change.external_id)
            if current is None and self.config.stale_link == "dead_letter":
                raise RecordError(
                    f"crmhub: connection {self.connection!r}: Magento customer "
                    f"{change.external_id} is linked to hub customer {change.hub_id} but no "
                    "longer exists in Magento (deleted there?); the link is stale. Set "
                    "stale_link: recreate to create the customer again, or unlink it"
                )
        if current is None:
            if not customer.primary_email:
                raise RecordError("a Magento customer needs an e-mail address to be created")
            current = await self.client.find_by_email(customer.primary_email)
        body = customer_body(
            customer, current, website_id=self.config.website_id, group_id=self.config.group_id
        )
        if current is None:
            missing = [name for name in ("firstname", "lastname") if not body.get(name)]
            if missing:
                raise RecordError(
                    f"Magento requires {' and '.join(missing)} to create a customer; "
                    f"hub customer {change.hub_id} has none"
                )
            return await self.client.create_customer(body)
        if body == current:
            return current  # Magento holds these values already: nothing to send
        return await self.client.update_customer(str(current["id"]), body)

    async def _delete(self, external_id: str | None) -> None:
        """Erase; a customer already gone is erased, not an error."""
        if external_id and await self.client.find_customer(external_id) is not None:
            await self.client.delete_customer(external_id)

    async def aclose(self) -> None:
        await self.client.aclose()
