"""What the vTiger connector does beyond the standard suite: sessions, errors, queries, writes."""

from __future__ import annotations

import pytest

from connectors.vtiger.connector import VtigerConnector
from connectors.vtiger.sandbox import ACCESS_KEY, VtigerSandbox
from hub.connector import Change
from hub.errors import AuthError, ConfigError, RecordError
from hub.http import VirtualClock
from hub.model import Channel, Consent, ConsentStatus, Customer
from hub.testing.faults import Fault
from tests.connectors.vtiger.test_kit import vtiger_connector

pytestmark = pytest.mark.anyio


@pytest.fixture
def sandbox() -> VtigerSandbox:
    sandbox = VtigerSandbox(clock=VirtualClock(), session_lifetime=300, sync_limit=10)
    sandbox.populate(25, seed=2)
    return sandbox


async def _ids(connector: VtigerConnector, stream: str = "customers") -> list[str]:
    ids = [record["id"] async for page in connector.read(stream, None) for record in page.records]
    await connector.aclose()
    return ids


async def test_an_expired_session_signs_in_again_and_the_sync_goes_on(
    sandbox: VtigerSandbox,
) -> None:
    connector = vtiger_connector(sandbox)
    assert isinstance(sandbox.clock, VirtualClock)
    ids = []
    async for page in connector.read("customers", None):
        ids += [record["id"] for record in page.records]
        await sandbox.clock.sleep(400)  # idle past the 300 s a session lives
    await connector.aclose()
    assert sorted(ids) == sorted(sandbox.records("customers"))
    assert sandbox.logins == 3  # one per page after the first


async def test_a_wrong_access_key_stops_the_run_without_showing_it(sandbox: VtigerSandbox) -> None:
    connector = vtiger_connector(sandbox, access_key="Wrong" + ACCESS_KEY)
    with pytest.raises(AuthError) as raised:
        await _ids(connector)
    assert "Specified token is invalid or expired" in str(raised.value)
    assert "Wrong" not in str(raised.value)


async def test_success_false_is_an_error_never_data(sandbox: VtigerSandbox) -> None:
    sandbox.faults.add(Fault.expire_token(), after=2)  # after getchallenge and login
    sandbox.faults.add(Fault.expire_token(), after=5)  # and again right after signing in anew
    connector = vtiger_connector(sandbox)
    with pytest.raises(AuthError, match="Session Identifier provided is Invalid"):
        await _ids(connector)
    assert len(sandbox.faults.served) == 2


async def test_an_error_code_outside_the_policy_is_a_record_error_not_data(
    sandbox: VtigerSandbox,
) -> None:
    connector = vtiger_connector(sandbox)
    with pytest.raises(RecordError, match="Record you are trying to access is not found"):
        await connector.client.delete("12x999999")  # RECORD_NOT_FOUND has no rule of its own
    await connector.aclose()


async def test_the_query_fallback_reads_everything_once_and_resumes(sandbox: VtigerSandbox) -> None:
    contacts = sorted(sandbox.records("customers").values(), key=lambda c: c["modifiedtime"])
    for contact in contacts[8:13]:  # five changes in one second, across a page edge
        sandbox.modules["Contacts"][contact["id"]]["modifiedtime"] = contacts[8]["modifiedtime"]
    connector = vtiger_connector(sandbox, read_with="query", page_size=10)
    ids, cursor = [], None
    async for page in connector.read("customers", None):
        ids += [record["id"] for record in page.records]
        cursor = page.cursor
    idle = [r["id"] async for page in connector.read("customers", cursor) for r in page.records]
    sandbox.touch("customers", contacts[0]["id"])
    changed = [r["id"] async for page in connector.read("customers", cursor) for r in page.records]
    await connector.aclose()
    assert sorted(ids) == sorted(sandbox.records("customers"))
    assert (idle, changed) == ([], [contacts[0]["id"]])


