"""The sandbox's customer metafields keep the GraphQL Admin API's contract (2025-01).

No vendor-recorded GraphQL metafield traffic exists in our material; the
legacy REST list (tests/fixtures/vendor/shopify/rest_fixtures/metafields.json,
Shopify/shopify_python_api, MIT) shows the namespace/key/value triple the
GraphQL nodes carry. Limits and error codes follow shopify.dev's reference
(see connectors/shopify/emulator_metafields.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.shopify import queries
from connectors.shopify.emulator_metafields import APP_NAMESPACE, MAX_SET, MAX_TEXT
from connectors.shopify.sandbox import TOKEN, ShopifySandbox
from hub.http import VirtualClock

pytestmark = pytest.mark.anyio

VENDOR = Path(__file__).parents[2] / "fixtures" / "vendor" / "shopify"
PATH = "/admin/api/2025-01/graphql.json"
KEYS = ["crmhub.next_best_product", "crmhub.up_sell"]
READ = f"""
query One($id: ID!) {{
  customer(id: $id) {{
    {queries.customer_fields(KEYS)}
  }}
}}
"""


@pytest.fixture
def sandbox() -> ShopifySandbox:
    sandbox = ShopifySandbox(clock=VirtualClock())
    sandbox.populate(3, seed=5)
    return sandbox


async def _post(sandbox: ShopifySandbox, query: str, variables: Any) -> Any:
    async with sandbox.client() as client:
        response = await client.post(
            PATH,
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": TOKEN},
        )
        return response.json()


def _text(owner: str, key: str, value: str, **extra: Any) -> dict[str, Any]:
    given = {"ownerId": owner, "namespace": "crmhub", "key": key, "value": value}
    return given | {"type": "single_line_text_field"} | extra


async def _held(sandbox: ShopifySandbox, owner: str) -> dict[str, str]:
    customer = (await _post(sandbox, READ, {"id": owner}))["data"]["customer"]
    return {f"{f['namespace']}.{f['key']}": f["value"] for f in customer["metafields"]["nodes"]}


async def test_shopifys_recorded_metafields_set_and_read_back_as_recorded(
    sandbox: ShopifySandbox,
) -> None:
    recorded = json.loads((VENDOR / "rest_fixtures" / "metafields.json").read_text())
    owner = next(iter(sandbox.state.customers))
    given = [
        _text(owner, f["key"], f["value"], namespace=f["namespace"]) for f in recorded["metafields"]
    ]
    await _post(sandbox, queries.METAFIELDS_SET, {"metafields": given})
    query = """query One($id: ID!) {
      customer(id: $id) { metafields(first: 5) { nodes { namespace key value type } } }
    }"""
    nodes = (await _post(sandbox, query, {"id": owner}))["data"]["customer"]["metafields"]["nodes"]
    assert sorted((n["namespace"], n["key"], n["value"]) for n in nodes) == sorted(
        (f["namespace"], f["key"], f["value"]) for f in recorded["metafields"]
    )
    assert {n["type"] for n in nodes} == {"single_line_text_field"}


async def test_set_creates_then_replaces_and_reads_back_only_the_keys_asked(
    sandbox: ShopifySandbox,
) -> None:
    owner = next(iter(sandbox.state.customers))
    first = await _post(
        sandbox,
        queries.METAFIELDS_SET,
        {"metafields": [_text(owner, "next_best_product", "STOVE"), _text(owner, "other", "x")]},
    )
    assert first["data"]["metafieldsSet"]["userErrors"] == []
    assert first["extensions"]["cost"]["actualQueryCost"] == 10
    ids = {f["id"] for f in sandbox.state.customers[owner]["_metafields"].values()}
    await _post(
        sandbox,
        queries.METAFIELDS_SET,
        {"metafields": [_text(owner, "next_best_product", "TENT")]},
    )
    assert await _held(sandbox, owner) == {"crmhub.next_best_product": "TENT"}  # not "other"
    assert {f["id"] for f in sandbox.state.customers[owner]["_metafields"].values()} == ids


async def test_a_metafield_costs_like_any_connection_node(sandbox: ShopifySandbox) -> None:
    owner = next(iter(sandbox.state.customers))
    plain = await _post(
        sandbox,
        f"query One($id: ID!) {{ customer(id: $id) {{ {queries.CUSTOMER_FIELDS} }} }}",
        {"id": owner},
    )
    with_keys = await _post(sandbox, READ, {"id": owner})
    extra = with_keys["extensions"]["cost"]["requestedQueryCost"]
    assert extra - plain["extensions"]["cost"]["requestedQueryCost"] == 2 + len(KEYS)


async def test_delete_answers_null_for_a_metafield_that_was_not_there(
    sandbox: ShopifySandbox,
) -> None:
    owner = next(iter(sandbox.state.customers))
    await _post(sandbox, queries.METAFIELDS_SET, {"metafields": [_text(owner, "up_sell", "PRO")]})
    identifiers = [
        {"ownerId": owner, "namespace": "crmhub", "key": "up_sell"},
        {"ownerId": owner, "namespace": "crmhub", "key": "never_set"},
    ]
    answer = await _post(sandbox, queries.METAFIELDS_DELETE, {"metafields": identifiers})
    payload = answer["data"]["metafieldsDelete"]
    assert payload == {
        "deletedMetafields": [{"namespace": "crmhub", "key": "up_sell"}, None],
        "userErrors": [],
    }
    assert await _held(sandbox, owner) == {}


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        ({"value": "x" * (MAX_TEXT + 1)}, "value", "TOO_LONG"),
        ({"value": "two\nlines"}, "value", "INVALID_VALUE"),
        ({"type": "single_line_text"}, "type", "INVALID_TYPE"),
        ({"type": None}, "type", "BLANK"),
        ({"namespace": "cr"}, "namespace", "TOO_SHORT"),
        ({"key": "k" * 65}, "key", "TOO_LONG"),
        ({"key": "bad key"}, "key", "INVALID"),
        ({"ownerId": "gid://shopify/Customer/1"}, "ownerId", "INVALID_VALUE"),
    ],
)
async def test_bad_input_is_refused_whole_with_user_errors(
    sandbox: ShopifySandbox, given: dict[str, Any], field: str, code: str
) -> None:
    owner = next(iter(sandbox.state.customers))
    good = _text(owner, "affinity", "camping")
    bad = _text(owner, "up_sell", "PRO") | given
    answer = await _post(sandbox, queries.METAFIELDS_SET, {"metafields": [good, bad]})
    payload = answer["data"]["metafieldsSet"]
    assert payload["metafields"] is None
    (error,) = payload["userErrors"]
    assert (error["code"], error["elementIndex"], error["field"]) == (
        code,
        1,
        ["metafields", "1", field],
    )
    assert await _held(sandbox, owner) == {}  # atomic: the good one was not stored either


async def test_more_than_25_at_once_is_refused(sandbox: ShopifySandbox) -> None:
    owner = next(iter(sandbox.state.customers))
    many = [_text(owner, f"key{n}", "v") for n in range(MAX_SET + 1)]
    answer = await _post(sandbox, queries.METAFIELDS_SET, {"metafields": many})
    assert answer["data"]["metafieldsSet"]["userErrors"][0]["code"] == "LESS_THAN_OR_EQUAL_TO"


async def test_a_bulk_export_writes_metafields_after_their_customer(
    sandbox: ShopifySandbox,
) -> None:
    owner = next(iter(sandbox.state.customers))
    await _post(sandbox, queries.METAFIELDS_SET, {"metafields": [_text(owner, "up_sell", "PRO")]})
    query = queries.bulk_query("customers", queries.customer_fields(KEYS, bulk=True))
    started = (await _post(sandbox, queries.BULK_RUN, {"query": query}))["data"]
    operation = started["bulkOperationRunQuery"]["bulkOperation"]
    await sandbox.clock.sleep(5)
    done = (await _post(sandbox, queries.BULK_POLL, {"id": operation["id"]}))["data"]["node"]
    async with httpx.AsyncClient(transport=sandbox.transport()) as client:
        lines = [json.loads(line) for line in (await client.get(done["url"])).text.splitlines()]
    children = [line for line in lines if "__parentId" in line]
    assert [(c["__parentId"], c["key"], c["value"]) for c in children] == [
        (owner, "up_sell", "PRO")
    ]
    assert children[0]["id"].startswith("gid://shopify/Metafield/")


async def test_a_metafield_without_namespace_lands_in_the_apps_reserved_one(
    sandbox: ShopifySandbox,
) -> None:
    owner = next(iter(sandbox.state.customers))
    given = {k: v for k, v in _text(owner, "up_sell", "PRO").items() if k != "namespace"}
    answer = await _post(sandbox, queries.METAFIELDS_SET, {"metafields": [given]})
    (field,) = answer["data"]["metafieldsSet"]["metafields"]
    assert (field["namespace"], field["key"]) == (APP_NAMESPACE, "up_sell")
