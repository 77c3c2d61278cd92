"""What the SugarCRM connector does beyond the standard suite: sessions, cursor and writes."""

from __future__ import annotations

import pytest

from connectors.sugarcrm.connector import SugarConnector
from connectors.sugarcrm.sandbox import PASSWORD, SugarSandbox
from hub.connector import Change
from hub.errors import AuthError
from hub.http import VirtualClock
from hub.model import Channel, Consent, ConsentStatus, Customer
from tests.connectors.sugarcrm.test_kit import sugar_connector

pytestmark = pytest.mark.anyio


@pytest.fixture
def sandbox() -> SugarSandbox:
    sandbox = SugarSandbox(clock=VirtualClock(), token_lifetime=300)
    sandbox.populate(25, seed=2)
    return sandbox


async def _read_all(connector: SugarConnector, stream: str = "customers") -> list[str]:
    ids = [record["id"] async for page in connector.read(stream, None) for record in page.records]
    await connector.aclose()
    return ids


async def test_an_expiring_token_is_refreshed_and_the_walk_goes_on(sandbox: SugarSandbox) -> None:
    connector = sugar_connector(sandbox)
    assert isinstance(sandbox.clock, VirtualClock)
    ids = []
    async for page in connector.read("customers", None):
        ids += [record["id"] for record in page.records]
        await sandbox.clock.sleep(400)  # past the 300 s the token lives
    await connector.aclose()
    assert sorted(ids) == sorted(sandbox.records("customers"))
    assert sandbox.grants == ["password", "refresh_token", "refresh_token"]


async def test_a_revoked_session_is_renewed_by_refresh_then_by_password(
    sandbox: SugarSandbox,
) -> None:
    connector = sugar_connector(sandbox)
    ids = []
    async for page in connector.read("customers", None):
        ids += [record["id"] for record in page.records]
        if len(ids) == 10:
            sandbox.access.clear()  # an admin ended the session: the refresh still works
        if len(ids) == 20:
            sandbox.access.clear()
            sandbox.refresh.clear()  # and now the refresh token too
    await connector.aclose()
    assert sorted(ids) == sorted(sandbox.records("customers"))
    assert sandbox.grants == ["password", "refresh_token", "password"]


async def test_a_wrong_password_stops_the_run_without_showing_it(sandbox: SugarSandbox) -> None:
    connector = sugar_connector(sandbox, password="Wrong-" + PASSWORD)
    with pytest.raises(AuthError) as raised:
        await _read_all(connector)
    assert "You must specify a valid username and password" in str(raised.value)
    assert "Wrong-" not in str(raised.value)
    assert "oauth2/token" in str(raised.value)


async def test_a_record_changed_during_the_walk_skips_no_other(sandbox: SugarSandbox) -> None:
    connector = sugar_connector(sandbox)
    ids: list[str] = []
    async for page in connector.read("customers", None):
        if not ids:  # with offsets, this would shift every later record back by one
            sandbox.touch("customers", page.records[0]["id"])
        ids += [record["id"] for record in page.records]
    await connector.aclose()
    assert set(ids) == set(sandbox.records("customers"))
    assert len(ids) == 26  # the touched one is read again, at its new place


async def test_an_opt_out_in_the_hub_opts_every_address_out_in_sugar(
    sandbox: SugarSandbox,
) -> None:
    customer = Customer(
        emails=["ana@example.es", "ana.work@example.es"],
        last_name="García",
        consents={Channel.EMAIL: Consent(status=ConsentStatus.UNSUBSCRIBED)},
    )
    connector = sugar_connector(sandbox)
    [result] = await connector.write("customers", [Change("hub-ana", customer)])
    await connector.aclose()
    assert result.ok and result.external_id is not None
    stored = sandbox.records("customers")[result.external_id]
    assert [(e["email_address"], e["opt_out"]) for e in stored["email"]] == [
        ("ana@example.es", True),
        ("ana.work@example.es", True),
    ]
    assert stored["sync_key"] == "hub-ana"


async def test_without_sync_key_a_contact_is_found_by_email_and_updated(
    sandbox: SugarSandbox,
) -> None:
    existing = next(iter(sandbox.records("customers").values()))
    customer = Customer(emails=[existing["email1"]], last_name="Renamed")
    connector = sugar_connector(sandbox, upsert_by_sync_key=False)
    results = await connector.write(
        "customers",
        [Change("hub-1", customer), Change("hub-2", Customer(emails=["new@example.com"]))],
    )
    await connector.aclose()
    assert [r.ok for r in results] == [True, True]
    assert results[0].external_id == existing["id"]
    assert sandbox.records("customers")[existing["id"]]["last_name"] == "Renamed"
    assert len(sandbox.records("customers")) == 26
    assert "sync_key" not in {request.path.split("/")[-2] for request in sandbox.requests}


async def test_a_contact_the_hub_links_is_updated_by_id_and_keeps_its_sync_key(
    sandbox: SugarSandbox,
) -> None:
    existing = next(iter(sandbox.records("customers").values()))
    connector = sugar_connector(sandbox)
    change = Change("hub-9", Customer(emails=[existing["email1"]]), external_id=existing["id"])
    [result] = await connector.write("customers", [change])
    await connector.aclose()
    assert result.external_id == existing["id"]
    assert sandbox.records("customers")[existing["id"]]["sync_key"] is None


async def test_a_refused_write_gets_its_error_and_the_batch_goes_on(
    sandbox: SugarSandbox,
) -> None:
    connector = sugar_connector(sandbox)
    results = await connector.write(
        "customers",
        [
            Change("h1", Customer(emails=["a@example.com"]), external_id="gone"),
            Change("h2", Customer(emails=["b@example.com"])),
        ],
    )
    await connector.aclose()
    assert [r.ok for r in results] == [False, True]
    assert results[0].error is not None and "Could not find record: gone" in results[0].error


async def test_a_walk_stops_at_next_offset_minus_one_without_asking_again(
    sandbox: SugarSandbox,
) -> None:
    """25 contacts in pages of 10: three filter requests, the last answered -1, and no fourth."""
    sandbox.requests.clear()
    ids = await _read_all(sugar_connector(sandbox))
    filters = [r for r in sandbox.requests if r.path.endswith("/Contacts/filter")]
    assert len(ids) == 25 and len(filters) == 3


async def test_the_contacts_of_many_accounts_are_read_to_next_offset_minus_one(
    sandbox: SugarSandbox,
) -> None:
    """The accounts stream's second walk pages by offset until Sugar answers -1."""
    sandbox.requests.clear()
    ids = await _read_all(sugar_connector(sandbox), "accounts")
    accounts = [r for r in sandbox.requests if r.path.endswith("/Accounts/filter")]
    contacts = [r for r in sandbox.requests if r.path.endswith("/Contacts/filter")]
    order = sorted(
        sandbox.modules["Accounts"].values(), key=lambda a: (a["date_modified"], a["id"])
    )
    employers = [c["account_id"] for c in sandbox.modules["Contacts"].values()]
    staff = [  # contacts of each page of 10 accounts
        sum(employer in {a["id"] for a in order[start : start + 10]} for employer in employers)
        for start in (0, 10)
    ]
    assert sorted(ids) == sorted(sandbox.records("accounts"))
    assert len(accounts) == 2  # 13 accounts in pages of 10
    assert len(contacts) == sum(-(-n // 10) for n in staff)  # each walk stops at -1
