"""The openCRX sandbox keeps the REST facts the openCRX docs state (see its docstring)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from connectors.opencrx.sandbox import PASSWORD, ROOT, USERNAME, OpenCrxSandbox
from hub.http import VirtualClock

pytestmark = pytest.mark.anyio
CONTACTS = {"queryType": "org:opencrx:kernel:account1:Contact"}


@pytest.fixture
def sandbox() -> OpenCrxSandbox:
    sandbox = OpenCrxSandbox(clock=VirtualClock())
    sandbox.populate(30, seed=3)
    return sandbox


@pytest.fixture
async def api(sandbox: OpenCrxSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with sandbox.client(auth=(USERNAME, PASSWORD)) as client:
        yield client


async def test_basic_auth_is_required(sandbox: OpenCrxSandbox) -> None:
    async with sandbox.client(auth=(USERNAME, "wrong")) as client:
        response = await client.get(f"{ROOT}/account")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="openCRX"'


async def test_result_sets_page_by_position_and_size(api: httpx.AsyncClient) -> None:
    first = (await api.get(f"{ROOT}/account", params=CONTACTS)).json()
    last = (await api.get(f"{ROOT}/account", params={**CONTACTS, "position": 25})).json()
    assert first["@type"] == "org.openmdx.kernel.ResultSet"
    assert (len(first["objects"]), first["@hasMore"]) == (25, "true")  # size 25 by default
    assert (len(last["objects"]), last["@hasMore"]) == (5, "false")
    contact = first["objects"][0]
    assert contact["@type"] == "org.opencrx.kernel.account1.Contact"
    assert contact["identity"].startswith("xri://@openmdx*org.opencrx.kernel.account1/")
    assert contact["modifiedAt"].endswith("Z")


async def test_queries_filter_and_order_with_openmdx_statements(api: httpx.AsyncClient) -> None:
    rows = (await api.get(f"{ROOT}/account", params={**CONTACTS, "size": 100})).json()["objects"]
    mark = sorted(r["modifiedAt"] for r in rows)[20]
    query = (
        f"thereExistsModifiedAt().greaterThanOrEqualTo(:datetime:{mark});"
        "orderByModifiedAt().descending()"
    )
    found = (await api.get(f"{ROOT}/account", params={**CONTACTS, "query": query})).json()
    named = f'thereExistsLastName().equalTo("{rows[0]["lastName"]}")'
    by_name = (await api.get(f"{ROOT}/account", params={"query": named})).json()["objects"]
    stamps = [r["modifiedAt"] for r in found["objects"]]
    assert len(stamps) == 10 and stamps == sorted(stamps, reverse=True) and stamps[-1] == mark
    assert rows[0]["@href"] in {r["@href"] for r in by_name}


async def test_an_unknown_statement_is_a_400(api: httpx.AsyncClient) -> None:
    response = await api.get(f"{ROOT}/account", params={"query": "whereever(1)"})
    assert response.status_code == 400 and "Unsupported" in response.json()["message"]


async def test_addresses_live_under_their_account(
    sandbox: OpenCrxSandbox, api: httpx.AsyncClient
) -> None:
    account_id = next(iter(sandbox.records("customers")))
    addresses = (await api.get(f"{ROOT}/account/{account_id}/address")).json()["objects"]
    missing = await api.get(f"{ROOT}/account/NOPE/address")
    assert {a["@type"].rsplit(".", 1)[-1] for a in addresses} == {
        "EMailAddress",
        "PhoneNumber",
        "PostalAddress",
    }
    assert all(a["@href"].startswith(f"{ROOT}/account/{account_id}/address/") for a in addresses)
    assert missing.status_code == 404
