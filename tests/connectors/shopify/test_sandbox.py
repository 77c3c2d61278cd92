"""The Shopify sandbox keeps the GraphQL Admin API's contract, checked against vendor material."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.shopify import queries
from connectors.shopify.sandbox import INVALID_TOKEN, TOKEN, ShopifySandbox
from hub.http import VirtualClock

pytestmark = pytest.mark.anyio

VENDOR = Path(__file__).parents[2] / "fixtures" / "vendor" / "shopify"
PATH = "/admin/api/2025-01/graphql.json"
AUTH = {"X-Shopify-Access-Token": TOKEN}


def _vendor(name: str) -> Any:
    return json.loads((VENDOR / name).read_text())


def _shape(value: Any) -> Any:
    """Keys and value types, to compare our bodies with Shopify's recorded ones."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items() if key != "_provenance"}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return "number" if isinstance(value, int | float) else type(value).__name__


@pytest.fixture
def sandbox() -> ShopifySandbox:
    sandbox = ShopifySandbox(clock=VirtualClock())
    sandbox.populate(12, seed=5)
    return sandbox


async def _post(sandbox: ShopifySandbox, query: str, variables: Any = None, **kw: Any) -> Any:
    async with sandbox.client() as client:
        headers = kw.pop("headers", AUTH)
        return await client.post(
            PATH, json={"query": query, "variables": variables}, headers=headers
        )


@pytest.mark.parametrize("token", [None, "shpat_wrong"])
async def test_a_missing_or_wrong_token_gets_shopifys_401(
    sandbox: ShopifySandbox, token: str | None
) -> None:
    headers = {"X-Shopify-Access-Token": token} if token else {}
    response = await _post(sandbox, "{ customers(first: 1) { nodes { id } } }", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"errors": INVALID_TOKEN}


async def test_a_query_error_has_the_recorded_shape(sandbox: ShopifySandbox) -> None:
    recorded = _vendor("graphql/query_error_with_cost_extensions.json")
    response = await _post(sandbox, "{ customers { edges { node { id } } } }")
    body = response.json()
    assert response.status_code == 200
    assert _shape(body) == _shape(recorded)
    assert body["errors"][0]["message"] == recorded["errors"][0]["message"]


async def test_every_answer_reports_the_cost_and_the_bucket(sandbox: ShopifySandbox) -> None:
    response = await _post(
        sandbox, queries.page_query("customers", queries.CUSTOMER_FIELDS), {"first": 10}
    )
    cost = response.json()["extensions"]["cost"]
    per_customer = 1 + queries.ADDRESSES + 3  # node, addresses, two consents, amountSpent
    assert cost["requestedQueryCost"] == 2 + 10 * per_customer
    assert 0 < cost["actualQueryCost"] < cost["requestedQueryCost"]  # one address each, not 3
    assert cost["throttleStatus"] == {
        "maximumAvailable": 2000,
        "currentlyAvailable": 2000 - cost["actualQueryCost"],
        "restoreRate": 100,
    }
    assert response.headers["X-Shopify-API-Version"] == "2025-01"


async def test_an_empty_bucket_throttles_at_http_200_and_charges_nothing(
    sandbox: ShopifySandbox,
) -> None:
    recorded = _vendor("graphql/throttled_error.json")
    sandbox.bucket.available = 5
    response = await _post(
        sandbox, queries.page_query("customers", queries.CUSTOMER_FIELDS), {"first": 10}
    )
    body = response.json()
    assert response.status_code == 200
    assert body["errors"][0]["extensions"]["code"] == recorded["errors"][0]["extensions"]["code"]
    assert body["errors"][0]["message"] == recorded["errors"][0]["message"]
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    assert sandbox.bucket.available == 5
    await sandbox.clock.sleep(1)  # 100 points a second come back
    again = await _post(
        sandbox, queries.page_query("customers", queries.CUSTOMER_FIELDS), {"first": 10}
    )
    assert "errors" not in again.json()


