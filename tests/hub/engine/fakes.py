"""An in-memory connector and store probes for the engine's tests.

The connector serves a list of raw dicts in pages of a chosen size; its cursor
is the offset reached, so a crash test can see exactly which page a run
resumes from. Records are plain canonical fields plus ``id`` (the vendor id),
so a test reads like the data it feeds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import select

from hub.connector import Connector, Page, RawRecord, SourceRecord
from hub.engine.context import StreamContext
from hub.engine.identity import IdentityRules
from hub.engine.merge import MergeRules
from hub.engine.pull import pull_stream
from hub.model import Campaign, Customer, Interaction, Order
from hub.store.database import Store
from hub.store.tables import Conflict, CustomerRow, Identifier, Link


class NoSettings(BaseModel):
    pass


class ListConnector(Connector):
    """Serves ``records[stream]`` in pages of ``page_size``; the cursor is the offset."""

    name = "memory"
    config_model: ClassVar[type[BaseModel]] = NoSettings
    reads = {
        "customers": Customer,
        "orders": Order,
        "interactions": Interaction,
        "campaigns": Campaign,
    }

    def __init__(
        self,
        connection: str,
        customers: Iterable[RawRecord] = (),
        *,
        orders: Iterable[RawRecord] = (),
        interactions: Iterable[RawRecord] = (),
        campaigns: Iterable[RawRecord] = (),
        page_size: int = 2,
        default_region: str | None = "ES",
    ) -> None:
        super().__init__(NoSettings(), connection=connection, default_region=default_region)
        self.records: dict[str, list[RawRecord]] = {
            "customers": list(customers),
            "orders": list(orders),
            "interactions": list(interactions),
            "campaigns": list(campaigns),
        }
        self.page_size = page_size

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        records = self.records[stream]
        offset = int(cursor or 0)
        while offset < len(records):
            batch = records[offset : offset + self.page_size]
            offset += len(batch)
            yield Page(records=[dict(r) for r in batch], cursor=str(offset))

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        data = dict(raw)
        external_id = str(data.pop("id"))
        context = {"default_region": self.default_region}
        record = self.reads[stream].model_validate(data, context=context)
        return SourceRecord(external_id, record, getattr(record, "updated_at", None))


async def pull(
    store: Store,
    connector: Connector,
    *,
    stream: str = "customers",
    identity: IdentityRules | None = None,
    merge: MergeRules | None = None,
    full: bool = False,
    run_id: int = 1,
    commit_records: int | None = None,
) -> StreamContext:
    """Pull one stream through the real engine path; return its context (counts)."""
    ctx = StreamContext(
        store,
        connector,
        stream,
        run_id=run_id,
        identity=identity or IdentityRules(),
        merge=merge or MergeRules(),
    )
    if commit_records is not None:
        ctx.commit_records = commit_records
    await pull_stream(ctx, full=full)
    return ctx


def customers(store: Store) -> list[dict[str, Any]]:
    """Every customer's canonical data, in a stable order."""
    with store.session() as session:
        rows = session.exec(select(CustomerRow)).all()
    return sorted((row.data for row in rows), key=lambda d: repr(sorted(d.items())))


def customer_of(store: Store, connection: str, external_id: str) -> str:
    with store.session() as session:
        link = session.exec(
            select(Link).where(
                Link.connection == connection,
                Link.object == "customer",
                Link.external_id == external_id,
            )
        ).one()
    return link.hub_id


def conflicts(store: Store, kind: str | None = None) -> list[Conflict]:
    with store.session() as session:
        query = select(Conflict).order_by(Conflict.id)  # type: ignore[arg-type]
        if kind is not None:
            query = query.where(Conflict.kind == kind)
        return list(session.exec(query).all())


def identifiers(store: Store) -> dict[tuple[str, str], tuple[str, bool]]:
    """(kind, value) -> (hub_id, shared)."""
    with store.session() as session:
        rows = session.exec(select(Identifier)).all()
    return {(row.kind, row.value): (row.hub_id, row.shared) for row in rows}


def count(store: Store, table: type[Any]) -> int:
    with store.session() as session:
        return int(session.exec(select(func.count()).select_from(table)).one())
