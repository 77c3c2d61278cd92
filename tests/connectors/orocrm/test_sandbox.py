"""The Oro sandbox keeps the documented contract: OAuth2, JSON:API bodies and errors, filters.

No licence-clean Oro material exists; the contract is the list in
connectors/orocrm/sandbox.py, taken from Oro's public API documentation.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from connectors.orocrm.sandbox import CLIENT_ID, CLIENT_SECRET, JSON_API, OroSandbox
from hub.http import VirtualClock

pytestmark = pytest.mark.anyio
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def sandbox() -> OroSandbox:
    sandbox = OroSandbox(clock=VirtualClock())
    sandbox.populate(25, seed=6)
    return sandbox


async def _token(client: httpx.AsyncClient, secret: str = CLIENT_SECRET) -> httpx.Response:
    body = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": secret}
    return await client.post("/oauth2-token", json=body)


@pytest.fixture
async def api(sandbox: OroSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with sandbox.client() as client:
        token = (await _token(client)).json()["access_token"]
        client.headers.update({"Authorization": f"Bearer {token}", "Accept": JSON_API})
        yield client


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.headers["Content-Type"].startswith(JSON_API)
    return list(response.json()["errors"])


async def test_client_credentials_give_an_hour_long_bearer_token(sandbox: OroSandbox) -> None:
    async with sandbox.client() as client:
        granted, refused = await _token(client), await _token(client, "wrong")
    assert granted.json()["token_type"] == "Bearer" and granted.json()["expires_in"] == 3600
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")


async def test_a_missing_or_expired_token_is_401_in_json_api(
    sandbox: OroSandbox, api: httpx.AsyncClient
) -> None:
    async with sandbox.client() as bare:
        missing = await bare.get("/api/contacts")
    assert missing.status_code == 401 and _errors(missing)[0]["status"] == "401"
    assert isinstance(sandbox.clock, VirtualClock)
    await sandbox.clock.sleep(3600)
    expired = await api.get("/api/contacts")
    assert expired.status_code == 401


async def test_pages_sorts_filters_and_the_total_count_header(
    sandbox: OroSandbox, api: httpx.AsyncClient
) -> None:
    first = await api.get("/api/contacts", headers={"X-Include": "totalCount"})
    assert len(first.json()["data"]) == 10  # the default page size
    assert first.headers["X-Include-Total-Count"] == "25"
    since = sorted(c["attributes"]["updatedAt"] for c in sandbox.contacts.values())[20]
    params = {"filter[updatedAt][gte]": since, "sort": "-updatedAt", "page[size]": "3"}
    later = (await api.get("/api/contacts", params=params)).json()["data"]
    stamps = [c["attributes"]["updatedAt"] for c in later]
    assert stamps == sorted(stamps, reverse=True) and min(stamps) >= since and len(stamps) == 3
    assert all(TIMESTAMP.match(stamp) for stamp in stamps)
    third = (await api.get("/api/contacts", params={"page[number]": "3"})).json()["data"]
    assert [c["id"] for c in third] == [str(n) for n in range(21, 26)]


async def test_include_puts_the_addresses_in_included(api: httpx.AsyncClient) -> None:
    document = (await api.get("/api/contacts", params={"include": "addresses"})).json()
    wanted = {a["id"] for c in document["data"] for a in c["relationships"]["addresses"]["data"]}
    assert {a["id"] for a in document["included"]} == wanted
    assert all(a["type"] == "contactaddresses" for a in document["included"])
    assert "included" not in (await api.get("/api/contacts")).json()


@pytest.mark.parametrize(
    ("params", "title", "parameter"),
    [
        ({"filter[nickname]": "x"}, "filter constraint", "filter[nickname]"),
        ({"filter[id]": "aaa"}, "unexpected value exception", "filter[id]"),
        (
            {"filter[updatedAt][gte]": "yesterday"},
            "unexpected value exception",
            "filter[updatedAt][gte]",
        ),
        ({"sort": "nickname"}, "sort constraint", "sort"),
        ({"include": "pets"}, "request data constraint", "include"),
    ],
)
async def test_bad_queries_are_400_naming_the_parameter(
    api: httpx.AsyncClient, params: dict[str, str], title: str, parameter: str
) -> None:
    response = await api.get("/api/contacts", params=params)
    [error] = _errors(response)
    assert (response.status_code, error["title"], error["source"]) == (
        400,
        title,
        {"parameter": parameter},
    )


def _patch(contact_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    document = {"data": {"type": "contacts", "id": contact_id, "attributes": attributes}}
    return {"content": json.dumps(document), "headers": {"Content-Type": JSON_API}}


async def test_patch_changes_only_what_it_sends(
    sandbox: OroSandbox, api: httpx.AsyncClient
) -> None:
    before = sandbox.records("customers")["1"]["attributes"]
    response = await api.patch("/api/contacts/1", **_patch("1", {"lastName": "Nuevo"}))
    after = response.json()["data"]["attributes"]
    assert after["lastName"] == "Nuevo" and after["updatedAt"] > before["updatedAt"]
    assert {k: v for k, v in after.items() if k not in ("lastName", "updatedAt")} == {
        k: v for k, v in before.items() if k not in ("lastName", "updatedAt")
    }


@pytest.mark.parametrize(
    ("path", "request_body", "status", "pointer"),
    [
        (
            "1",
            {"emails": [{"email": "ok@example.com"}, {"email": "a@@b"}]},
            400,
            "/data/attributes/emails/1/email",
        ),
        ("1", {"nickname": "X"}, 400, "/data/attributes/nickname"),
        ("2", {"lastName": "X"}, 409, "/data/id"),
    ],
)
async def test_refused_writes_point_at_the_field(
    api: httpx.AsyncClient, path: str, request_body: dict[str, Any], status: int, pointer: str
) -> None:
    response = await api.patch(f"/api/contacts/{path}", **_patch("1", request_body))
    assert response.status_code == status and _errors(response)[0]["source"] == {"pointer": pointer}


async def test_writes_need_the_json_api_media_type_and_a_name_or_address(
    api: httpx.AsyncClient,
) -> None:
    plain = await api.post("/api/contacts", json={"data": {"type": "contacts", "attributes": {}}})
    assert plain.status_code == 415
    document = {"data": {"type": "contacts", "attributes": {"jobTitle": "CEO"}}}
    empty = await api.post(
        "/api/contacts", content=json.dumps(document), headers={"Content-Type": JSON_API}
    )
    assert empty.status_code == 400 and _errors(empty)[0]["title"] == "not blank constraint"
    document["data"]["attributes"] = {"lastName": "Li"}
    created = await api.post(
        "/api/contacts", content=json.dumps(document), headers={"Content-Type": JSON_API}
    )
    assert created.status_code == 201 and created.json()["data"]["id"] == "26"


async def test_unknown_ids_are_404_and_delete_is_204(api: httpx.AsyncClient) -> None:
    missing = await api.get("/api/contacts/999")
    assert missing.status_code == 404 and _errors(missing)[0]["title"] == "not found http exception"
    assert (await api.delete("/api/contacts/1")).status_code == 204
    assert (await api.delete("/api/contacts/1")).status_code == 404


def _json_api(document: dict[str, Any]) -> dict[str, Any]:
    return {"content": json.dumps(document), "headers": {"Content-Type": JSON_API}}


async def test_accounts_opportunities_and_magento_customers_page_filter_and_include(
    sandbox: OroSandbox, api: httpx.AsyncClient
) -> None:
    accounts = (await api.get("/api/accounts", params={"include": "contacts"})).json()
    assert len(accounts["data"]) == 10 and all(a["type"] == "accounts" for a in accounts["data"])
    members = {c["id"] for a in accounts["data"] for c in a["relationships"]["contacts"]["data"]}
    assert {c["id"] for c in accounts["included"]} == members
    for contact in accounts["included"]:  # both sides of the relationship agree
        assert contact["relationships"]["accounts"]["data"][0]["type"] == "accounts"
    since = sorted(o["attributes"]["updatedAt"] for o in sandbox.opportunities.values())[22]
    params = {"filter[updatedAt][gt]": since, "page[size]": "-1", "include": "contact,account"}
    later = (await api.get("/api/opportunities", params=params)).json()
    assert later["data"] and all(o["attributes"]["updatedAt"] > since for o in later["data"])
    kinds = {resource["type"] for resource in later["included"]}
    assert kinds == {"contacts", "accounts"}
    status = later["data"][0]["relationships"]["status"]["data"]
    assert status["type"] == "opportunitystatuses"
    assert status["id"] in ("in_progress", "won", "lost")
    email = sandbox.magento_customers[3]["attributes"]["email"].upper()
    found = (await api.get("/api/magentocustomers", params={"filter[email]": email})).json()
    assert [m["id"] for m in found["data"]] == ["3"]
    assert found["data"][0]["attributes"]["originId"] == 3


@pytest.mark.parametrize(
    ("path", "params", "title", "parameter"),
    [
        ("/api/accounts", {"filter[primaryEmail]": "x@y.z"}, "filter constraint", None),
        ("/api/opportunities", {"include": "addresses"}, "request data constraint", "include"),
        ("/api/magentocustomers", {"sort": "lifetime"}, "sort constraint", "sort"),
    ],
)
async def test_each_kind_has_its_own_filters_sorts_and_includes(
    api: httpx.AsyncClient, path: str, params: dict[str, str], title: str, parameter: str | None
) -> None:
    response = await api.get(path, params=params)
    [error] = _errors(response)
    assert (response.status_code, error["title"]) == (400, title)
    assert error["source"] == {"parameter": parameter or next(iter(params))}


async def test_unknown_kinds_are_404_and_read_only_kinds_refuse_writes(
    api: httpx.AsyncClient,
) -> None:
    assert (await api.get("/api/pets")).status_code == 404
    document = {"data": {"type": "accounts", "attributes": {"name": "X"}}}
    refused = await api.post("/api/accounts", **_json_api(document))
    assert refused.status_code == 405 and _errors(refused)[0]["status"] == "405"


async def test_contact_addresses_are_created_changed_and_removed_as_resources(
    sandbox: OroSandbox, api: httpx.AsyncClient
) -> None:
    before = sandbox.contacts[2]["attributes"]["updatedAt"]
    created = await api.post(
        "/api/contactaddresses",
        **_json_api(
            {
                "data": {
                    "type": "contactaddresses",
                    "attributes": {"street": "Rua Augusta 1", "city": "Lisboa", "primary": True},
                    "relationships": {
                        "owner": {"data": {"type": "contacts", "id": "2"}},
                        "country": {"data": {"type": "countries", "id": "PT"}},
                    },
                }
            }
        ),
    )
    assert created.status_code == 201
    address = created.json()["data"]
    contact = (await api.get("/api/contacts/2", params={"include": "addresses"})).json()
    held = {a["id"]: a["attributes"]["primary"] for a in contact["included"]}
    assert held == {address["id"]: True, "2": False}  # one primary per contact
    assert contact["data"]["attributes"]["updatedAt"] > before  # the contact was saved too
    patch = {"type": "contactaddresses", "id": address["id"], "attributes": {"city": "Porto"}}
    changed = await api.patch(
        f"/api/contactaddresses/{address['id']}", **_json_api({"data": patch})
    )
    assert changed.json()["data"]["attributes"]["street"] == "Rua Augusta 1"  # only what was sent
    assert changed.json()["data"]["attributes"]["city"] == "Porto"
    patch = {
        "type": "contactaddresses",
        "id": address["id"],
        "relationships": {"country": {"data": None}},
    }
    cleared = await api.patch(
        f"/api/contactaddresses/{address['id']}", **_json_api({"data": patch})
    )
    assert cleared.status_code == 400  # the country must remain defined
    assert _errors(cleared)[0]["source"] == {"pointer": "/data/relationships/country/data"}
    assert (await api.delete(f"/api/contactaddresses/{address['id']}")).status_code == 204
    assert [a["id"] for a in sandbox.contacts[2]["relationships"]["addresses"]["data"]] == ["2"]


OWNER = {"owner": {"data": {"type": "contacts", "id": "1"}}}
SPAIN = {"country": {"data": {"type": "countries", "id": "ES"}}}
HOME = {"types": {"data": [{"type": "addresstypes", "id": "home"}]}}
NOBODY = {"owner": {"data": {"type": "contacts", "id": "999"}}}


@pytest.mark.parametrize(
    ("relationships", "status", "pointer"),
    [
        (OWNER, 400, "/data/relationships/country/data"),
        (SPAIN, 400, "/data/relationships/owner/data"),
        (NOBODY | SPAIN, 404, "/data/relationships/owner/data"),
        (OWNER | SPAIN | HOME, 404, "/data/relationships/types/data"),
    ],
)
async def test_an_address_needs_its_contact_and_a_country(
    api: httpx.AsyncClient, relationships: dict[str, Any], status: int, pointer: str
) -> None:
    document = {
        "data": {
            "type": "contactaddresses",
            "attributes": {"street": "Calle 1"},
            "relationships": relationships,
        }
    }
    response = await api.post("/api/contactaddresses", **_json_api(document))
    assert response.status_code == status
    assert _errors(response)[0]["source"] == {"pointer": pointer}


async def test_deleting_a_contact_takes_its_addresses_and_clears_it_elsewhere(
    sandbox: OroSandbox, api: httpx.AsyncClient
) -> None:
    assert (await api.delete("/api/contacts/4")).status_code == 204
    assert 4 not in sandbox.addresses  # populate gives contact n address n
    assert sandbox.accounts[4]["relationships"]["contacts"]["data"] == []
    assert sandbox.opportunities[4]["relationships"]["contact"]["data"] is None
    assert sandbox.magento_customers[4]["relationships"]["contact"]["data"] is None
