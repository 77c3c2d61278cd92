"""The vTiger sandbox keeps the webservice contract its public docs describe.

No licence-clean vTiger material exists, so these tests hold the emulator to
the documented behaviour listed in connectors/vtiger/sandbox.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from connectors.vtiger.sandbox import ACCESS_KEY, USERNAME, VtigerSandbox
from hub.http import VirtualClock

pytestmark = pytest.mark.anyio
WS = "/webservice.php"
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


@pytest.fixture
def sandbox() -> VtigerSandbox:
    sandbox = VtigerSandbox(clock=VirtualClock(), session_lifetime=600, sync_limit=10)
    sandbox.populate(20, seed=3)
    return sandbox


async def _login(client: httpx.AsyncClient, key: str = ACCESS_KEY) -> Any:
    challenge = (
        await client.get(WS, params={"operation": "getchallenge", "username": USERNAME})
    ).json()
    digest = hashlib.md5((challenge["result"]["token"] + key).encode()).hexdigest()
    form = {"operation": "login", "username": USERNAME, "accessKey": digest}
    return (await client.post(WS, data=form)).json()


@pytest.fixture
async def api(sandbox: VtigerSandbox) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    async with sandbox.client() as client:
        yield client, (await _login(client))["result"]["sessionName"]


async def _get(api: tuple[httpx.AsyncClient, str], **params: Any) -> Any:
    client, session = api
    response = await client.get(WS, params={"sessionName": session, **params})
    assert response.status_code == 200
    return response.json()


async def _post(api: tuple[httpx.AsyncClient, str], **form: Any) -> Any:
    client, session = api
    response = await client.post(WS, data={"sessionName": session, **form})
    assert response.status_code == 200
    return response.json()


async def test_login_takes_md5_of_the_challenge_and_the_access_key(sandbox: VtigerSandbox) -> None:
    async with sandbox.client() as client:
        good = await _login(client)
        bad = await _login(client, key="wrong")
    assert good["success"] is True
    assert set(good["result"]) == {"sessionName", "userId", "version", "vtigerVersion"}
    assert bad == {
        "success": False,
        "error": {"code": "INVALID_AUTH_TOKEN", "message": "Specified token is invalid or expired"},
    }


async def test_errors_are_http_200_with_success_false(sandbox: VtigerSandbox) -> None:
    async with sandbox.client() as client:
        missing = await client.get(
            WS, params={"operation": "query", "query": "select * from Contacts;"}
        )
        unknown = await client.get(WS, params={"operation": "sync", "sessionName": "nope"})
    assert missing.status_code == unknown.status_code == 200
    assert missing.json()["error"]["code"] == "AUTHENTICATION_REQUIRED"
    assert unknown.json()["error"]["code"] == "INVALID_SESSIONID"


async def test_idle_sessions_expire_on_the_sandbox_clock(
    sandbox: VtigerSandbox, api: tuple[httpx.AsyncClient, str]
) -> None:
    query = {"operation": "query", "query": "select * from Contacts limit 1;"}
    assert (await _get(api, **query))["success"] is True
    assert isinstance(sandbox.clock, VirtualClock)
    await sandbox.clock.sleep(601)
    assert (await _get(api, **query))["error"]["code"] == "INVALID_SESSIONID"


async def test_sync_batches_changes_and_never_splits_a_second(
    sandbox: VtigerSandbox, api: tuple[httpx.AsyncClient, str]
) -> None:
    contacts = sorted(sandbox.records("customers").values(), key=lambda c: c["modifiedtime"])
    for contact in contacts[10:12]:  # the 10th, 11th and 12th change in one second
        sandbox.modules["Contacts"][contact["id"]]["modifiedtime"] = contacts[9]["modifiedtime"]
    first = (await _get(api, operation="sync", elementType="Contacts", modifiedTime=0))["result"]
    rest = (
        await _get(
            api, operation="sync", elementType="Contacts", modifiedTime=first["lastModifiedTime"]
        )
    )["result"]
    assert len(first["updated"]) == 12 and first["more"] is True  # the limit is 10
    assert len(rest["updated"]) == 8 and rest["more"] is False
    assert {c["id"] for c in first["updated"] + rest["updated"]} == {c["id"] for c in contacts}
    assert all(STAMP.match(c["modifiedtime"]) for c in first["updated"])


async def test_sync_reports_deletions_once_they_happen(
    sandbox: VtigerSandbox, api: tuple[httpx.AsyncClient, str]
) -> None:
    everything = (await _get(api, operation="sync", elementType="Contacts", modifiedTime=0))[
        "result"
    ]
    mark = max(int(everything["lastModifiedTime"]), 0)
    while everything["more"]:
        everything = (await _get(api, operation="sync", elementType="Contacts", modifiedTime=mark))[
            "result"
        ]
        mark = everything["lastModifiedTime"]
    gone = next(iter(sandbox.records("customers")))
    assert (await _post(api, operation="delete", id=gone))["result"] == {"status": "successful"}
    after = (await _get(api, operation="sync", elementType="Contacts", modifiedTime=mark))["result"]
    assert (after["updated"], after["deleted"]) == ([], [gone])


async def test_query_pages_with_limit_and_caps_at_100(
    sandbox: VtigerSandbox, api: tuple[httpx.AsyncClient, str]
) -> None:
    sandbox.populate(100, seed=4)
    page = await _get(
        api, operation="query", query="select * from Contacts order by modifiedtime limit 5, 10;"
    )
    capped = await _get(api, operation="query", query="select * from Contacts limit 500;")
    broken = await _get(api, operation="query", query="select * from Contacts")
    stamps = [c["modifiedtime"] for c in page["result"]]
    assert len(stamps) == 10 and stamps == sorted(stamps)
    assert len(capped["result"]) == 100
    assert broken["error"]["code"] == "QUERY_SYNTAX_ERROR"


async def test_query_conditions_and_bind_before_or(
    sandbox: VtigerSandbox, api: tuple[httpx.AsyncClient, str]
) -> None:
    one, two = list(sandbox.records("customers").values())[:2]
    statement = (
        f"select id, lastname from Contacts where email = '{one['email']}' and "
        f"lastname = '{one['lastname']}' or id = '{two['id']}';"
    )
    rows = (await _get(api, operation="query", query=statement))["result"]
    assert rows == [
        {"id": one["id"], "lastname": one["lastname"]},
        {"id": two["id"], "lastname": two["lastname"]},
    ]


async def test_create_needs_the_mandatory_fields_and_revise_changes_only_those_sent(
    api: tuple[httpx.AsyncClient, str],
) -> None:
    refused = await _post(
        api, operation="create", elementType="Contacts", element=json.dumps({"firstname": "Ana"})
    )
    element = {"lastname": "García", "email": "ana@example.es", "assigned_user_id": "19x1"}
    created = (
        await _post(api, operation="create", elementType="Contacts", element=json.dumps(element))
    )["result"]
    revised = (
        await _post(
            api, operation="revise", element=json.dumps({"id": created["id"], "firstname": "Ana"})
        )
    )["result"]
    assert refused["error"]["code"] == "MANDATORY_FIELDS_MISSING"
    assert created["id"].startswith("12x")
    assert (revised["firstname"], revised["lastname"]) == ("Ana", "García")
    assert revised["modifiedtime"] > created["modifiedtime"]


async def test_an_unknown_record_and_module_are_refused_in_vtigers_words(
    api: tuple[httpx.AsyncClient, str],
) -> None:
    missing = await _get(api, operation="retrieve", id="12x999999")
    module = await _get(api, operation="sync", elementType="Potions", modifiedTime=0)
    assert missing["error"]["code"] == "RECORD_NOT_FOUND"
    assert module["error"]["code"] == "INVALID_MODULE"


async def test_tickets_belong_to_seeded_contacts(sandbox: VtigerSandbox) -> None:
    contacts, tickets = sandbox.records("customers"), sandbox.records("tickets")
    assert len(tickets) > len(contacts)
    assert {t["contact_id"] for t in tickets.values()} == set(contacts)
    assert all(t["id"].startswith("17x") for t in tickets.values())


@pytest.mark.parametrize(
    ("module", "prefix", "mandatory"),
    [("Leads", "10x", "lastname"), ("Accounts", "11x", "accountname")],
)
async def test_leads_and_accounts_have_their_ids_and_mandatory_fields(
    api: tuple[httpx.AsyncClient, str], module: str, prefix: str, mandatory: str
) -> None:
    refused = await _post(
        api, operation="create", elementType=module, element=json.dumps({"phone": "1"})
    )
    element = {mandatory: "Ruiz", "assigned_user_id": "19x1"}
    created = await _post(api, operation="create", elementType=module, element=json.dumps(element))
    synced = await _get(api, operation="sync", elementType=module, modifiedTime=0)
    assert refused["error"]["code"] == "MANDATORY_FIELDS_MISSING"
    assert created["result"]["id"].startswith(prefix)
    assert synced["success"] and synced["result"]["updated"]
    assert all(r["id"].startswith(prefix) for r in synced["result"]["updated"])


async def test_a_contact_serves_its_account_as_a_reference_only(
    api: tuple[httpx.AsyncClient, str], sandbox: VtigerSandbox
) -> None:
    [linked, *_] = [c for c in sandbox.modules["Contacts"].values() if c.get("account_id")]
    served = (await _get(api, operation="retrieve", id=linked["id"]))["result"]
    named = await _get(
        api,
        operation="query",
        query=f"select accountname from Accounts where id = '{linked['account_id']}';",
    )
    assert served["account_id"].startswith("11x") and "accountname" not in served
    assert named["result"] == [
        {
            "id": linked["account_id"],
            "accountname": sandbox.modules["Accounts"][linked["account_id"]]["accountname"],
        }
    ]
