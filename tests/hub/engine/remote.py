"""A connected system with its own store, for tests of the push side.

Unlike :class:`tests.hub.engine.fakes.ListConnector`, which only serves a list,
this one behaves like a vendor that the hub writes to:

- it assigns its own record ids, and an upsert without an id finds an
  existing record by its natural key (the primary e-mail), as Mailchimp's
  member hash or a CRM's duplicate check do;
- every change, from outside or from the hub, bumps the record's change
  number and its ``updated_at`` on the system's clock, so the hub's own writes
  come back on the next pull, exactly as echoes do;
- it keeps only the fields it holds, replaces them on a write, and keeps the
  consent of a channel a write does not mention (vendors store a status per
  list or channel and change only the ones sent);
- it counts the records written to it, so a test can assert that a quiet round
  writes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import BaseModel

from hub.connector import Change, Connector, Page, RawRecord, SourceRecord, WriteResult
from hub.model import Customer
from tests.hub.engine.fakes import NoSettings

__all__ = ["Clock", "RemoteSystem"]


class Clock:
    """A shared test clock: every outside edit and every vendor write happens at ``now()``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.at = start or datetime(2024, 3, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def tick(self, minutes: float = 60) -> datetime:
        self.at += timedelta(minutes=minutes)
        return self.at


class RemoteSystem(Connector):
    """Customers in memory, keyed by ids this system hands out."""

    name = "remote"
    config_model: ClassVar[type[BaseModel]] = NoSettings
    reads = {"customers": Customer}
    writes = {"customers": Customer}
    deletes = frozenset({"customers"})

    def __init__(
        self,
        connection: str,
        *,
        held: frozenset[str],
        clock: Clock,
        page_size: int = 3,
        address_parts: frozenset[str] | None = None,
    ) -> None:
        super().__init__(NoSettings(), connection=connection, default_region="ES")
        self.held = held
        self.address_parts = address_parts
        self.clock = clock
        self.page_size = page_size
        self.rows: dict[str, dict[str, Any]] = {}
        self.changed: dict[str, int] = {}
        self.sequence = 0
        self.written = 0

    def fields_held(self, stream: str) -> frozenset[str] | None:
        return self.held

    # --- what happens in the system itself -------------------------------------------------
    def create(self, data: dict[str, Any]) -> str:
        """A record made in this system (by a person, an import, a sign-up form)."""
        external_id = f"{self.connection}-{len(self.rows) + 1}"
        self._store(external_id, self._held(data))
        return external_id

    def edit(self, external_id: str, **fields: Any) -> None:
        """A person edits the record here; a None value clears the field."""
        row = {**self.rows[external_id], **fields}
        self._store(external_id, self._held({k: v for k, v in row.items() if v is not None}))

    def by_email(self, email: str) -> list[str]:
        return [e for e, row in self.rows.items() if email in row.get("emails", [])]

    def _held(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.held_view("customers", {k: v for k, v in data.items() if k in self.held})

    def held_view(self, stream: str, data: dict[str, Any]) -> dict[str, Any]:
        """With ``address_parts``: one address of those parts (a newsletter's merge field)."""
        addresses = data.get("addresses")
        if self.address_parts is None or not addresses:
            return data
        first = {k: v for k, v in addresses[0].items() if k in self.address_parts}
        return {**data, "addresses": [first]}

    def _store(self, external_id: str, data: dict[str, Any]) -> None:
        """Keep the record as the system would show it: normalised, empty fields left out."""
        data = Customer.model_validate(data, context={"default_region": "ES"}).canonical_dict()
        self.sequence += 1
        self.changed[external_id] = self.sequence
        self.rows[external_id] = {**data, "updated_at": self.clock.now().isoformat()}

    # --- the connector contract ------------------------------------------------------------
    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        after = int(cursor or 0)
        due = sorted((seq, e) for e, seq in self.changed.items() if seq > after)
        for start in range(0, len(due), self.page_size):
            batch = due[start : start + self.page_size]
            records = [{"id": e, **self.rows[e]} for _, e in batch if e in self.rows]
            gone = [e for _, e in batch if e not in self.rows]
            yield Page(records=records, cursor=str(batch[-1][0]), deleted=gone)

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        data = dict(raw)
        external_id = str(data.pop("id"))
        record = Customer.model_validate(data, context={"default_region": "ES"})
        return SourceRecord(external_id, record, record.updated_at)

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        results = []
        for change in changes:
            self.written += 1
            external_id = change.external_id
            if change.op == "delete":
                if external_id in self.rows:
                    del self.rows[external_id]
                    self.sequence += 1
                    self.changed[external_id] = self.sequence
                results.append(WriteResult(change.hub_id, external_id))
                continue
            data = self._held(change.record.canonical_dict())
            if external_id not in self.rows:
                email = (data.get("emails") or [None])[0]
                found = self.by_email(email) if email else []
                external_id = found[0] if found else None
            if external_id is None:
                external_id = self.create(data)
            else:
                kept = self.rows[external_id].get("consents", {})
                consents = {**kept, **data.get("consents", {})}
                self._store(external_id, {**data, **({"consents": consents} if consents else {})})
            results.append(WriteResult(change.hub_id, external_id, written=self.rows[external_id]))
        return results
