"""The push side: outbox drained through a connector, echoes and consent kept safe."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from connectors.files.config import FilesConfig
from connectors.files.connector import FilesConnector
from hub.connector import Change, WriteResult
from hub.engine.context import StreamContext
from hub.engine.hashing import digest
from hub.engine.outbox import enqueue
from hub.engine.pull import pull_stream
from hub.engine.push import push_stream
from hub.errors import RetriableError
from hub.model import CanonicalRecord, SegmentMembership
from hub.store.database import Store
from hub.store.tables import CustomerRow, DeadLetter, Link, Outbox, SegmentMember

RECORDED = "2024-01-01T00:00:00+00:00"


def _source(tmp_path: Path, people: list[dict[str, object]]) -> FilesConnector:
    path = tmp_path / "source.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in people))
    return FilesConnector(FilesConfig(path=path), connection="shop")


def _target(tmp_path: Path, cls: type[FilesConnector] = FilesConnector) -> FilesConnector:
    return cls(FilesConfig(path=tmp_path / "target.jsonl"), connection="mail")


def _people(count: int, **extra: object) -> list[dict[str, object]]:
    return [
        {"external_id": str(i), "first_name": f"P{i}", "emails": [f"p{i}@example.com"], **extra}
        for i in range(count)
    ]


async def _pull_and_queue(store: Store, source: FilesConnector) -> list[str]:
    await pull_stream(StreamContext(store, source, "customers", run_id=1))
    with store.session() as session:
        ids = list(session.exec(select(CustomerRow.hub_id)))
        enqueue(session, stream="customers", hub_ids=ids, targets=["mail"], origin="shop")
        session.commit()
    return ids


def _remote(target: FilesConnector) -> list[dict[str, object]]:
    path = target.config.path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _pending(store: Store) -> int:
    with store.session() as session:
        return len(list(session.exec(select(Outbox).where(Outbox.status == "pending"))))


@pytest.mark.anyio
async def test_push_writes_links_and_a_second_push_writes_nothing(
    store: Store, tmp_path: Path
) -> None:
    ids = await _pull_and_queue(store, _source(tmp_path, _people(5)))
    target = _target(tmp_path)
    ctx = StreamContext(store, target, "customers", run_id=2)
    await push_stream(ctx, batch_size=2)
    assert ctx.counts["pushed"] == 5 and _pending(store) == 0
    assert sorted(r["external_id"] for r in _remote(target)) == sorted(ids)
    with store.session() as session:
        links = list(session.exec(select(Link).where(Link.connection == "mail")))
        assert len(links) == 5 and all(link.pushed_hash and link.shadow for link in links)
        enqueue(session, stream="customers", hub_ids=ids, targets=["mail"], origin="shop")
        session.commit()
    again = StreamContext(store, target, "customers", run_id=3)
    await push_stream(again)
    assert again.counts["pushed"] == 0 and _pending(store) == 0  # the remote holds these values


class Picky(FilesConnector):
    """Refuses one address, as a vendor refuses a record it finds invalid."""

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        bad = [c for c in changes if "p1@" in str(c.record.model_dump())]
        done = await super().write(stream, [c for c in changes if c not in bad])
        return done + [
            WriteResult(c.hub_id, None, error="Invalid Resource: p1 looks fake") for c in bad
        ]


@pytest.mark.anyio
async def test_a_refused_record_goes_to_dead_letters_and_the_batch_goes_on(
    store: Store, tmp_path: Path
) -> None:
    await _pull_and_queue(store, _source(tmp_path, _people(3)))
    target = _target(tmp_path, Picky)
    ctx = StreamContext(store, target, "customers", run_id=2)
    await push_stream(ctx)
    assert (ctx.counts["pushed"], ctx.counts["rejected"]) == (2, 1)
    assert len(_remote(target)) == 2
    with store.session() as session:
        [letter] = session.exec(select(DeadLetter))
        assert letter.reason == "rejected" and "looks fake" in letter.error
        assert letter.payload["emails"] == ["p1@example.com"]


class TwoKinds(FilesConnector):
    """Links people of two kinds (as Oro's contacts and its Magento customers) but writes one."""

    sent: list[str | None]

    def writes_to(self, stream: str, external_id: str) -> bool:
        return not external_id.startswith("readonly:")

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        self.sent = [change.external_id for change in changes]
        return [WriteResult(change.hub_id, change.external_id) for change in changes]


@pytest.mark.anyio
async def test_the_push_updates_only_a_link_the_connector_writes_to(
    store: Store, tmp_path: Path
) -> None:
    [hub_id] = await _pull_and_queue(store, _source(tmp_path, _people(1)))
    with store.session() as session:
        for external_id in ("7", "readonly:7"):  # the read-only one last: a plain dict keeps it
            session.add(
                Link(connection="mail", object="customer", external_id=external_id, hub_id=hub_id)
            )
        session.commit()
    target = _target(tmp_path, TwoKinds)
    await push_stream(StreamContext(store, target, "customers", run_id=2))
    assert target.sent == ["7"]


class Down(FilesConnector):
    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        raise RetriableError("503 Service Unavailable", retry_after=30)


@pytest.mark.anyio
async def test_an_outage_defers_the_batch_and_loses_nothing(store: Store, tmp_path: Path) -> None:
    await _pull_and_queue(store, _source(tmp_path, _people(2)))
    with pytest.raises(RetriableError):
        await push_stream(StreamContext(store, _target(tmp_path, Down), "customers", run_id=2))
    with store.session() as session:
        rows = list(session.exec(select(Outbox).order_by(col(Outbox.id))))
        assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 1)]
        assert all(r.next_attempt_at and r.next_attempt_at > datetime.now(UTC) for r in rows)


