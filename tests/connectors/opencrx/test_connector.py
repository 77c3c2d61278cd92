"""What the openCRX connector does beyond the standard suite: its cursor and its writes."""

from __future__ import annotations

import pytest
from sqlmodel import select

from connectors.opencrx.sandbox import OpenCrxSandbox
from hub.connector import Change
from hub.http import VirtualClock
from hub.model import Channel, Consent, ConsentStatus, Customer
from hub.store.database import Store
from hub.store.tables import InteractionRow, Link
from hub.testing.harness import Harness
from tests.connectors.opencrx.test_kit import opencrx_connector

pytestmark = pytest.mark.anyio


@pytest.fixture
def sandbox() -> OpenCrxSandbox:
    sandbox = OpenCrxSandbox(clock=VirtualClock())
    sandbox.populate(25, seed=2)
    return sandbox


async def test_a_contact_edited_during_the_walk_skips_no_other(sandbox: OpenCrxSandbox) -> None:
    connector = opencrx_connector(sandbox)
    ids: list[str] = []
    async for page in connector.read("customers", None):
        if not ids:
            sandbox.touch("customers", page.records[0]["id"])
        ids += [record["id"] for record in page.records]
    await connector.aclose()
    assert set(ids) == set(sandbox.records("customers")) and len(ids) == 26


async def test_a_hub_opt_out_sets_do_not_email_and_the_main_address_follows(
    sandbox: OpenCrxSandbox,
) -> None:
    account_id, existing = next(iter(sandbox.records("customers").items()))
    customer = Customer(
        first_name="Ana",
        last_name="García",
        emails=["ana.new@example.es"],
        consents={Channel.EMAIL: Consent(status=ConsentStatus.UNSUBSCRIBED)},
    )
    connector = opencrx_connector(sandbox)
    [result] = await connector.write("customers", [Change("h1", customer, account_id)])
    await connector.aclose()
    stored = sandbox.records("customers")[account_id]
    emails = [a["emailAddress"] for a in stored["addresses"] if "emailAddress" in a]
    assert result.ok and stored["contact"]["doNotEMail"] is True
    assert emails == ["ana.new@example.es"]  # the main address changed, not added
    assert len(stored["addresses"]) == len(existing["addresses"])


async def test_a_created_contact_is_found_again_by_its_external_link(
    sandbox: OpenCrxSandbox,
) -> None:
    change = Change("hub-7", Customer(last_name="Nuevo", emails=["nuevo@example.es"]))
    connector = opencrx_connector(sandbox)
    first = await connector.write("customers", [change])
    again = await connector.write("customers", [change])  # the ids were lost in a crash
    await connector.aclose()
    assert first[0].external_id == again[0].external_id
    stored = sandbox.records("customers")[str(first[0].external_id)]
    assert stored["contact"]["externalLink"] == ["crmhub:hub-7"]
    assert len(sandbox.records("customers")) == 26


async def test_erasure_is_refused_with_a_reason(sandbox: OpenCrxSandbox) -> None:
    account_id = next(iter(sandbox.records("customers")))
    connector = opencrx_connector(sandbox)
    [result] = await connector.write(
        "customers", [Change("h", Customer(), external_id=account_id, op="delete")]
    )
    await connector.aclose()
    assert result.error is not None and "not deleted" in result.error


async def test_activities_hang_off_the_customer_of_their_reporting_contact(store: Store) -> None:
    sandbox = OpenCrxSandbox(clock=VirtualClock())
    sandbox.populate(6, seed=4)
    harness = Harness(store, lambda: opencrx_connector(sandbox, connection="crx"))
    for stream in ("customers", "activities"):
        assert (await harness.pull(stream)).error is None
    with store.session() as session:
        links = {
            (link.object, link.external_id): link.hub_id for link in session.exec(select(Link))
        }
        rows = {row.id: row for row in session.exec(select(InteractionRow))}
    activities = sandbox.records("activities")
    assert len(rows) == len(activities) > 6
    for activity_id, activity in activities.items():
        contact = activity["reportingContact"]["@href"].rsplit("/", 1)[-1]
        row = rows[links["interaction", activity_id]]
        assert row.customer_hub_id == links["customer", contact]
        assert row.kind == ("ticket" if activity["@type"].endswith("Incident") else "call")