async def test_an_instance_without_sync_is_read_with_query_by_itself(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox = VtigerSandbox(clock=VirtualClock(), without=frozenset({"sync"}))
    sandbox.populate(25, seed=2)
    connector = vtiger_connector(sandbox, page_size=10)  # read_with: sync, the default
    pages = [page async for page in connector.read("customers", None)]
    cursor = pages[-1].cursor
    sandbox.touch("customers", sorted(sandbox.records("customers"))[0])
    changed = [r["id"] async for page in connector.read("customers", cursor) for r in page.records]
    await connector.aclose()
    assert sorted(r["id"] for p in pages for r in p.records) == sorted(sandbox.records("customers"))
    assert len(pages) == 3  # LIMIT pages of 10
    assert changed == [sorted(sandbox.records("customers"))[0]]
    assert "vTiger refused sync on Contacts, reading with query instead" in caplog.text


async def test_sync_and_query_cursors_carry_over_both_ways(sandbox: VtigerSandbox) -> None:
    """An instance that loses sync (or gets it back) resumes where the other left off."""
    by_sync = vtiger_connector(sandbox)
    sync_cursor = [page.cursor async for page in by_sync.read("customers", None)][-1]
    by_query = vtiger_connector(sandbox, read_with="query")
    query_cursor = [page.cursor async for page in by_query.read("customers", None)][-1]
    edited = sorted(sandbox.records("customers"))[3]
    sandbox.touch("customers", edited)

    after_sync = [r["id"] async for p in by_query.read("customers", sync_cursor) for r in p.records]
    after_query = [
        r["id"] async for p in by_sync.read("customers", query_cursor) for r in p.records
    ]
    await by_sync.aclose()
    await by_query.aclose()
    for after in (after_sync, after_query):  # plus the record at the mark, read again at most
        assert edited in after and len(after) <= 2


async def test_a_module_vtiger_refuses_is_still_a_settings_error(sandbox: VtigerSandbox) -> None:
    connector = vtiger_connector(sandbox)
    with pytest.raises(ConfigError, match="Potions"):
        [page async for page in connector._pages("Potions", None)]
    await connector.aclose()


async def test_an_opt_out_in_the_hub_sets_emailoptout_and_revise_keeps_other_fields(
    sandbox: VtigerSandbox,
) -> None:
    existing = next(iter(sandbox.records("customers").values()))
    customer = Customer(
        emails=[existing["email"]],
        last_name=existing["lastname"],
        consents={Channel.EMAIL: Consent(status=ConsentStatus.UNSUBSCRIBED)},
    )
    connector = vtiger_connector(sandbox)
    [result] = await connector.write("customers", [Change("hub-1", customer)])
    await connector.aclose()
    stored = sandbox.records("customers")[existing["id"]]
    assert result.external_id == existing["id"]  # found by e-mail, not created
    assert stored["emailoptout"] == "1"
    assert stored["contact_no"] == existing["contact_no"]  # revise: fields not sent stay


async def test_a_contact_vtiger_refuses_gets_its_error_and_the_batch_goes_on(
    sandbox: VtigerSandbox,
) -> None:
    connector = vtiger_connector(sandbox)
    results = await connector.write(
        "customers",
        [
            Change("h1", Customer(emails=["nolastname@example.com"])),
            Change("h2", Customer(emails=["b@example.com"], last_name="Bo")),
        ],
    )
    await connector.aclose()
    assert [r.ok for r in results] == [False, True]
    assert results[0].error is not None and "lastname does not have a value" in results[0].error
    assert sandbox.records("customers")[str(results[1].external_id)]["assigned_user_id"] == "19x1"


async def test_deleted_contacts_come_as_tombstones(sandbox: VtigerSandbox) -> None:
    connector = vtiger_connector(sandbox)
    cursor = None
    async for page in connector.read("customers", None):
        cursor = page.cursor
    gone = next(iter(sandbox.records("customers")))
    [result] = await connector.write(
        "customers", [Change("h", Customer(), external_id=gone, op="delete")]
    )
    pages = [page async for page in connector.read("customers", cursor)]
    await connector.aclose()
    assert result.ok
    assert [(page.records, page.deleted) for page in pages] == [([], [gone])]