@pytest.mark.anyio
async def test_consent_only_flows_from_recorded_consent(store: Store, tmp_path: Path) -> None:
    people = [
        {
            "external_id": "1",
            "emails": ["a@example.com"],
            "consents": {"email": {"status": "subscribed", "recorded_at": RECORDED}},
        },
        {
            "external_id": "2",
            "emails": ["b@example.com"],
            "consents": {"email": {"status": "subscribed"}},
        },
        {
            "external_id": "3",
            "emails": ["c@example.com"],
            "consents": {"email": {"status": "unsubscribed", "recorded_at": RECORDED}},
        },
    ]
    ids = await _pull_and_queue(store, _source(tmp_path, people))
    target = _target(tmp_path)
    await push_stream(StreamContext(store, target, "customers", run_id=2))
    first = {
        r["emails"][0]: r.get("consents", {}).get("email", {}).get("status")
        for r in _remote(target)
    }
    assert first == {"a@example.com": None, "b@example.com": None, "c@example.com": "unsubscribed"}

    # A later push: a subscription the hub held at the first push stays held back,
    # an unrecorded one never goes, and an opt-in recorded since then does.
    later_opt_in = {"status": "subscribed", "recorded_at": "2024-06-01T00:00:00+00:00"}
    with store.session() as session:
        for row in session.exec(select(CustomerRow)):
            data = {**row.data, "first_name": "X"}
            if data["emails"] == ["c@example.com"]:
                data["consents"] = {"email": later_opt_in}
            row.data = data
            session.add(row)
        enqueue(session, stream="customers", hub_ids=ids, targets=["mail"], origin="shop")
        session.commit()
    await push_stream(StreamContext(store, target, "customers", run_id=3))
    later = {
        r["emails"][0]: r.get("consents", {}).get("email", {}).get("status")
        for r in _remote(target)
    }
    assert later == {"a@example.com": None, "b@example.com": None, "c@example.com": "subscribed"}


@pytest.mark.anyio
async def test_a_crash_between_write_and_shadow_duplicates_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _pull_and_queue(store, _source(tmp_path, _people(3)))
    target = _target(tmp_path)

    def crash(*args: object) -> None:
        raise RuntimeError("killed after the vendor accepted the write")

    with monkeypatch.context() as patch:
        patch.setattr("hub.engine.push._record", crash)
        with pytest.raises(RuntimeError):
            await push_stream(StreamContext(store, target, "customers", run_id=2))
    assert len(_remote(target)) == 3 and _pending(store) == 3
    await push_stream(StreamContext(store, target, "customers", run_id=3))
    assert len(_remote(target)) == 3 and _pending(store) == 0


@pytest.mark.anyio
async def test_dry_run_plans_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    ids = await _pull_and_queue(store, _source(tmp_path, _people(4)))
    target = _target(tmp_path)
    planned = await push_stream(
        StreamContext(store, target, "customers", run_id=2), dry_run=True, batch_size=3
    )
    assert sorted(p.hub_id for p in planned) == sorted(ids)
    assert all(p.op == "upsert" and p.external_id is None for p in planned)
    assert _remote(target) == [] and _pending(store) == 4


