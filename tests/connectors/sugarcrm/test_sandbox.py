"""The SugarCRM sandbox keeps Sugar's contract: sessions, errors, filters, paging, upserts.

The token request and refresh fields, the token answer, the ``OAuth-Token``
header, the error body and the paths come from SugarCRM's own PHP client
(tests/fixtures/vendor/sugarcrm/); the rest follows Sugar's REST docs.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.sugarcrm.sandbox import CLIENT_ID, PASSWORD, USERNAME, SugarSandbox
from hub.http import VirtualClock

pytestmark = pytest.mark.anyio
CATALOGUE = json.loads(
    (
        Path(__file__).parents[2]
        / "fixtures/vendor/sugarcrm/v10_endpoint_catalogue_from_rest-php-client.json"
    ).read_text()
)
ROOT = "/rest/v11_20"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
LOGIN = {
    "grant_type": "password",
    "username": USERNAME,
    "password": PASSWORD,
    "client_id": CLIENT_ID,
    "client_secret": "",
    "platform": "crmhub",
}


@pytest.fixture
def sandbox() -> SugarSandbox:
    sandbox = SugarSandbox(clock=VirtualClock(), token_lifetime=600)
    sandbox.populate(30, seed=3)
    return sandbox


@pytest.fixture
async def api(sandbox: SugarSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with sandbox.client() as client:
        token = (await client.post(f"{ROOT}/oauth2/token", json=LOGIN)).json()
        client.headers[CATALOGUE["auth_header"].split(":")[0]] = token["access_token"]
        yield client


async def _filter(api: httpx.AsyncClient, module: str, **body: Any) -> Any:
    response = await api.post(f"{ROOT}/{module}/filter", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_token_answer_has_the_fields_sugars_client_reads(sandbox: SugarSandbox) -> None:
    assert set(LOGIN) == set(CATALOGUE["oauth2_token_request"]["body"])
    async with sandbox.client() as client:
        form = await client.post(f"{ROOT}/oauth2/token", data=LOGIN)  # a form works as well
        token = (await client.post(f"{ROOT}/oauth2/token", json=LOGIN)).json()
    assert form.status_code == 200
    assert set(CATALOGUE["oauth2_token_response_fields_used_by_client"]) <= set(token)
    assert token["expires_in"] == 600


async def test_a_refresh_rotates_the_refresh_token(sandbox: SugarSandbox) -> None:
    async with sandbox.client() as client:
        first = (await client.post(f"{ROOT}/oauth2/token", json=LOGIN)).json()
        refresh = {
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": CLIENT_ID,
            "client_secret": "",
        }
        assert set(refresh) == set(CATALOGUE["oauth2_refresh_request"]["body"])
        renewed = await client.post(f"{ROOT}/oauth2/token", json=refresh)
        again = await client.post(f"{ROOT}/oauth2/token", json=refresh)
    assert renewed.status_code == 200 and renewed.json()["refresh_token"] != first["refresh_token"]
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant", "error_message": "Invalid refresh token"}


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "need_login"), ({"OAuth-Token": "not-a-token"}, "invalid_grant")],
)
async def test_calls_without_a_live_token_are_refused(
    sandbox: SugarSandbox, headers: dict[str, str], code: str
) -> None:
    async with sandbox.client(headers=headers) as client:
        response = await client.post(f"{ROOT}/Contacts/filter", json={})
    assert response.status_code == 401
    assert set(response.json()) == set(CATALOGUE["error_body_fields_used_by_client"])
    assert response.json()["error"] == code


async def test_tokens_expire_on_the_sandbox_clock(
    sandbox: SugarSandbox, api: httpx.AsyncClient
) -> None:
    assert (await api.post(f"{ROOT}/Contacts/filter", json={})).status_code == 200
    assert isinstance(sandbox.clock, VirtualClock)
    await sandbox.clock.sleep(601)
    expired = await api.post(f"{ROOT}/Contacts/filter", json={})
    assert (expired.status_code, expired.json()["error"]) == (401, "invalid_grant")


async def test_a_wrong_password_is_refused_in_sugars_words(sandbox: SugarSandbox) -> None:
    async with sandbox.client() as client:
        response = await client.post(f"{ROOT}/oauth2/token", json=LOGIN | {"password": "x"})
    assert response.status_code == 401
    assert response.json()["error"] == "need_login"


async def test_the_paths_of_sugars_client_are_served(api: httpx.AsyncClient) -> None:
    used = {("POST", "{module}/filter"), ("POST", "{module}"), ("GET", "{module}/{record}")}
    assert used <= {(e["method"], e["path"]) for e in CATALOGUE["endpoints"]}
    created = await api.post(f"{ROOT}/Contacts", json={"last_name": "Nuevo"})
    read = await api.get(f"{ROOT}/Contacts/{created.json()['id']}")
    missing = await api.get(f"{ROOT}/Contacts/nope")
    assert read.json()["last_name"] == "Nuevo"
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


async def test_filter_pages_end_with_next_offset_minus_one(api: httpx.AsyncClient) -> None:
    first = await _filter(api, "Contacts", max_num=20, order_by="date_modified:ASC")
    rest = await _filter(api, "Contacts", max_num=20, offset=20, order_by="date_modified:ASC")
    default = await _filter(api, "Contacts")
    assert (len(first["records"]), first["next_offset"]) == (20, 20)
    assert (len(rest["records"]), rest["next_offset"]) == (10, -1)
    assert len(default["records"]) == 20  # Sugar's default max_num
    stamps = [r["date_modified"] for r in first["records"] + rest["records"]]
    assert stamps == sorted(stamps) and all(STAMP.match(s) for s in stamps)


async def test_filters_combine_or_and_and_compare_times_across_offsets(
    api: httpx.AsyncClient,
) -> None:
    rows = (await _filter(api, "Contacts", max_num=100, order_by="date_modified:ASC"))["records"]
    mark = rows[9]
    later_in_madrid = mark["date_modified"].replace("+00:00", "+02:00")  # two hours earlier
    after = [
        {
            "$or": [
                {"date_modified": {"$gt": mark["date_modified"]}},
                {"$and": [{"date_modified": mark["date_modified"]}, {"id": {"$gt": mark["id"]}}]},
            ]
        }
    ]
    found = await _filter(api, "Contacts", filter=after, max_num=100, order_by="date_modified:ASC")
    shifted = await _filter(
        api, "Contacts", filter=[{"date_modified": {"$gte": later_in_madrid}}], max_num=100
    )
    assert [r["id"] for r in found["records"]] == [r["id"] for r in rows[10:]]
    assert len(shifted["records"]) == 30  # 2 h before the mark: every contact


async def test_email_filters_match_any_address_whatever_the_case(api: httpx.AsyncClient) -> None:
    rows = (await _filter(api, "Contacts", max_num=1))["records"]
    address = rows[0]["email"][0]["email_address"].upper()
    found = await _filter(api, "Contacts", filter=[{"email_addresses.email_address": address}])
    assert [r["id"] for r in found["records"]] == [rows[0]["id"]]


@pytest.mark.parametrize(
    "condition",
    [
        {"last_name": {"$like": "x"}},
        {"no_such_field": "x"},
        {"date_modified": {"$gt": "yesterday"}},
    ],
)
async def test_a_bad_filter_is_a_422(api: httpx.AsyncClient, condition: dict[str, Any]) -> None:
    response = await api.post(f"{ROOT}/Contacts/filter", json={"filter": [condition]})
    assert response.status_code == 422 and response.json()["error"] == "invalid_parameter"


async def test_sync_key_upserts_create_once_then_update(
    sandbox: SugarSandbox, api: httpx.AsyncClient
) -> None:
    path = f"{ROOT}/Contacts/sync_key/hub-1"
    created = (await api.patch(path, json={"last_name": "Uno"})).json()
    updated = (await api.patch(path, json={"first_name": "Ana"})).json()
    assert created["id"] == updated["id"] and created["sync_key"] == "hub-1"
    assert (updated["first_name"], updated["last_name"]) == ("Ana", "Uno")
    assert len(sandbox.records("customers")) == 31


async def test_an_email_array_replaces_addresses_but_keeps_their_flags(
    api: httpx.AsyncClient,
) -> None:
    created = (
        await api.post(
            f"{ROOT}/Contacts",
            json={
                "email": [
                    {"email_address": "a@example.com", "primary_address": True, "opt_out": True}
                ]
            },
        )
    ).json()
    sent = [
        {"email_address": "b@example.com", "primary_address": True},
        {"email_address": "A@example.com", "primary_address": False},
    ]
    updated = (await api.put(f"{ROOT}/Contacts/{created['id']}", json={"email": sent})).json()
    assert [(e["email_address"], e["opt_out"]) for e in updated["email"]] == [
        ("b@example.com", False),
        ("A@example.com", True),
    ]
    assert updated["email1"] == "b@example.com"


async def test_a_delete_answers_the_id_and_then_404(api: httpx.AsyncClient) -> None:
    record_id = (await _filter(api, "Contacts", max_num=1))["records"][0]["id"]
    first = await api.delete(f"{ROOT}/Contacts/{record_id}")
    second = await api.delete(f"{ROOT}/Contacts/{record_id}")
    assert first.json() == {"id": record_id}
    assert second.status_code == 404


async def test_every_case_belongs_to_a_seeded_contact(sandbox: SugarSandbox) -> None:
    contacts, cases = sandbox.records("customers"), sandbox.records("cases")
    assert len(cases) > len(contacts)
    assert {case["primary_contact_id"] for case in cases.values()} == set(contacts)


async def test_the_same_seed_gives_the_same_people() -> None:
    def people(seed: int) -> list[str]:
        sandbox = SugarSandbox(clock=VirtualClock())
        sandbox.populate(5, seed=seed)
        return [r["email1"] for r in sandbox.records("customers").values()]

    assert people(3) == people(3) != people(4)


async def test_a_contact_serves_its_accounts_current_name(
    sandbox: SugarSandbox, api: httpx.AsyncClient
) -> None:
    account = sandbox.add("accounts", {"name": "Comercial Sur SL", "industry": "Retail"})
    contact = sandbox.add("customers", {"last_name": "Ruiz", "account_id": account["id"]})
    sandbox.edit("accounts", account["id"], name="Comercial Sur y Norte SL")

    read = (await api.get(f"{ROOT}/Contacts/{contact['id']}")).json()
    linked = await _filter(api, "Contacts", filter=[{"account_id": {"$in": [account["id"]]}}])

    assert read["account_name"] == "Comercial Sur y Norte SL"
    assert [r["id"] for r in linked["records"]] == [contact["id"]]
    assert linked["records"][0]["account_name"] == "Comercial Sur y Norte SL"
    assert linked["next_offset"] == -1


async def test_accounts_and_leads_page_by_filter_like_contacts(api: httpx.AsyncClient) -> None:
    for module in ("Accounts", "Leads"):
        first = await _filter(api, module, max_num=10, order_by="date_modified:ASC")
        assert first["next_offset"] == 10 and len(first["records"]) == 10
        assert all(r["_module"] == module for r in first["records"])
