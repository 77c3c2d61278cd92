"""A push killed at any point after the vendor took the write duplicates nothing.

The target hands out its own ids and finds a record without one by its
natural key (tests/hub/engine/remote.py), as vendors do; the hub learns the id
only from the write's answer. A crash is injected into the second batch:

- after the vendor accepted it, before the hub recorded anything;
- after the links and shadows are written in the transaction, before the outbox
  rows are acknowledged;
- at the commit of that transaction;
- just after the commit, before the next batch.

The next push resumes, and the target must then hold every person exactly
once, every link must point at that one record, and nothing may stay queued.
A further push writes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

import hub.engine.push
from hub.engine.context import StreamContext
from hub.engine.outbox import enqueue
from hub.engine.pull import pull_stream
from hub.engine.push import push_stream
from hub.store.database import Store
from hub.store.tables import CustomerRow, Link, Outbox
from tests.hub.engine.fakes import ListConnector
from tests.hub.engine.remote import Clock, RemoteSystem

pytestmark = pytest.mark.anyio

PEOPLE = 5
BATCH = 2


class Crash(Exception):
    pass


async def _queued(store: Store) -> None:
    shop = ListConnector(
        "shop",
        [
            {"id": str(i), "first_name": f"P{i}", "emails": [f"p{i}@example.com"]}
            for i in range(PEOPLE)
        ],
    )
    await pull_stream(StreamContext(store, shop, "customers", run_id=1))
    with store.session() as session:
        ids = session.exec(select(CustomerRow.hub_id)).all()
        enqueue(session, stream="customers", hub_ids=ids, targets=["mail"], origin="shop")
        session.commit()


def _inject(patch: pytest.MonkeyPatch, point: str) -> None:
    """Crash the second batch at ``point``; the first goes through."""
    record, acknowledge, commit = (
        hub.engine.push._record,
        hub.engine.push._acknowledge,
        Session.commit,
    )
    batches = 0
    in_record = False

    def crashing_record(*args: Any) -> None:
        nonlocal batches, in_record
        batches += 1
        if batches != 2:
            return record(*args)
        if point == "before-record":
            raise Crash
        in_record = True
        try:
            record(*args)
        finally:
            in_record = False
        if point == "after-commit":
            raise Crash

    def crashing_acknowledge(session: Session, *args: Any) -> None:
        if in_record and point == "before-acknowledge":
            session.flush()  # the links and shadows are in the transaction now
            raise Crash
        acknowledge(session, *args)

    def crashing_commit(self: Session) -> None:
        if in_record and point == "at-commit":
            raise Crash
        commit(self)

    patch.setattr(hub.engine.push, "_record", crashing_record)
    patch.setattr(hub.engine.push, "_acknowledge", crashing_acknowledge)
    patch.setattr(Session, "commit", crashing_commit)


@pytest.mark.parametrize(
    "point", ["before-record", "before-acknowledge", "at-commit", "after-commit"]
)
async def test_a_crashed_push_resumes_without_duplicates(
    store: Store, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    await _queued(store)
    mail = RemoteSystem("mail", held=frozenset({"first_name", "emails"}), clock=Clock())
    with monkeypatch.context() as patch:
        _inject(patch, point)
        with pytest.raises(Crash):
            await push_stream(StreamContext(store, mail, "customers", run_id=2), batch_size=BATCH)
    assert len(mail.rows) == 2 * BATCH  # the vendor took the second batch before the crash

    resumed = StreamContext(store, mail, "customers", run_id=3)
    await push_stream(resumed, batch_size=BATCH)
    assert len(mail.rows) == PEOPLE
    assert sorted(r["emails"][0] for r in mail.rows.values()) == [
        f"p{i}@example.com" for i in range(PEOPLE)
    ]
    with store.session() as session:
        links = session.exec(select(Link).where(Link.connection == "mail")).all()
        pending = session.exec(select(Outbox).where(Outbox.status == "pending")).all()
    assert sorted(link.external_id for link in links) == sorted(mail.rows)
    assert len({link.hub_id for link in links}) == PEOPLE and pending == []

    written = mail.written
    with store.session() as session:
        ids = session.exec(select(CustomerRow.hub_id)).all()
        enqueue(session, stream="customers", hub_ids=ids, targets=["mail"], origin="shop")
        session.commit()
    await push_stream(StreamContext(store, mail, "customers", run_id=4), batch_size=BATCH)
    assert mail.written == written  # every link knows its record: nothing left to write
