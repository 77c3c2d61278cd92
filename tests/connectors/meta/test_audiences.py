"""Custom audiences out, through the engine's push: batches, sessions, only the difference."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import delete, insert
from sqlmodel import select

from connectors.meta.config import MetaConfig
from connectors.meta.connector import MetaConnector
from connectors.meta.sandbox import ACCOUNT, TOKEN, MetaSandbox
from hub.connector import Change
from hub.engine.context import StreamContext
from hub.engine.erase import erase
from hub.engine.outbox import enqueue
from hub.engine.push import push_stream
from hub.http import VirtualClock
from hub.model import Customer, SegmentMembership
from hub.store.database import Store
from hub.store.tables import CustomerRow, Link, SegmentMember, table_of
from hub.testing.sandbox import BASE_URL

STREAM = "segment_members"


def _connector(sandbox: MetaSandbox) -> MetaConnector:
    config = MetaConfig(base_url=BASE_URL, access_token=SecretStr(TOKEN), ad_account_id=ACCOUNT)
    return MetaConnector(
        config, connection="ads", transport=sandbox.transport(), clock=sandbox.clock
    )


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _people(store: Store, count: int) -> list[str]:
    """Customers as the hub holds them (inserted in bulk: the pull is not under test)."""
    now = datetime.now(UTC)
    rows = [
        {
            "hub_id": f"h{number:06d}",
            "data": {
                "emails": [f"person.{number}@example.com"],
                "first_name": "Ana",
                "last_name": f"Núñez-{number}",
                "consents": {
                    "advertising": {"status": "subscribed", "recorded_at": now.isoformat()}
                },
            },
            "provenance": {},
            "primary_email": f"person.{number}@example.com",
            "created_at": now,
            "updated_at": now,
        }
        for number in range(count)
    ]
    with store.session() as session:
        session.execute(insert(table_of(CustomerRow)), rows)
        session.commit()
    return [row["hub_id"] for row in rows]


def _queue(store: Store, hub_ids: list[str], *, member: bool = True) -> None:
    """Put people in (or out of) segment vip and queue its push, as the segments plugin does."""
    members = table_of(SegmentMember)
    with store.session() as session:
        if member:
            already = set(session.execute(select(members.c.hub_id)).scalars())
            joined = datetime.now(UTC)
            rows = [
                {"segment": "vip", "hub_id": h, "joined_at": joined}
                for h in hub_ids
                if h not in already
            ]
            if rows:
                session.execute(insert(members), rows)
        else:
            session.execute(
                delete(members).where(members.c.segment == "vip", members.c.hub_id.in_(hub_ids))
            )
        enqueue(
            session,
            stream=STREAM,
            hub_ids=hub_ids,
            targets=["ads"],
            origin=None,
            payload={"segment": "vip", "channel": "advertising"},
        )
        session.commit()


def _uploads(sandbox: MetaSandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sandbox.requests if r.path.endswith("/users")]


async def _segment_then_a_change(store: Store, size: int, change: int) -> None:
    """Push a segment of ``size``, then one where ``change`` people left and as many joined."""
    sandbox = MetaSandbox(clock=VirtualClock())
    ids = _people(store, size + change)
    members, newcomers = ids[:size], ids[size:]
    _queue(store, members)
    ctx = StreamContext(store, _connector(sandbox), STREAM, run_id=1)
    await push_stream(ctx, batch_size=size + change)
    [audience] = sandbox.audiences
    assert _uploads(sandbox) == [("POST", f"/v21.0/{audience}/users")] * 3
    assert len(sandbox.members(audience)) == size and ctx.counts["pushed"] == size

    leaving = members[: change // 2]
    _queue(store, members[change // 2 :])  # re-evaluated: everyone still in is queued again
    _queue(store, leaving, member=False)
    _queue(store, newcomers[: change // 2])
    sandbox.requests.clear()
    again = StreamContext(store, _connector(sandbox), STREAM, run_id=2)
    await push_stream(again, batch_size=size + change)
    assert again.counts["pushed"] == change, "only those who left and those who joined"
    assert sorted(_uploads(sandbox)) == [
        ("DELETE", f"/v21.0/{audience}/users"),
        ("POST", f"/v21.0/{audience}/users"),
    ]
    emails = {value for m in sandbox.members(audience) for key, value in m if key == "EMAIL"}
    assert len(emails) == size
    assert _sha("person.0@example.com") not in emails
    assert _sha(f"person.{size}@example.com") in emails


@pytest.mark.anyio
async def test_a_segment_goes_in_batches_of_the_row_limit_and_a_change_sends_only_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("connectors.meta.audiences.MAX_ROWS", 100)
    await _segment_then_a_change(store, 250, 10)


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_segment_of_25000_goes_in_three_batches_and_a_change_of_100_sends_only_it(
    store: Store,
) -> None:
    await _segment_then_a_change(store, 25_000, 100)


@pytest.mark.anyio
async def test_25000_members_are_three_uploads_of_one_session() -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    connector = _connector(sandbox)
    changes = [
        Change(f"h{n}", SegmentMembership(segment="vip", customer=Customer(emails=[f"p{n}@x.com"])))
        for n in range(25_000)
    ]
    results = await connector.write(STREAM, changes)
    assert all(result.ok for result in results)
    uploads = [r for r in sandbox.requests if r.path.endswith("/users")]
    assert len(uploads) == 3
    [audience] = sandbox.audiences
    assert len(sandbox.members(audience)) == 25_000
    await connector.aclose()


@pytest.mark.anyio
async def test_the_store_keeps_only_hashes_and_erasure_removes_the_person(store: Store) -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    ids = _people(store, 3)
    _queue(store, ids)
    await push_stream(StreamContext(store, _connector(sandbox), STREAM, run_id=1))
    with store.session() as session:
        links = list(session.exec(select(Link).where(Link.connection == "ads")))
        assert {link.object for link in links} == {"segment:vip"}
        kept = str([(link.external_id, link.shadow, link.base) for link in links])
        assert "example.com" not in kept.lower() and "ana" not in kept.lower()
        erase(session, ids[0], delete_targets=["ads"])
    [audience] = sandbox.audiences
    await push_stream(StreamContext(store, _connector(sandbox), STREAM, run_id=2))
    emails = {value for m in sandbox.members(audience) for key, value in m if key == "EMAIL"}
    assert emails == {_sha("person.1@example.com"), _sha("person.2@example.com")}


@pytest.mark.anyio
async def test_a_person_without_email_or_phone_is_refused_and_the_rest_go_on() -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    connector = _connector(sandbox)
    nobody = SegmentMembership(segment="vip", customer=Customer(first_name="Ann"))
    somebody = SegmentMembership(segment="vip", customer=Customer(emails=["b@example.com"]))
    results = await connector.write(STREAM, [Change("h1", nobody), Change("h2", somebody)])
    assert results[0].error and "no e-mail or phone" in results[0].error
    assert results[1].ok and results[1].written == connector.from_canonical(STREAM, somebody)
    [audience] = sandbox.audiences
    assert sandbox.audiences[audience]["name"] == "crmhub: vip"
    assert sandbox.audiences[audience]["customer_file_source"] == "USER_PROVIDED_ONLY"
    await connector.aclose()


@pytest.mark.anyio
async def test_a_configured_audience_is_used_and_none_is_created(tmp_path: Path) -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    first = _connector(sandbox)
    joined = SegmentMembership(segment="vip", customer=Customer(emails=["b@example.com"]))
    await first.write(STREAM, [Change("h1", joined)])
    [audience] = sandbox.audiences
    later = _connector(sandbox)  # a new process finds the audience by name
    await later.write(STREAM, [Change("h2", joined)])
    assert list(sandbox.audiences) == [audience]
    await first.aclose()
    await later.aclose()
