"""Segments from config rules: membership in the store, pushes through the outbox, consent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel
from sqlmodel import select

from hub.config import HubConfig
from hub.connector import Change, Connector, Page, SourceRecord, WriteResult
from hub.engine.context import StreamContext
from hub.engine.push import push_stream
from hub.model import SegmentMembership
from hub.plugins import load_plugins
from hub.store.database import Store
from hub.store.tables import CustomerRow, SegmentMember
from tests.plugins.seed import customer, day, order

pytestmark = pytest.mark.anyio
AS_OF = day("2026-12-01")
SUBSCRIBED = {"email": {"status": "subscribed", "recorded_at": "2025-01-01T00:00:00+00:00"}}


class NoSettings(BaseModel):
    pass


class Audience(Connector):
    """A marketing tool that records the memberships it is sent."""

    name = "audience"
    config_model = NoSettings
    writes = {"segment_members": SegmentMembership}

    def __init__(self) -> None:
        super().__init__(NoSettings(), connection="mail")
        self.received: list[SegmentMembership] = []

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        return
        yield

    def to_canonical(self, stream: str, raw: dict[str, Any]) -> SourceRecord:
        raise NotImplementedError

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        for change in changes:
            assert isinstance(change.record, SegmentMembership)
            self.received.append(change.record)
        return [WriteResult(c.hub_id, f"m-{c.hub_id}") for c in changes]


def _config(**segment: Any) -> HubConfig:
    return HubConfig.model_validate(
        {
            "connections": {
                "mail": {"connector": "files", "config": {"path": "x.jsonl"}, "direction": "push"}
            },
            "segments": {"win_back": segment},
        },
        context={"plugins": load_plugins()},
    )


def _members(store: Store) -> set[tuple[str, str]]:
    with store.session() as session:
        return {(m.segment, m.hub_id) for m in session.exec(select(SegmentMember))}


async def _push(store: Store) -> Audience:
    audience = Audience()
    await push_stream(StreamContext(store, audience, "segment_members", run_id=1))
    return audience


@pytest.fixture
def shoppers(store: Store) -> Store:
    customer(store, "old", consents=SUBSCRIBED, birth_date="1980-12-03")
    customer(store, "new", consents=SUBSCRIBED)
    customer(store, "unsubscribed", consents={"email": {"status": "unsubscribed"}})
    order(store, "old", "2023-05-01", "90", lines=[("shoes", 1, "90", None)])
    order(store, "new", "2026-11-20", "30", lines=[("socks", 1, "30", None)])
    order(store, "unsubscribed", "2023-06-01", "50", lines=[("shoes", 1, "50", None)])
    return store


def test_rules_select_members_and_a_second_evaluation_writes_nothing(shoppers: Store) -> None:
    config = _config(rules=[{"field": "last_order_at", "older_than": "730d"}])
    plugins = load_plugins()
    results = {r.plugin: r.counts for r in plugins.refresh(shoppers, config, AS_OF)}
    assert _members(shoppers) == {("win_back", "old"), ("win_back", "unsubscribed")}
    assert results["segments"] == {"joined": 2, "left": 0, "queued": 0}
    again = {r.plugin: r.counts for r in plugins.refresh(shoppers, config, AS_OF)}
    assert again["segments"] == {"joined": 0, "left": 0, "queued": 0}


@pytest.mark.parametrize(
    ("rule", "members"),
    [
        ({"bought_category": "shoes", "older_than": "365d"}, {"old", "unsubscribed"}),
        ({"bought_category": "socks"}, {"new"}),
        ({"field": "birth_date", "within_next": "7d"}, {"old"}),
        ({"field": "birth_date", "within_next": "1d"}, set()),
        ({"consent": "email"}, {"old", "new"}),
        ({"field": "rfm_segment", "in": ["promising", "champion"]}, {"new"}),  # R4 F1 M1
        ({"field": "frequency", "above": 0}, {"old", "new", "unsubscribed"}),
    ],
)
def test_each_kind_of_rule(shoppers: Store, rule: dict[str, Any], members: set[str]) -> None:
    load_plugins().refresh(shoppers, _config(rules=[rule]), AS_OF)
    assert {hub_id for _, hub_id in _members(shoppers)} == members


async def test_push_sends_memberships_and_never_adds_a_person_without_consent(
    shoppers: Store,
) -> None:
    config = _config(
        channel="email",
        push_to=["mail"],
        rules=[{"bought_category": "shoes", "older_than": "365d"}],
    )
    load_plugins().refresh(shoppers, config, AS_OF)
    audience = await _push(shoppers)
    sent = {(m.customer.hub_id, m.segment, m.member) for m in audience.received}
    assert sent == {("old", "win_back", True)}  # "unsubscribed" is in it, but never added there
    assert all(m.channel == "email" for m in audience.received)


async def test_leaving_a_segment_pushes_a_removal(shoppers: Store) -> None:
    config = _config(push_to=["mail"], rules=[{"field": "last_order_at", "older_than": "730d"}])
    plugins = load_plugins()
    plugins.refresh(shoppers, config, AS_OF)
    await _push(shoppers)
    order(shoppers, "old", "2026-11-28", "40")
    plugins.refresh(shoppers, config, AS_OF)
    audience = await _push(shoppers)
    assert [(m.customer.hub_id, m.member) for m in audience.received] == [("old", False)]


def _set_consent(store: Store, hub_id: str, status: str, *, touch: bool) -> None:
    with store.session() as session:
        row = session.get_one(CustomerRow, hub_id)
        row.data = {**row.data, "consents": {"email": {"status": status}}}
        if touch:
            row.updated_at = datetime.now(UTC)
        session.add(row)
        session.commit()


def test_a_segment_over_the_record_alone_looks_only_at_customers_changed_since(
    shoppers: Store,
) -> None:
    config = _config(rules=[{"consent": "email"}])
    plugins = load_plugins()
    plugins.refresh(shoppers, config, AS_OF)
    assert {h for _, h in _members(shoppers)} == {"old", "new"}
    _set_consent(shoppers, "old", "unsubscribed", touch=True)
    _set_consent(shoppers, "new", "unsubscribed", touch=False)  # the engine always touches

    plugins.refresh(shoppers, config, AS_OF)

    assert {h for _, h in _members(shoppers)} == {"new"}, "only the changed customer is looked at"
    reworded = _config(rules=[{"consent": "email"}, {"consent": "email"}])  # same meaning
    plugins.refresh(shoppers, reworded, AS_OF)
    assert _members(shoppers) == set(), "edited rules: everyone is evaluated again"