async def test_a_query_over_1000_points_is_refused(sandbox: ShopifySandbox) -> None:
    response = await _post(
        sandbox, queries.page_query("orders", queries.order_fields(50)), {"first": 100}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


async def test_pages_follow_updated_at_and_the_query_filter(sandbox: ShopifySandbox) -> None:
    document = queries.page_query("customers", "id updatedAt")
    seen: list[str] = []
    after = None
    while True:
        data = (await _post(sandbox, document, {"first": 5, "after": after})).json()["data"]
        seen += [edge["node"]["updatedAt"] for edge in data["customers"]["edges"]]
        if not data["customers"]["pageInfo"]["hasNextPage"]:
            break
        after = data["customers"]["pageInfo"]["endCursor"]
    assert len(seen) == 12 and seen == sorted(seen)
    since = seen[8]
    data = (
        await _post(sandbox, document, {"first": 50, "query": f"updated_at:>='{since}'"})
    ).json()
    assert [edge["node"]["updatedAt"] for edge in data["data"]["customers"]["edges"]] == seen[8:]


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"email": "ann@@example.com"}, ["email"], "Email is invalid"),
        ({"phone": "12"}, ["phone"], "Phone is invalid"),
        ({"email": "TAKEN"}, ["email"], "Email has already been taken"),
    ],
)
async def test_invalid_input_comes_back_as_user_errors(
    sandbox: ShopifySandbox, given: dict[str, str], field: list[str], message: str
) -> None:
    if given.get("email") == "TAKEN":
        given = {"email": next(iter(sandbox.state.customers.values()))["email"].upper()}
    response = await _post(
        sandbox, queries.CUSTOMER_CREATE, {"input": {"firstName": "Ann", **given}}
    )
    payload = response.json()["data"]["customerCreate"]
    assert payload["customer"] is None
    assert {"field": field, "message": message} in payload["userErrors"]


async def test_customer_update_refuses_consent_changes(sandbox: ShopifySandbox) -> None:
    customer_id = next(iter(sandbox.state.customers))
    given = {"id": customer_id, "emailMarketingConsent": {"marketingState": "SUBSCRIBED"}}
    response = await _post(sandbox, queries.CUSTOMER_UPDATE, {"input": given})
    errors = response.json()["data"]["customerUpdate"]["userErrors"]
    assert errors[0]["field"] == ["emailMarketingConsent"]
    assert "customerEmailMarketingConsentUpdate" in errors[0]["message"]


async def test_a_bulk_export_writes_children_after_their_parent(sandbox: ShopifySandbox) -> None:
    query = queries.bulk_query("orders", queries.order_fields(None))
    started = (await _post(sandbox, queries.BULK_RUN, {"query": query})).json()
    operation = started["data"]["bulkOperationRunQuery"]["bulkOperation"]
    second = (await _post(sandbox, queries.BULK_RUN, {"query": query})).json()
    assert (
        "already in progress" in second["data"]["bulkOperationRunQuery"]["userErrors"][0]["message"]
    )
    running = (await _post(sandbox, queries.BULK_POLL, {"id": operation["id"]})).json()
    assert running["data"]["node"]["status"] == "RUNNING"
    await sandbox.clock.sleep(5)
    done = (await _post(sandbox, queries.BULK_POLL, {"id": operation["id"]})).json()["data"]["node"]
    assert done["status"] == "COMPLETED"
    async with httpx.AsyncClient(transport=sandbox.transport()) as client:
        whole = await client.get(done["url"])  # no access token: a signed storage URL
        lines = [json.loads(line) for line in whole.text.splitlines()]
        parents = {line["id"] for line in lines if "__parentId" not in line}
        assert len(parents) == len(sandbox.state.orders)
        seen: set[str] = set()
        for line in lines:
            if "__parentId" in line:
                assert line["__parentId"] in seen, "a child came before its parent"
            else:
                seen.add(line["id"])
        assert done["objectCount"] == str(len(lines))
        tail = await client.get(done["url"], headers={"Range": "bytes=100-"})
        assert tail.status_code == 206 and tail.content == whole.content[100:]
