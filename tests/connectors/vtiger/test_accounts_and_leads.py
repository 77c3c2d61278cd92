"""vTiger Accounts give contacts their company; Leads are people at the lead stage."""

from __future__ import annotations

import pytest
from sqlmodel import select

from connectors.vtiger.sandbox import VtigerSandbox
from hub.http import VirtualClock
from hub.store.database import Store
from hub.store.tables import CustomerRow, Link
from hub.testing.harness import Harness
from tests.connectors.vtiger.test_kit import vtiger_connector

pytestmark = pytest.mark.anyio


def _customer(store: Store, external_id: str) -> dict[str, object]:
    with store.session() as session:
        link = session.exec(select(Link).where(Link.external_id == external_id)).one()
        return session.get_one(CustomerRow, link.hub_id).data


@pytest.mark.parametrize("read_with", ["sync", "query"])
async def test_a_renamed_account_reaches_the_company_of_its_contacts(
    store: Store, read_with: str
) -> None:
    sandbox = VtigerSandbox(clock=VirtualClock())
    account = sandbox.add("accounts", {"accountname": "Comercial Sur SL"})
    staff = [
        sandbox.add("customers", {"lastname": name, "account_id": account["id"]})["id"]
        for name in ("Ruiz", "Sanz")
    ]
    loner = sandbox.add("customers", {"lastname": "Vidal"})["id"]
    harness = Harness(
        store,
        lambda: vtiger_connector(sandbox, connection="vtiger", read_with=read_with, page_size=1),
    )
    assert (await harness.pull("customers")).error is None
    for contact in staff:
        assert _customer(store, contact)["attributes"] == {"company": "Comercial Sur SL"}
    first = await harness.pull("accounts")  # the same contacts, nothing new about them
    assert (first.counts["unchanged"], first.counts["updated"], first.counts["created"]) == (
        2,
        0,
        0,
    )

    sandbox.edit("accounts", account["id"], accountname="Comercial Sur y Norte SL")
    assert (await harness.pull("customers")).ids == []  # the contacts themselves did not change
    renamed = await harness.pull("accounts")

    assert sorted(renamed.ids) == sorted(staff)  # every contact, past the 1-row query page
    assert renamed.counts["updated"] == 2
    for contact in staff:
        assert _customer(store, contact)["attributes"] == {"company": "Comercial Sur y Norte SL"}
    assert "attributes" not in _customer(store, loner)
    assert (await harness.pull("accounts")).ids == []


async def test_leads_become_customers_at_the_lead_stage(store: Store) -> None:
    sandbox = VtigerSandbox(clock=VirtualClock())
    lead = sandbox.add(
        "leads",
        {
            "lastname": "Bo",
            "email": "bo@example.com",
            "leadsource": "Cold Call",
            "company": "Bo SL",
        },
    )
    harness = Harness(store, lambda: vtiger_connector(sandbox, connection="vtiger"))
    assert (await harness.pull("leads")).error is None
    data = _customer(store, lead["id"])
    assert data["attributes"] == {"company": "Bo SL", "lifecycle": "lead"}
    assert data["acquisition"] == {
        "source": "vtiger",
        "channel": "cold_call",
        "acquired_at": lead["createdtime"].replace(" ", "T") + "Z",
    }
