"""Erasure: gone from the hub, deletes queued and sent, and never pulled back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import func, select

from connectors.files.config import FilesConfig
from connectors.files.connector import FilesConnector
from hub.engine.context import StreamContext
from hub.engine.erase import erase
from hub.engine.outbox import enqueue
from hub.engine.pull import pull_stream
from hub.engine.push import push_stream
from hub.store.database import Store
from hub.store.tables import Audit, CustomerRow, DeadLetter, Identifier, Link, Tombstone
from tests.hub.engine.test_convergence_properties import SYSTEMS, World

ANN = {
    "external_id": "7",
    "first_name": "Ann",
    "emails": ["ann@example.com"],
    "phones": ["+34612345678"],
}
BOB = {"external_id": "8", "first_name": "Bob", "emails": ["bob@example.com"]}


def _jsonl(path: Path, people: list[dict[str, object]]) -> FilesConnector:
    path.write_text("".join(json.dumps(p) + "\n" for p in people))
    return FilesConnector(FilesConfig(path=path), connection=path.stem)


def _count(store: Store, table: type) -> int:
    with store.session() as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


@pytest.mark.anyio
async def test_erasure_reaches_the_targets_and_no_pull_brings_the_person_back(
    store: Store, tmp_path: Path
) -> None:
    shop = _jsonl(tmp_path / "shop.jsonl", [ANN, BOB])
    await pull_stream(StreamContext(store, shop, "customers", run_id=1))
    mail = FilesConnector(FilesConfig(path=tmp_path / "mail.jsonl"), connection="mail")
    with store.session() as session:
        enqueue(
            session,
            stream="customers",
            hub_ids=session.exec(select(CustomerRow.hub_id)).all(),
            targets=["mail"],
            origin="shop",
        )
        session.commit()
    await push_stream(StreamContext(store, mail, "customers", run_id=2))
    assert len((tmp_path / "mail.jsonl").read_text().splitlines()) == 2

    with store.session() as session:
        done = erase(session, "ANN@example.com", delete_targets=["mail"])
    assert done.deletes_queued == ["mail"] and done.tombstones == 2
    assert _count(store, CustomerRow) == 1 and _count(store, Tombstone) == 2
    with store.session() as session:
        assert "ann@example.com" not in {i.value for i in session.exec(select(Identifier))}
        assert all(link.external_id != "7" for link in session.exec(select(Link)))
        [audit] = session.exec(select(Audit).where(Audit.action == "erase"))
        assert audit.hub_id is None and "ann" not in json.dumps(audit.details).lower()

    await push_stream(StreamContext(store, mail, "customers", run_id=3))
    remaining = [json.loads(line) for line in (tmp_path / "mail.jsonl").read_text().splitlines()]
    assert [r["emails"] for r in remaining] == [["bob@example.com"]]

    # every source still holding her, by e-mail or by phone only, is refused
    crm = _jsonl(tmp_path / "crm.jsonl", [{"external_id": "c1", "phones": ["+34 612 345 678"]}])
    for source in (shop, crm):
        ctx = StreamContext(store, source, "customers", run_id=4)
        await pull_stream(ctx, full=True)
    assert _count(store, CustomerRow) == 1
    with store.session() as session:
        letters = list(session.exec(select(DeadLetter).where(DeadLetter.reason == "erased")))
    assert {(d.connection, d.external_id) for d in letters} == {("shop", "7"), ("crm", "c1")}
    assert all(d.payload == {} for d in letters)


def test_erasing_someone_unknown_changes_nothing(store: Store) -> None:
    with store.session() as session, pytest.raises(Exception, match="nothing was erased"):
        erase(session, "nobody@example.com", delete_targets=[])
    assert _count(store, Tombstone) == 0


@pytest.mark.anyio
async def test_an_erased_person_stays_erased_through_pulls_of_every_source(store: Store) -> None:
    """Three systems hold her; one cannot delete. Every later pass, with edits made to her
    record where it survives, refuses her and recreates her nowhere."""
    world = World(store)
    world.clock.tick()
    for name in SYSTEMS:
        world.systems[name].create({"emails": ["p0@example.com"], "first_name": "Ann"})
    world.systems["shop"].create({"emails": ["p1@example.com"], "first_name": "Bob"})
    await world.sync_pass(list(SYSTEMS), list(SYSTEMS))
    assert all(len(s.rows) == 2 for s in world.systems.values())

    with store.session() as session:
        done = erase(session, "p0@example.com", delete_targets=["shop", "news"])
    assert done.deletes_queued == ["news", "shop"]
    crm = world.systems["crm"]  # it cannot delete: she stays there
    [kept] = crm.by_email("p0@example.com")
    for round_ in range(2):
        world.clock.tick()
        crm.edit(kept, first_name=f"Ann{round_}")  # an outside edit: read again, refused again
        await world.sync_pass(list(SYSTEMS), list(reversed(SYSTEMS)))
    assert [s.by_email("p0@example.com") for s in world.systems.values()] == [[], [kept], []]
    assert all(len(s.rows) == n for s, n in zip(world.systems.values(), (1, 2, 1), strict=True))
    with store.session() as session:
        letters = session.exec(select(DeadLetter).where(DeadLetter.reason == "erased")).all()
        assert {(d.connection, d.external_id) for d in letters} == {("crm", kept)}
        assert all(d.payload == {} for d in letters)
        assert _count(store, CustomerRow) == 1
        assert "p0@example.com" not in {i.value for i in session.exec(select(Identifier))}
