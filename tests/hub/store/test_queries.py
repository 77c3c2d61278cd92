"""The unified record's history: orders and touch points from every system, newest first."""

from __future__ import annotations

import pytest

from hub.store.database import Store
from hub.store.queries import history_of
from tests.hub.engine.fakes import ListConnector, customer_of, pull

pytestmark = pytest.mark.anyio


async def test_history_names_the_campaign_an_open_belongs_to_and_cuts_at_the_limit(
    store: Store,
) -> None:
    opens = [
        {
            "id": f"open-{day}",
            "kind": "email_event",
            "occurred_at": f"2025-04-0{day}T08:00:00+00:00",
            "customer_ref": "m1",
            "campaign_ref": "k1",
        }
        for day in (1, 2, 3)
    ]
    mail = ListConnector(
        "newsletter",
        [{"id": "m1", "emails": ["ann@example.com"]}],
        interactions=opens,
        campaigns=[{"id": "k1", "name": "April news", "channel": "email"}],
    )
    for stream in ("customers", "campaigns", "interactions"):
        await pull(store, mail, stream=stream)

    with store.session() as session:
        past = history_of(session, customer_of(store, "newsletter", "m1"), limit=2)

    assert past["interaction_count"] == 3
    assert [i["occurred_at"].day for i in past["interactions"]] == [3, 2]
    assert {i["campaign"] for i in past["interactions"]} == {"April news"}
    assert (past["order_count"], past["orders"]) == (0, [])
