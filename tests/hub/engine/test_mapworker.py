"""Mapping a pull's customers in a worker process: the same store, or mapping stays here."""

from __future__ import annotations

import csv
import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from connectors.files.config import FilesConfig
from connectors.files.connector import FilesConnector
from hub.connector import Connector, Page, RawRecord, SourceRecord
from hub.engine.context import StreamContext
from hub.engine.mapping import MappedPage, PageMapper, Todo
from hub.engine.pull import pull_stream
from hub.store.database import Store, open_store
from hub.store.tables import Conflict, CustomerRow, DeadLetter, Identifier, Link
from hub.testing.fake import fake_people
from tests.hub.engine.fakes import ListConnector
from tests.hub.engine.test_pull import CUSTOMER_COLUMNS as COLUMNS

ROWS = 300
WORKER_LOG = "mapping in a worker process from record 1 on"


def _shop_file(folder: Path) -> FilesConfig:
    """Customers in pages of 40: every 10th is the one before again under another id, every
    15th shares the e-mail of the one before, every 37th has an address no one can write to."""
    path = folder / "customers.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        row: list[Any] = []
        for person in fake_people(ROWS):
            n = person.number
            email = "not an address" if n % 37 == 0 else person.email
            if n % 15 == 0:
                email = row[1]
            if n % 10 != 0:
                consent = "yes" if person.email_consent else "no"
                row = [email, person.first_name, person.last_name, person.phone]
                row = [n, *row, person.country, consent]
            writer.writerow([n, *row[1:]])
    return FilesConfig.model_validate({"path": path, "columns": COLUMNS, "page_size": 40})


def _snapshot(store: Store) -> dict[str, Any]:
    """What a pull stored, without the hub ids (random per process) that name it."""
    with store.session() as session:
        hub_ids = {row.hub_id: row.data for row in session.exec(select(CustomerRow))}
        links = session.exec(select(Link)).all()
        return {
            "customers": sorted(str(sorted(data.items())) for data in hub_ids.values()),
            "people": sorted(
                sorted(link.external_id for link in links if link.hub_id == hub_id)
                for hub_id in hub_ids
            ),
            "bases": sorted((link.external_id, str(link.base), link.raw_hash) for link in links),
            "identifiers": sorted(
                (row.kind, row.value) for row in session.exec(select(Identifier))
            ),
            "conflicts": sorted(
                (row.kind, str(row.candidates.get("reason")))
                for row in session.exec(select(Conflict))
            ),
            "dead_letters": sorted(
                (letter.external_id or "", letter.error or "", str(letter.payload))
                for letter in session.exec(select(DeadLetter))
            ),
        }


@contextmanager
def _two_stores(folder: Path) -> Iterator[tuple[Store, Store]]:
    """Two empty stores: one for a pull mapped here, one for the same pull mapped there."""
    here, there = (open_store(f"sqlite:///{folder / name}.db") for name in ("here", "there"))
    try:
        yield here, there
    finally:
        here.close()
        there.close()


async def _pull(store: Store, connector: Connector, worker_after: int | None) -> StreamContext:
    ctx = StreamContext(store, connector, "customers", run_id=1)
    ctx.worker_after = worker_after
    await pull_stream(ctx)
    return ctx


