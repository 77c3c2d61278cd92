"""A crash at any point of a page's commit loses nothing and applies nothing twice.

The stream below makes every kind of row on every page (customers, links,
identifiers, an identity review, a merge with its audit row, a dead letter),
so a page applied twice or half-applied would show in the counts. A crash is
injected into page ``k`` before it is applied, in the middle of its writes,
at the commit that covers it, and just after that commit; the next run
resumes, and the store must then equal that of a run that never crashed.
Each case runs with one page per transaction and with several: a crash then
also takes back the pages staged before page ``k`` in its transaction.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import Session, select

import hub.engine.customers
import hub.engine.pull
from hub.connector import Page
from hub.engine.context import StreamContext
from hub.engine.identity import IdentityRules
from hub.engine.pull import pull_stream
from hub.store.database import Store, open_store
from hub.store.tables import Audit, Conflict, CustomerRow, DeadLetter, Identifier, Link, SyncState
from tests.hub.engine.fakes import ListConnector, pull

pytestmark = pytest.mark.anyio

PHONE = "+34611222333"
RECORDS = [
    # page 1
    {"id": "s1", "first_name": "Ann", "last_name": "Lee", "emails": ["ann@example.com"]},
    {"id": "s2", "first_name": "Bob", "last_name": "Ray", "emails": ["bob@example.com"]},
    {"id": "s3", "first_name": "Cid", "last_name": "Day", "phones": [PHONE]},
    # page 2: a family address (review), a bad record (dead letter), a second account
    {"id": "s4", "first_name": "Dan", "last_name": "Lee", "emails": ["ann@example.com"]},
    {"id": "s5", "first_name": "Eve", "emails": ["eve@@example.com"]},
    {"id": "s6", "first_name": "Cid", "last_name": "Day", "emails": ["cid@example.com"]},
    # page 3: one record proves s3 and s6 are one person (merge + audit)
    {"id": "s7", "first_name": "Cid", "emails": ["cid@example.com"], "phones": [PHONE]},
    {"id": "s8", "first_name": "Fay", "last_name": "Kay", "emails": ["fay@example.com"]},
    {
        "id": "s9",
        "first_name": "Bob",
        "last_name": "Ray",
        "tags": ["vip"],
        "emails": ["bob@example.com"],
    },
    # page 4
    {"id": "s10", "first_name": "Gus", "last_name": "Orr", "phones": ["+34611222444"]},
]
PAGES = 4
RULES = IdentityRules()


class Crash(Exception):
    pass


def _connector() -> ListConnector:
    return ListConnector("shop", RECORDS, page_size=3)


def _snapshot(store: Store) -> dict[str, Any]:
    """The store's content without hub ids: which records are one customer, and what it holds."""
    with store.session() as session:
        links = session.exec(select(Link)).all()
        group = {
            hub_id: ",".join(sorted(link.external_id for link in links if link.hub_id == hub_id))
            for hub_id in {link.hub_id for link in links}
        }
        customers = session.exec(select(CustomerRow)).all()
        state = session.get(SyncState, ("shop", "customers"))
        return {
            "customers": sorted((group[c.hub_id], repr(sorted(c.data.items()))) for c in customers),
            "links": len(links),
            "identifiers": sorted(
                (i.kind, i.value, i.shared, group.get(i.hub_id, "?"))
                for i in session.exec(select(Identifier))
            ),
            "conflicts": sorted(
                (c.kind, c.candidates.get("reason"), group.get(c.hub_id or "", "?"))
                for c in session.exec(select(Conflict))
            ),
            "audits": sorted(
                (a.action, group.get(a.hub_id or "", "?")) for a in session.exec(select(Audit))
            ),
            "dead_letters": sorted(d.external_id or "" for d in session.exec(select(DeadLetter))),
            "cursor": state.cursor if state else None,
        }


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Any]]:
    """The snapshot after each page of a run that never crashed (SQLite, a page per commit)."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('clean') / 'crmhub.db'}")
    snapshots = {0: _snapshot(store)}

    def record(ctx: StreamContext, page: Page) -> None:
        snapshots[len(snapshots)] = _snapshot(store)

    ctx = StreamContext(store, _connector(), "customers", run_id=1, identity=RULES)
    ctx.commit_records = 1
    try:
        asyncio.run(pull_stream(ctx, on_page=record))
    finally:
        store.close()
    return snapshots


async def test_the_stream_exercises_every_row_kind(store: Store) -> None:
    """Guards the premise: a clean run really writes reviews, merges and dead letters."""
    await pull(store, _connector(), identity=RULES)
    snap = _snapshot(store)
    assert [c[1] for c in snap["conflicts"]] == [
        "shares ann@example.com with a different first name"
    ]
    assert snap["audits"] == [("merge", "s3,s6,s7")]
    assert snap["dead_letters"] == ["s5"]
    assert (
        "s2,s9",
        repr(
            sorted(
                {
                    "first_name": "Bob",
                    "last_name": "Ray",
                    "emails": ["bob@example.com"],
                    "tags": ["vip"],
                }.items()
            )
        ),
    ) in snap["customers"]
    assert snap["cursor"] == str(len(RECORDS))


def _inject(monkeypatch: pytest.MonkeyPatch, point: str, page: int) -> None:
    """Make page ``page`` crash at ``point``; the pages before it are applied normally."""
    original = hub.engine.pull.stage_page
    staged = 0
    crashing = False

    def stage_page(*args: Any, **kwargs: Any) -> Any:
        nonlocal staged, crashing
        staged += 1
        if staged != page:
            return original(*args, **kwargs)
        if point == "before-page":
            raise Crash
        crashing = True
        try:
            return original(*args, **kwargs)
        finally:
            crashing = False

    write_identifiers = hub.engine.customers._write_identifiers

    def mid_write(*args: Any) -> None:
        if crashing and point == "mid-write":
            raise Crash
        write_identifiers(*args)

    session_commit = Session.commit

    def commit(self: Session) -> None:
        """The commit that covers page ``page`` is the first one after it was staged."""
        if staged >= page and point == "at-commit":
            raise Crash
        session_commit(self)
        if staged >= page and point == "after-commit":
            raise Crash

    monkeypatch.setattr(hub.engine.pull, "stage_page", stage_page)
    monkeypatch.setattr(hub.engine.customers, "_write_identifiers", mid_write)
    monkeypatch.setattr(Session, "commit", commit)


@pytest.mark.parametrize("group", [1, 2, 3], ids=lambda g: f"{g}-pages-per-commit")
@pytest.mark.parametrize("point", ["before-page", "mid-write", "at-commit", "after-commit"])
@pytest.mark.parametrize("page", [2, 3])
async def test_a_crash_resumes_with_nothing_lost_or_applied_twice(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    clean: dict[int, dict[str, Any]],
    point: str,
    page: int,
    group: int,
) -> None:
    connector = _connector()
    commit_records = group * connector.page_size
    with monkeypatch.context() as patch:
        _inject(patch, point, page)
        with pytest.raises(Crash):
            await pull(store, connector, identity=RULES, commit_records=commit_records)

    # the last commit before page k, or with an after-commit crash the one that covered it
    covered = -(-page // group) * group if point == "after-commit" else (page - 1) // group * group
    committed = min(covered, PAGES)
    assert _snapshot(store) == clean[committed]

    resumed = await pull(store, connector, identity=RULES, run_id=2, commit_records=commit_records)
    assert resumed.counts["read"] == max(0, len(RECORDS) - committed * 3)
    assert _snapshot(store) == clean[PAGES]

    again = await pull(store, connector, identity=RULES, run_id=3, full=True)
    assert again.counts["unchanged"] == len(RECORDS) - 1  # all but the dead letter
    assert again.counts["created"] == again.counts["updated"] == again.counts["merged"] == 0
