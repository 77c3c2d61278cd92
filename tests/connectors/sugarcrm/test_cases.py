"""Sugar cases reach the store as ticket interactions on the customer of their contact."""

from __future__ import annotations

import pytest
from sqlmodel import select

from connectors.sugarcrm.sandbox import SugarSandbox
from hub.http import VirtualClock
from hub.store.database import Store
from hub.store.tables import InteractionRow, Link
from hub.testing.harness import Harness
from tests.connectors.sugarcrm.test_kit import sugar_connector

pytestmark = pytest.mark.anyio


async def test_cases_hang_off_the_customer_their_contact_is(store: Store) -> None:
    sandbox = SugarSandbox(clock=VirtualClock())
    sandbox.populate(12, seed=4)
    harness = Harness(store, lambda: sugar_connector(sandbox, connection="sugar"))
    for stream in ("customers", "cases"):
        assert (await harness.pull(stream)).error is None
    cases = sandbox.records("cases")
    with store.session() as session:
        links = {
            (link.object, link.external_id): link.hub_id
            for link in session.exec(select(Link).where(Link.connection == "sugar"))
        }
        rows = {row.id: row for row in session.exec(select(InteractionRow))}
    assert len(rows) == len(cases)
    for case_id, case in cases.items():
        row = rows[links["interaction", case_id]]
        assert row.customer_hub_id == links["customer", case["primary_contact_id"]]
        assert (row.kind, row.subject, row.status) == ("ticket", case["name"], case["status"])
        assert row.source == "sugar" and row.details["case_number"] == case["case_number"]


async def test_a_case_edited_in_sugar_updates_its_interaction_and_nothing_else(
    store: Store,
) -> None:
    sandbox = SugarSandbox(clock=VirtualClock())
    sandbox.populate(6, seed=4)
    harness = Harness(store, lambda: sugar_connector(sandbox, connection="sugar"))
    await harness.pull("customers")
    await harness.pull("cases")
    case_id = sorted(sandbox.records("cases"))[0]
    sandbox.touch("cases", case_id)
    again = await harness.pull("cases")
    with store.session() as session:
        link = session.exec(select(Link).where(Link.external_id == case_id)).one()
        row = session.get_one(InteractionRow, link.hub_id)
    assert (again.counts["updated"], again.counts["created"]) == (1, 0)
    assert row.status == sandbox.records("cases")[case_id]["status"]
