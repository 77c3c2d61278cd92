"""The pull path with the file connector on both store backends."""

from __future__ import annotations

import asyncio
import csv
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import func, select

from connectors.files.config import FilesConfig
from connectors.files.connector import FilesConnector
from hub.connector import Page, RawRecord
from hub.engine.context import StreamContext
from hub.engine.pull import pull_stream
from hub.store.database import Store
from hub.store.tables import CustomerRow, DeadLetter, Link, OrderLineRow, OrderRow, SyncState
from tests.hub.engine.fakes import ListConnector, pull

SAMPLES = Path(__file__).parents[3] / "config"
CUSTOMER_COLUMNS = {
    "id": "external_id",
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "phone": "phone",
    "country": "address.country",
    "newsletter": "consent.email",
}
ORDER_COLUMNS = {
    "order_id": "external_id",
    "customer_id": "customer_ref",
    "placed_at": "placed_at",
    "currency": "currency",
    "total": "total",
    "status": "status",
    "sku": "line.sku",
    "product": "line.name",
    "qty": "line.quantity",
    "price": "line.unit_price",
}


def _connector(tmp_path: Path) -> FilesConnector:
    for name in ("sample-customers.csv", "sample-orders.csv"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    config = FilesConfig.model_validate(
        {
            "path": tmp_path / "sample-customers.csv",
            "columns": CUSTOMER_COLUMNS,
            "page_size": 50,
            "orders": {"path": tmp_path / "sample-orders.csv", "columns": ORDER_COLUMNS},
        }
    )
    return FilesConnector(config, connection="sheet")


def _count(store: Store, table: type) -> int:
    with store.session() as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


@pytest.mark.anyio
async def test_pull_stores_customers_orders_and_dead_letters(store: Store, tmp_path: Path) -> None:
    connector = _connector(tmp_path)
    customers = StreamContext(store, connector, "customers", run_id=1)
    await pull_stream(customers)
    orders = StreamContext(store, connector, "orders", run_id=1)
    await pull_stream(orders)

    assert customers.counts["read"] == 253
    assert customers.counts["created"] == 250 == _count(store, CustomerRow)
    assert customers.counts["dead_letters"] == 3 == _count(store, DeadLetter)
    with store.session() as session:
        errors = {d.external_id: d.error for d in session.exec(select(DeadLetter))}
        assert "emails.0" in errors["C90001"] and "ann@@example.com" in errors["C90001"]
        assert "phones" in errors["C90002"]
        assert "addresses.0.country" in errors["C90003"]
        buyer = session.exec(select(Link).where(Link.external_id == "C00001")).one().hub_id
        first_order = session.exec(
            select(OrderRow).where(OrderRow.customer_hub_id == buyer)
        ).first()
        assert first_order is not None and first_order.currency == "EUR"
    assert orders.counts["dead_letters"] == 0
    assert _count(store, OrderRow) == orders.counts["created"] > 0
    with (tmp_path / "sample-orders.csv").open() as handle:
        line_rows = list(csv.DictReader(handle))
    assert orders.counts["created"] == len({row["order_id"] for row in line_rows})
    assert _count(store, OrderLineRow) == len(line_rows)


@pytest.mark.anyio
async def test_second_pull_of_an_unchanged_file_reads_nothing(store: Store, tmp_path: Path) -> None:
    connector = _connector(tmp_path)
    await pull_stream(StreamContext(store, connector, "customers", run_id=1))
    again = StreamContext(store, connector, "customers", run_id=2)
    await pull_stream(again)
    assert again.counts["read"] == 0


@pytest.mark.anyio
async def test_full_pull_rereads_and_changes_nothing(store: Store, tmp_path: Path) -> None:
    connector = _connector(tmp_path)
    await pull_stream(StreamContext(store, connector, "customers", run_id=1))
    full = StreamContext(store, connector, "customers", run_id=2)
    await pull_stream(full, full=True)
    assert (full.counts["read"], full.counts["unchanged"], full.counts["created"]) == (253, 250, 0)
    assert _count(store, CustomerRow) == 250


class CrashAfterPages(Exception):
    pass


@pytest.mark.anyio
@pytest.mark.parametrize("pages_per_commit", [1, 2])
@pytest.mark.parametrize("crash_after", [1, 3])
async def test_a_crash_resumes_from_the_last_committed_page(
    store: Store, tmp_path: Path, crash_after: int, pages_per_commit: int
) -> None:
    """``on_page`` raising stops the run; every page of the commit it heard of is still reported."""
    connector = _connector(tmp_path)
    reported = 0

    def crash(ctx: StreamContext, page: object) -> None:
        nonlocal reported
        reported += 1
        if reported == crash_after:
            raise CrashAfterPages

    ctx = StreamContext(store, connector, "customers", run_id=1)
    ctx.commit_records = 50 * pages_per_commit
    with pytest.raises(CrashAfterPages):
        await pull_stream(ctx, on_page=crash)
    committed = -(-crash_after // pages_per_commit) * pages_per_commit
    assert reported == committed
    assert _count(store, CustomerRow) == 50 * committed
    with store.session() as session:
        assert session.get_one(SyncState, ("sheet", "customers")).cursor is not None
    resumed = StreamContext(store, connector, "customers", run_id=2)
    await pull_stream(resumed)
    assert resumed.counts["read"] == 253 - 50 * committed
    assert _count(store, CustomerRow) == 250


class ReadFails(Exception):
    pass


class FailingRead(ListConnector):
    """Serves its pages, then fails reading the one after ``fail_after`` (a dropped connection)."""

    def __init__(self, records: list[RawRecord], fail_after: int) -> None:
        super().__init__("shop", records, page_size=2)
        self.fail_after = fail_after

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        served = 0
        async for page in super().read(stream, cursor):
            if served == self.fail_after:
                raise ReadFails
            served += 1
            yield page


@pytest.mark.anyio
async def test_a_read_error_lets_the_page_being_committed_finish_first(store: Store) -> None:
    """Page k commits while page k+1 is read: an error in that read must not lose page k."""
    records = [{"id": f"c{n}", "emails": [f"c{n}@example.com"]} for n in range(6)]
    reported: list[str | None] = []
    ctx = StreamContext(store, FailingRead(records, fail_after=2), "customers", run_id=1)
    with pytest.raises(ReadFails):
        await pull_stream(ctx, on_page=lambda _, page: reported.append(page.cursor))
    assert reported == ["2", "4"], "every committed page is reported, the last one too"
    assert ctx.counts["read"] == 4
    with store.session() as session:
        assert session.get_one(SyncState, ("shop", "customers")).cursor == "4"
    assert _count(store, CustomerRow) == 4
    resumed = await pull(store, FailingRead(records, fail_after=99), run_id=2)
    assert resumed.counts["read"] == 2
    assert _count(store, CustomerRow) == 6


def _commits(store: Store) -> list[int]:
    """Counts the store's commits into the list it returns."""
    made: list[int] = []
    event.listen(store.engine, "commit", lambda _: made.append(1))
    return made


@pytest.mark.anyio
@pytest.mark.parametrize(("commit_records", "expected"), [(1, 5), (4, 3), (1000, 1)])
async def test_one_transaction_covers_pages_until_enough_records_are_staged(
    store: Store, commit_records: int, expected: int
) -> None:
    records = [{"id": f"c{n}", "emails": [f"c{n}@example.com"]} for n in range(9)]
    reported: list[tuple[str | None, str | None]] = []

    def cursor() -> str | None:
        with store.session() as session:
            state = session.get(SyncState, ("shop", "customers"))
            return state.cursor if state else None

    ctx = StreamContext(store, ListConnector("shop", records, page_size=2), "customers", run_id=1)
    ctx.commit_records = commit_records
    commits = _commits(store)
    await pull_stream(ctx, on_page=lambda _, page: reported.append((page.cursor, cursor())))

    assert len(commits) == expected
    assert [page for page, _ in reported] == ["2", "4", "6", "8", "9"]
    assert all(int(stored or 0) >= int(page or 0) for page, stored in reported), (
        "a page is reported once the store holds it"
    )
    assert cursor() == "9" and _count(store, CustomerRow) == 9


class SlowVendor(ListConnector):
    """After its first page, waits until the store holds it before serving the next."""

    def __init__(self, store: Store, records: list[RawRecord]) -> None:
        super().__init__("shop", records, page_size=2)
        self.store = store
        self.waited_for: list[str | None] = []

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        first = True
        async for page in super().read(stream, cursor):
            if not first:
                self.waited_for.append(await self._stored_cursor())
            first = False
            yield page

    async def _stored_cursor(self) -> str | None:
        for _ in range(1000):  # up to 10 s: never reached unless the pull keeps its pages open
            with self.store.session() as session:
                state = session.get(SyncState, ("shop", "customers"))
            if state is not None and state.cursor is not None:
                return state.cursor
            await asyncio.sleep(0.01)
        return None


@pytest.mark.anyio
async def test_staged_pages_are_committed_while_the_next_page_is_awaited(store: Store) -> None:
    """A slow vendor does not keep the write transaction open, however many records fit in it."""
    records = [{"id": f"c{n}", "emails": [f"c{n}@example.com"]} for n in range(4)]
    vendor = SlowVendor(store, records)
    await pull(store, vendor, commit_records=1000)
    assert vendor.waited_for == ["2"]


@pytest.mark.anyio
async def test_a_record_staged_earlier_in_the_transaction_is_not_skipped_by_its_old_hash(
    store: Store,
) -> None:
    """An id read again before the pages holding its newer version commit is mapped again."""
    ann = {"id": "c1", "first_name": "Ann", "emails": ["ann@example.com"]}
    bob = {"id": "c2", "first_name": "Bob", "emails": ["bob@example.com"]}
    await pull(store, ListConnector("shop", [ann, bob], page_size=1))

    renamed = ann | {"first_name": "Anna"}
    reread = ListConnector("shop", [renamed, bob, ann], page_size=1)
    ctx = await pull(store, reread, full=True, run_id=2, commit_records=1000)

    assert ctx.counts["unchanged"] == 1  # bob only: the last c1 equals its stored hash
    with store.session() as session:
        [row] = session.exec(
            select(CustomerRow).where(CustomerRow.primary_email == "ann@example.com")
        )
    assert row.data["first_name"] == "Ann"
