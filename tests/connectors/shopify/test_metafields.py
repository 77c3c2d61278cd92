"""Recommendations as Shopify customer metafields: config, mapping, reads and writes.

Mapping cases are tables of (metafield nodes, recommendations); reads and
writes run the connector against the sandbox (connectors/shopify/
emulator_metafields.py), which follows Shopify's public reference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from connectors.shopify import queries
from connectors.shopify.config import ShopifyConfig
from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.cost import MAX_QUERY_COST, QueryCost
from connectors.shopify.emulator_metafields import MAX_TEXT
from connectors.shopify.mapping import metafield_values, node_to_customer
from connectors.shopify.rest import customer_node
from connectors.shopify.sandbox import SHOP, TOKEN, ShopifySandbox
from hub.connector import Change
from hub.http import VirtualClock
from hub.model import Customer, Recommendations
from hub.testing.harness import read_everything
from hub.testing.sandbox import BASE_URL

pytestmark = pytest.mark.anyio

METAFIELDS = {
    "crmhub.next_best_product": "recommendations.next_best_product",
    "crmhub.up_sell": "recommendations.up_sell",
}
NODE = {"id": "gid://shopify/Customer/1", "email": "ann@example.com"}


def _field(namespace: str, key: str, value: str) -> dict[str, Any]:
    return {"namespace": namespace, "key": key, "value": value, "type": "single_line_text_field"}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ([], {}),
        ([_field("crmhub", "next_best_product", "STOVE")], {"next_best_product": "STOVE"}),
        (
            [_field("crmhub", "up_sell", "PRO"), _field("crmhub", "next_best_product", "TENT")],
            {"up_sell": "PRO", "next_best_product": "TENT"},
        ),
        ([_field("other_app", "up_sell", "X")], {}),  # another namespace: not ours
        ([_field("crmhub", "affinity", "camping")], {}),  # not configured here
    ],
)
def test_metafield_nodes_to_recommendations(
    fields: list[dict[str, Any]], expected: dict[str, str]
) -> None:
    node = {**NODE, "metafields": {"nodes": fields}}
    _, data = node_to_customer(node, "shop", METAFIELDS)
    assert data.get("recommendations", {}) == expected


def test_without_metafields_configured_none_are_read() -> None:
    node = {**NODE, "metafields": {"nodes": [_field("crmhub", "up_sell", "PRO")]}}
    assert "recommendations" not in node_to_customer(node, "shop")[1]


@pytest.mark.parametrize(
    ("recommendations", "expected"),
    [
        (None, {"crmhub.next_best_product": None, "crmhub.up_sell": None}),
        (
            Recommendations(next_best_product="STOVE", affinity="camping"),
            {"crmhub.next_best_product": "STOVE", "crmhub.up_sell": None},
        ),
    ],
)
def test_metafield_values_to_set_or_delete(
    recommendations: Recommendations | None, expected: dict[str, str | None]
) -> None:
    customer = Customer(emails=["ann@example.com"], recommendations=recommendations)
    assert metafield_values(customer, METAFIELDS) == expected


@pytest.mark.parametrize(
    ("metafields", "message"),
    [
        ({"nonamespace": "recommendations.up_sell"}, "is not namespace.key"),
        ({"cr.up_sell": "recommendations.up_sell"}, "is not namespace.key"),
        ({"crmhub.bad key": "recommendations.up_sell"}, "is not namespace.key"),
        ({"crmhub.upsell": "first_name"}, "is not one of"),
        (
            {"crmhub.a1": "recommendations.up_sell", "crmhub.b2": "recommendations.up_sell"},
            "two metafields hold the same",
        ),
    ],
)
def test_a_bad_metafields_setting_is_refused_before_any_io(
    metafields: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        ShopifyConfig(shop=SHOP, access_token=SecretStr(TOKEN), metafields=metafields)


def _connector(sandbox: ShopifySandbox, **settings: Any) -> ShopifyConnector:
    config = ShopifyConfig(
        shop=SHOP,
        base_url=BASE_URL,
        access_token=SecretStr(TOKEN),
        metafields=METAFIELDS,
        **settings,
    )
    return ShopifyConnector(
        config, connection="shop", transport=sandbox.transport(), clock=sandbox.clock
    )


@pytest.fixture
def sandbox() -> ShopifySandbox:
    sandbox = ShopifySandbox(clock=VirtualClock())
    sandbox.populate(30, seed=3)
    return sandbox


def test_the_recommendations_a_metafield_holds_are_held_fields(sandbox: ShopifySandbox) -> None:
    held = _connector(sandbox).fields_held("customers")
    assert held is not None
    assert {"recommendations.next_best_product", "recommendations.up_sell"} <= held
    assert "recommendations.affinity" not in held and "recommendations" not in held


def test_a_customers_page_shrinks_to_stay_within_1000_points(sandbox: ShopifySandbox) -> None:
    connector = _connector(sandbox, page_size=250)
    size = connector._page_size("customers")
    document = queries.page_query("customers", connector._fields("customers"))
    assert QueryCost(document, {"first": size}).requested() <= MAX_QUERY_COST
    assert QueryCost(document, {"first": size + 1}).requested() > MAX_QUERY_COST
    assert _connector(sandbox, page_size=10)._page_size("customers") == 10


def _with_metafields(sandbox: ShopifySandbox, values: dict[str, str]) -> set[str]:
    owners = list(sandbox.state.customers)[:3]
    for owner in owners:
        fields = sandbox.state.customers[owner].setdefault("_metafields", {})
        for number, (name, value) in enumerate(values.items()):
            space, _, key = name.partition(".")
            fields[name] = {
                "id": f"gid://shopify/Metafield/{owner.rsplit('/', 1)[1]}{number}",
                "namespace": space,
                "key": key,
                "value": value,
                "type": "single_line_text_field",
            }
    return set(owners)


@pytest.mark.parametrize("bulk", [True, False])
async def test_bulk_and_paged_reads_bring_the_recommendations(
    sandbox: ShopifySandbox, bulk: bool
) -> None:
    owners = _with_metafields(
        sandbox, {"crmhub.next_best_product": "STOVE", "other_app.up_sell": "X"}
    )
    connector = _connector(sandbox, bulk_initial=bulk, page_size=7)
    try:
        found = await read_everything(connector, "customers")
    finally:
        await connector.aclose()
    assert len(found) == len(sandbox.state.customers)
    for external_id, mapped in found.items():
        assert isinstance(mapped.record, Customer)
        expected = Recommendations(next_best_product="STOVE") if external_id in owners else None
        assert mapped.record.recommendations == expected


async def test_a_write_sets_present_and_deletes_empty_metafields(sandbox: ShopifySandbox) -> None:
    owner = next(iter(sandbox.state.customers))
    stored = sandbox.state.customers[owner]
    customer = Customer(
        emails=[stored["email"]],
        first_name=stored["firstName"],
        recommendations=Recommendations(next_best_product="STOVE", up_sell="PRO"),
    )
    connector = _connector(sandbox)
    try:
        first = await connector.write("customers", [Change("h1", customer, external_id=owner)])
        held = {name: f["value"] for name, f in stored["_metafields"].items()}
        assert first[0].ok and held == {
            "crmhub.next_best_product": "STOVE",
            "crmhub.up_sell": "PRO",
        }
        less = customer.model_copy(update={"recommendations": Recommendations(up_sell="PRO")})
        await connector.write("customers", [Change("h1", less, external_id=owner)])
        assert {name: f["value"] for name, f in stored["_metafields"].items()} == {
            "crmhub.up_sell": "PRO"
        }
    finally:
        await connector.aclose()


async def test_a_value_shopify_refuses_is_the_changes_error_and_the_rest_go_on(
    sandbox: ShopifySandbox,
) -> None:
    first, second = list(sandbox.state.customers)[:2]
    too_long = Recommendations(next_best_product="x" * (MAX_TEXT + 1))
    changes = [
        Change(
            "h1",
            Customer(emails=[sandbox.state.customers[first]["email"]], recommendations=too_long),
            external_id=first,
        ),
        Change(
            "h2",
            Customer(
                emails=[sandbox.state.customers[second]["email"]],
                recommendations=Recommendations(up_sell="PRO"),
            ),
            external_id=second,
        ),
    ]
    connector = _connector(sandbox)
    try:
        refused, written = await connector.write("customers", changes)
    finally:
        await connector.aclose()
    assert refused.error == (
        "shopify: metafields.0.value: Value is too long (maximum is 65536 characters)."
    )
    assert written.ok
    assert sandbox.state.customers[second]["_metafields"]["crmhub.up_sell"]["value"] == "PRO"


async def test_a_write_sends_no_metafield_mutation_for_what_the_customer_holds(
    sandbox: ShopifySandbox,
) -> None:
    """The customer's answer carries its metafields: unchanged ones are not set again, and
    ones it never had are not deleted, so a name change costs no metafield calls."""
    sent: list[str] = []
    original = sandbox.execute

    def recording(document: str, variables: dict[str, Any]) -> dict[str, Any]:
        sent.append(document.split("(")[0].split()[-1])
        return original(document, variables)

    sandbox.execute = recording  # type: ignore[method-assign]
    owner, other = list(sandbox.state.customers)[:2]
    stored = sandbox.state.customers[owner]
    customer = Customer(
        emails=[stored["email"]], recommendations=Recommendations(next_best_product="STOVE")
    )
    bare = Customer(emails=[sandbox.state.customers[other]["email"]])
    connector = _connector(sandbox)
    try:
        await connector.write("customers", [Change("h1", customer, external_id=owner)])
        assert "MetafieldsSet" in sent and "MetafieldsDelete" not in sent
        sent.clear()
        renamed = customer.model_copy(update={"first_name": "Renamed"})
        await connector.write(
            "customers",
            [Change("h1", renamed, external_id=owner), Change("h2", bare, external_id=other)],
        )
    finally:
        await connector.aclose()
    assert sent == ["CustomerUpdate", "CustomerUpdate"]
    assert stored["firstName"] == "Renamed"
    assert stored["_metafields"]["crmhub.next_best_product"]["value"] == "STOVE"


def test_a_webhook_payload_with_metafields_brings_the_recommendations() -> None:
    """customer.json and metafields.json are Shopify's own REST bodies (shopify_python_api,
    MIT); a subscription naming metafield namespaces adds the latter's shape to the former."""
    vendor = Path(__file__).parents[2] / "fixtures" / "vendor" / "shopify" / "rest_fixtures"
    payload = json.loads((vendor / "customer.json").read_text())["customer"]
    fields = json.loads((vendor / "metafields.json").read_text())["metafields"]
    ours = {**fields[0], "namespace": "crmhub", "key": "up_sell", "value": "PRO"}
    node = customer_node({**payload, "metafields": [*fields, ours]})
    _, data = node_to_customer(node, "shop", METAFIELDS)
    assert data["recommendations"] == {"up_sell": "PRO"}  # the others are not ours
    assert "metafields" not in customer_node(payload)  # none named: none claimed
