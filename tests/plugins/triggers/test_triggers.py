"""Triggers fire once per customer and occasion, whatever restarts happen in between."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from hub.config import HubConfig
from hub.plugins import load_plugins
from hub.store.database import Store
from hub.store.tables import Outbox, SegmentMember, TriggerFiring
from tests.plugins.seed import customer, day, interaction, order

AS_OF = day("2026-12-01")


def _config(**trigger: Any) -> HubConfig:
    return HubConfig.model_validate(
        {
            "connections": {
                "mail": {"connector": "files", "config": {"path": "x.jsonl"}, "direction": "push"}
            },
            "triggers": {"t": {"segment": "t-seg", "push_to": ["mail"], **trigger}},
        },
        context={"plugins": load_plugins()},
    )


def _firings(store: Store) -> list[tuple[str, str]]:
    with store.session() as session:
        return sorted((f.hub_id, f.occasion) for f in session.exec(select(TriggerFiring)))


def _members(store: Store) -> set[str]:
    with store.session() as session:
        return {m.hub_id for m in session.exec(select(SegmentMember))}


@pytest.fixture
def shop(store: Store) -> Store:
    customer(store, "fresh", birth_date="1990-12-04")
    customer(store, "regular", birth_date="1975-06-01")
    customer(store, "gone")
    order(store, "fresh", "2026-11-29", "250")
    order(store, "regular", "2025-12-02", "20")
    order(store, "regular", "2026-11-30", "40")
    order(store, "gone", "2024-01-10", "60")
    order(store, "regular", "2026-11-27", "35", status="cancelled")
    interaction(store, "gone", "ticket", "2026-11-30")
    interaction(store, "gone", "ticket", "2026-10-01")  # before the window
    return store


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ({"event": "first_order"}, [("fresh", "first_order")]),
        ({"event": "order_over", "amount": "100"}, [("fresh", "order:o")]),
        ({"event": "order_cancelled"}, [("regular", "cancelled:o")]),
        ({"event": "ticket_opened"}, [("gone", "ticket:i")]),
        ({"event": "no_order_for", "after": "730d"}, [("gone", "silent-since:2024-01-10")]),
        ({"event": "birthday", "days_before": 3}, [("fresh", "birthday:2026")]),
        ({"event": "first_order_anniversary", "days_before": 2}, [("regular", "first-order:2026")]),
    ],
)
def test_each_kind_of_trigger_fires_for_its_occasion(
    shop: Store, trigger: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    load_plugins().refresh(shop, _config(**trigger), AS_OF)
    fired = _firings(shop)
    # order ids are generated, so an order's occasion is compared up to the id
    assert [(h, o[: len(e)]) for (h, o), (_, e) in zip(fired, expected, strict=True)] == expected
    assert _members(shop) == {hub_id for hub_id, _ in expected}


def test_a_trigger_never_fires_twice_for_the_same_occasion_across_a_store_reopen(
    shop: Store, store_url: str
) -> None:
    config = _config(event="birthday", days_before=7)
    load_plugins().refresh(shop, config, AS_OF)
    shop.close()

    reopened = Store(store_url)
    results = load_plugins().refresh(reopened, config, AS_OF + timedelta(days=1))
    counts = {r.plugin: r.counts for r in results}
    assert counts["triggers"]["fired"] == 0
    assert _firings(reopened) == [("fresh", "birthday:2026")]
    with reopened.session() as session:
        queued = list(session.exec(select(Outbox).where(Outbox.stream == "segment_members")))
    assert [(row.hub_id, row.payload["segment"]) for row in queued] == [("fresh", "t-seg")]
    reopened.close()


def test_membership_is_released_after_the_hold_and_the_next_year_fires_again(shop: Store) -> None:
    config = _config(event="birthday", days_before=3, hold="7d")
    plugins = load_plugins()
    plugins.refresh(shop, config, AS_OF)
    plugins.refresh(shop, config, AS_OF + timedelta(days=10))
    assert _members(shop) == set()
    plugins.refresh(shop, config, day("2027-12-02"))
    assert _firings(shop) == [("fresh", "birthday:2026"), ("fresh", "birthday:2027")]
    assert _members(shop) == {"fresh"}


def test_a_service_reminder_fires_once_per_purchase_of_the_category_after_the_wait(
    store: Store,
) -> None:
    for hub_id in ("rider", "walker", "early"):
        customer(store, hub_id)
    bike = [("bikes", 1, "900", None)]
    # as of 2026-12-01, 180d after is 2026-06-04; `within` 7d reaches back to 2026-05-28
    first = order(store, "rider", "2026-06-02", "900", lines=bike)
    second = order(store, "rider", "2026-06-03", "900", lines=bike)
    order(store, "rider", "2026-06-02", "900", lines=bike, status="cancelled")
    order(store, "walker", "2026-06-02", "20", lines=[("socks", 1, "20", None)])
    order(store, "early", "2026-05-01", "900", lines=bike)  # its reminder was due in October
    config = _config(event="purchase_followup", category="bikes", after="180d")

    load_plugins().refresh(store, config, AS_OF)
    load_plugins().refresh(store, config, AS_OF + timedelta(days=1))

    assert _firings(store) == [("rider", f"purchase:{first}"), ("rider", f"purchase:{second}")]
    assert _members(store) == {"rider"}


def test_a_service_reminder_needs_a_category_and_a_wait() -> None:
    with pytest.raises(ValueError, match="purchase_followup needs category"):
        _config(event="purchase_followup", after="180d")
    with pytest.raises(ValueError, match="purchase_followup needs after"):
        _config(event="purchase_followup", category="bikes")