@pytest.mark.anyio
async def test_a_pull_mapped_in_the_worker_stores_what_one_mapped_here_stores(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = _shop_file(tmp_path)
    with _two_stores(tmp_path) as (here, there):
        mapped_here = await _pull(here, FilesConnector(config, connection="shop"), None)
        assert WORKER_LOG not in caplog.text
        with caplog.at_level(logging.INFO, logger="hub.engine.mapping"):
            mapped_there = await _pull(there, FilesConnector(config, connection="shop"), 0)
        assert WORKER_LOG in caplog.text
        assert mapped_there.counts == mapped_here.counts
        assert all(mapped_here.counts[name] > 0 for name in ("merged", "conflicts", "dead_letters"))
        assert _snapshot(there) == _snapshot(here)


async def _no_worker(self: PageMapper) -> None:
    raise AssertionError("a worker process was started")


@pytest.mark.anyio
async def test_a_pull_under_the_threshold_starts_no_worker(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PageMapper, "_start", _no_worker)
    ctx = await _pull(store, FilesConnector(_shop_file(tmp_path), connection="shop"), ROWS + 1)
    assert ctx.counts["read"] == ROWS


@pytest.mark.anyio
async def test_a_connector_that_does_not_declare_its_mapping_pure_is_mapped_here(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PageMapper, "_start", _no_worker)
    people = [{"id": n, "emails": [f"p{n}@example.com"]} for n in range(10)]
    ctx = await _pull(store, ListConnector("crm", people), 0)
    assert ctx.counts["created"] == 10


@pytest.mark.anyio
async def test_a_worker_that_cannot_build_the_connector_leaves_the_mapping_here(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Unsendable(FilesConnector):  # a class inside a function cannot be sent by name
        pass

    config = _shop_file(tmp_path)
    with _two_stores(tmp_path) as (here, there):
        await _pull(here, Unsendable(config, connection="shop"), None)
        ctx = await _pull(there, Unsendable(config, connection="shop"), 0)
        assert "the mapping worker process failed" in caplog.text
        assert "mapping in this process instead" in caplog.text
        assert ctx.counts["read"] == ROWS
        assert _snapshot(there) == _snapshot(here)


class OnlyHere(FilesConnector):
    """A connector that cannot be built in another process: a licence loaded here at run
    time (the test sets ``licensed``), which a class sent by name does not carry."""

    licensed = False

    def __init__(self, config: Any, *, connection: str, default_region: str | None = None):
        if not self.licensed:
            raise RuntimeError("no licence file in this process")
        super().__init__(config, connection=connection, default_region=default_region)


@pytest.mark.anyio
async def test_a_worker_that_cannot_build_its_connector_says_why(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(OnlyHere, "licensed", True)
    ctx = await _pull(store, OnlyHere(_shop_file(tmp_path), connection="shop"), 0)
    assert "the worker could not build the connector: RuntimeError: no licence file" in caplog.text
    assert ctx.counts["read"] == ROWS


class Buggy(FilesConnector):
    """A mapping with a bug that only one record meets."""

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        if raw["id"] == "250":
            raise KeyError("loyalty_tier")
        return super().to_canonical(stream, raw)


@pytest.mark.anyio
async def test_a_mapping_bug_in_the_worker_fails_the_pull_as_it_would_here(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(KeyError, match="loyalty_tier"):
        await _pull(store, Buggy(_shop_file(tmp_path), connection="shop"), 0)
    assert "the mapping worker process failed (IncompleteReadError" in caplog.text
    with store.session() as session:  # the pages before the bad one are kept
        assert len(session.exec(select(Link)).all()) >= 200


def _kill_mapping_workers() -> int:
    """Kill this process's mapping workers, found as any process list would show them."""
    killed = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except OSError:
            continue
        if parent == os.getpid() and b"hub.engine.mapworker" in command:
            os.kill(int(entry.name), signal.SIGKILL)
            killed += 1
    return killed


@pytest.mark.anyio
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker in /proc")
async def test_a_worker_that_dies_mid_pull_leaves_the_rest_to_this_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapped_by_worker = PageMapper.map
    killed: list[int] = []

    async def map_then_kill_the_worker(self: PageMapper, page: Page, todo: Todo) -> MappedPage:
        mapped = await mapped_by_worker(self, page, todo)
        killed.append(_kill_mapping_workers())
        return mapped

    config = _shop_file(tmp_path)
    with _two_stores(tmp_path) as (here, there):
        await _pull(here, FilesConnector(config, connection="shop"), None)
        monkeypatch.setattr(PageMapper, "map", map_then_kill_the_worker)
        with caplog.at_level(logging.INFO, logger="hub.engine.mapping"):
            ctx = await _pull(there, FilesConnector(config, connection="shop"), 0)
        assert killed[0] == 1 and sum(killed) == 1
        assert WORKER_LOG in caplog.text
        assert "the mapping worker process failed (IncompleteReadError" in caplog.text
        assert ctx.counts["read"] == ROWS
        assert _snapshot(there) == _snapshot(here)