class Tags(FilesConnector):
    """A tool that applies segments as tags and reports only what it did, not who."""

    writes = {"segment_members": SegmentMembership}  # type: ignore[assignment]
    deletes = frozenset({"segment_members"})
    sent: list[Change]

    def from_canonical(self, stream: str, record: CanonicalRecord) -> dict[str, object]:
        assert isinstance(record, SegmentMembership)
        return {"tag": record.segment, "on": record.member, "who": digest(record.customer.emails)}

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        self.sent = getattr(self, "sent", []) + changes
        return [WriteResult(c.hub_id, f"tag-{c.hub_id}-{c.record.segment}") for c in changes]  # type: ignore[attr-defined]


def _queue_members(store: Store, ids: list[str], segment: str, member: bool = True) -> None:
    """Put people in (or out of) ``segment`` and queue the push, as a segment plugin does."""
    with store.session() as session:
        for hub_id in ids:
            found = session.get(SegmentMember, (segment, hub_id))
            if member and found is None:
                session.add(
                    SegmentMember(segment=segment, hub_id=hub_id, joined_at=datetime.now(UTC))
                )
            elif not member and found is not None:
                session.delete(found)
        payload = {"segment": segment}
        enqueue(
            session,
            stream="segment_members",
            hub_ids=ids,
            targets=["mail"],
            origin=None,
            payload=payload,
        )
        session.commit()


@pytest.mark.anyio
async def test_memberships_reach_write_with_their_segment_and_only_changes_are_resent(
    store: Store, tmp_path: Path
) -> None:
    ids = await _pull_and_queue(store, _source(tmp_path, _people(3)))
    target = Tags(FilesConfig(path=tmp_path / "tags.jsonl"), connection="mail")
    _queue_members(store, ids, "vip")
    await push_stream(StreamContext(store, target, "segment_members", run_id=2))
    assert {type(c.record) for c in target.sent} == {SegmentMembership}
    assert {c.record.segment for c in target.sent} == {"vip"}  # type: ignore[attr-defined]
    with store.session() as session:
        links = list(session.exec(select(Link).where(Link.object == "segment:vip")))
        assert len(links) == 3 and all(
            set(link.shadow or {}) == {"tag", "on", "who"} for link in links
        )

    target.sent = []
    _queue_members(store, ids[1:], "vip")  # unchanged: nothing to send
    _queue_members(store, ids[:1], "vip", member=False)
    await push_stream(StreamContext(store, target, "segment_members", run_id=3))
    assert [(c.hub_id, c.record.member) for c in target.sent] == [(ids[0], False)]  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_one_person_in_two_segments_gets_both_memberships(
    store: Store, tmp_path: Path
) -> None:
    ids = await _pull_and_queue(store, _source(tmp_path, _people(2)))
    target = Tags(FilesConfig(path=tmp_path / "tags.jsonl"), connection="mail")
    _queue_members(store, ids[:1], "vip")
    _queue_members(store, ids[:1], "win_back")  # queued while vip is still pending
    await push_stream(StreamContext(store, target, "segment_members", run_id=2))

    assert sorted(c.record.segment for c in target.sent) == ["vip", "win_back"]  # type: ignore[attr-defined]
    with store.session() as session:
        left = session.exec(
            select(Outbox).where(Outbox.stream == "segment_members", Outbox.status == "pending")
        )
        assert list(left) == []
        objects = {link.object for link in session.exec(select(Link).where(Link.hub_id == ids[0]))}
    assert {"segment:vip", "segment:win_back"} <= objects


@pytest.mark.anyio
async def test_a_membership_names_the_persons_record_in_that_connection_only(
    store: Store, tmp_path: Path
) -> None:
    ids = await _pull_and_queue(store, _source(tmp_path, _people(2)))
    known = tmp_path / "mail.jsonl"
    known.write_text(json.dumps({"external_id": "m1", "emails": ["p1@example.com"]}) + "\n")
    mail = FilesConnector(FilesConfig(path=known), connection="mail")
    await pull_stream(StreamContext(store, mail, "customers", run_id=2))
    with store.session() as session:
        linked = session.exec(select(Link).where(Link.connection == "mail")).one().hub_id
    assert linked in ids  # the same person, found by e-mail
    target = Tags(FilesConfig(path=tmp_path / "tags.jsonl"), connection="mail")
    _queue_members(store, ids, "vip")
    await push_stream(StreamContext(store, target, "segment_members", run_id=3))

    refs = {c.hub_id: c.record.customer_ref for c in target.sent}  # type: ignore[attr-defined]
    assert refs == {hub_id: "m1" if hub_id == linked else None for hub_id in ids}
