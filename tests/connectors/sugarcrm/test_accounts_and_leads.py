"""Sugar Accounts give contacts their company; Leads are people at the lead stage."""

from __future__ import annotations

import pytest
from sqlmodel import select

from connectors.sugarcrm.sandbox import SugarSandbox
from hub.http import VirtualClock
from hub.store.database import Store
from hub.store.tables import CustomerRow, Link
from hub.testing.harness import Harness
from tests.connectors.sugarcrm.test_kit import sugar_connector

pytestmark = pytest.mark.anyio


def _customer(store: Store, external_id: str) -> dict[str, object]:
    with store.session() as session:
        link = session.exec(select(Link).where(Link.external_id == external_id)).one()
        return session.get_one(CustomerRow, link.hub_id).data


async def test_a_renamed_account_reaches_the_company_of_its_contacts(store: Store) -> None:
    sandbox = SugarSandbox(clock=VirtualClock())
    account = sandbox.add("accounts", {"name": "Comercial Sur SL"})
    staff = [
        sandbox.add("customers", {"last_name": name, "account_id": account["id"]})["id"]
        for name in ("Ruiz", "Sanz")
    ]
    loner = sandbox.add("customers", {"last_name": "Vidal"})["id"]
    harness = Harness(store, lambda: sugar_connector(sandbox, connection="sugar"))
    assert (await harness.pull("customers")).error is None
    first = await harness.pull("accounts")  # the same contacts, nothing new about them
    assert (first.counts["unchanged"], first.counts["updated"], first.counts["created"]) == (
        2,
        0,
        0,
    )

    sandbox.edit("accounts", account["id"], name="Comercial Sur y Norte SL")
    assert (await harness.pull("customers")).ids == []  # the contacts themselves did not change
    renamed = await harness.pull("accounts")

    assert sorted(renamed.ids) == sorted(staff)
    assert renamed.counts["updated"] == 2
    for contact in staff:
        assert _customer(store, contact)["attributes"] == {"company": "Comercial Sur y Norte SL"}
    assert "attributes" not in _customer(store, loner)
    assert (await harness.pull("accounts")).ids == []


async def test_leads_become_customers_at_the_lead_stage(store: Store) -> None:
    sandbox = SugarSandbox(clock=VirtualClock())
    lead = sandbox.add(
        "leads",
        {
            "last_name": "Bo",
            "email": [{"email_address": "bo@example.com", "primary_address": True}],
            "status": "New",
            "lead_source": "Trade Show",
            "account_name": "Bo Imports",
        },
    )
    harness = Harness(store, lambda: sugar_connector(sandbox, connection="sugar"))
    assert (await harness.pull("leads")).error is None
    data = _customer(store, lead["id"])
    assert data["attributes"] == {"company": "Bo Imports", "lifecycle": "lead"}
    assert data["acquisition"] == {
        "source": "sugar",
        "channel": "trade_show",
        "acquired_at": lead["date_entered"].replace("+00:00", "Z"),
    }

    sandbox.edit("leads", lead["id"], status="Converted", converted=True)
    assert (await harness.pull("leads")).counts["updated"] == 1
    assert _customer(store, lead["id"])["attributes"] == {
        "company": "Bo Imports",
        "lifecycle": "contact",
    }
