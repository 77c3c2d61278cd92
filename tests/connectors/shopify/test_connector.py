"""What the Shopify connector does beyond the standard suite: bulk reads, throttling, writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.shopify.config import ShopifyConfig
from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.sandbox import SHOP, TOKEN, ShopifySandbox
from hub.connector import Change
from hub.errors import RetriableError
from hub.http import VirtualClock
from hub.model import Channel, Consent, ConsentStatus, Customer, SegmentMembership
from hub.store.database import open_store
from hub.testing.harness import Harness, read_everything
from hub.testing.sandbox import BASE_URL

pytestmark = pytest.mark.anyio


def _connector(sandbox: ShopifySandbox, **settings: Any) -> ShopifyConnector:
    config = ShopifyConfig(shop=SHOP, base_url=BASE_URL, access_token=SecretStr(TOKEN), **settings)
    return ShopifyConnector(
        config, connection="shop", transport=sandbox.transport(), clock=sandbox.clock
    )


async def _everything(sandbox: ShopifySandbox, stream: str, **settings: Any) -> dict[str, Any]:
    connector = _connector(sandbox, **settings)
    try:
        found = await read_everything(connector, stream)
    finally:
        await connector.aclose()
    return {key: record.record for key, record in found.items()}


@pytest.fixture
def sandbox() -> ShopifySandbox:
    sandbox = ShopifySandbox(clock=VirtualClock())
    sandbox.populate(40, seed=3)
    return sandbox


@pytest.mark.parametrize("stream", ["customers", "orders"])
async def test_bulk_and_paged_reads_give_the_same_records(
    sandbox: ShopifySandbox, stream: str
) -> None:
    bulk = await _everything(sandbox, stream, bulk_initial=True, page_size=7)
    paged = await _everything(sandbox, stream, bulk_initial=False, page_size=7, orders_page_size=7)
    assert len(bulk) == len(
        sandbox.state.customers if stream == "customers" else sandbox.state.orders
    )
    assert bulk == paged
    assert any("bulk-operations" in request.path for request in sandbox.requests)


async def test_a_throttled_run_completes_with_every_record(sandbox: ShopifySandbox) -> None:
    """Another app drains the bucket mid-run: the sandbox throttles, the client waits it out."""
    sandbox.populate(200, seed=9)
    drained = False
    original = sandbox.execute

    def greedy(document: str, variables: dict[str, Any]) -> dict[str, Any]:
        nonlocal drained
        if not drained and variables.get("after"):
            sandbox.bucket.available = 0  # another client of the same bucket
            drained = True
        return original(document, variables)

    sandbox.execute = greedy  # type: ignore[method-assign]
    found = await _everything(sandbox, "orders", bulk_initial=False, orders_page_size=20)
    assert sandbox.bucket.refused >= 1
    assert len(found) == len(sandbox.state.orders)


async def test_an_incremental_read_asks_only_for_the_window_after_the_mark(
    sandbox: ShopifySandbox,
) -> None:
    connector = _connector(sandbox, bulk_initial=False, overlap=60)
    cursor = None
    async for page in connector.read("customers", None):
        cursor = page.cursor
    changed = sorted(sandbox.state.customers)[3]
    sandbox.touch("customers", changed)
    sandbox.requests.clear()
    read = [r["id"] async for page in connector.read("customers", cursor) for r in page.records]
    await connector.aclose()
    assert read == [changed]
    mark = json.loads(cursor or "{}")["mark"]
    assert mark is not None


async def test_a_refused_customer_gets_shopifys_field_and_message(sandbox: ShopifySandbox) -> None:
    connector = _connector(sandbox)
    taken_phone = next(iter(sandbox.state.customers.values()))["phone"]
    results = await connector.write(
        "customers",
        [
            Change("h1", Customer(emails=["new.one@example.com"], phones=[taken_phone])),
            Change("h2", Customer(emails=["fine@example.com"], first_name="Fine")),
            Change(
                "h3", Customer(emails=["x@example.com"]), external_id="gid://shopify/Customer/1"
            ),
        ],
    )
    await connector.aclose()
    assert [r.ok for r in results] == [False, True, False]
    assert results[0].error == "shopify: phone: Phone has already been taken"
    assert results[2].error == "shopify: id: Customer does not exist"
    assert TOKEN not in " ".join(r.error or "" for r in results)


async def test_an_update_changes_consent_and_tags_through_their_own_mutations(
    sandbox: ShopifySandbox,
) -> None:
    customer_id, node = next(
        (k, v)
        for k, v in sandbox.state.customers.items()
        if v["emailMarketingConsent"]["marketingState"] == "SUBSCRIBED"
    )
    node["tags"] = ["crmhub-at_risk", "staff-pick"]
    connector = _connector(sandbox)
    customer = Customer(
        emails=[node["email"]],
        first_name=node["firstName"],
        tags=["vip"],
        consents={Channel.EMAIL: Consent(status=ConsentStatus.UNSUBSCRIBED)},
    )
    sandbox.requests.clear()
    [result] = await connector.write("customers", [Change("h1", customer, customer_id)])
    await connector.aclose()
    assert result.ok and result.external_id == customer_id
    stored = sandbox.state.customers[customer_id]
    assert stored["emailMarketingConsent"]["marketingState"] == "UNSUBSCRIBED"
    assert stored["tags"] == ["crmhub-at_risk", "vip"]  # the segment tag is the segments' own


async def test_segment_memberships_add_and_remove_the_segment_tag(sandbox: ShopifySandbox) -> None:
    customer_id, node = next(iter(sandbox.state.customers.items()))
    person = Customer(emails=[node["email"]])
    connector = _connector(sandbox)
    joined = SegmentMembership(segment="at_risk", customer=person)
    [added] = await connector.write("segment_members", [Change("h1", joined)])
    assert added.ok and added.external_id == customer_id
    assert "crmhub-at_risk" in sandbox.state.customers[customer_id]["tags"]
    left = SegmentMembership(segment="at_risk", member=False, customer=person)
    [removed] = await connector.write("segment_members", [Change("h1", left, customer_id)])
    await connector.aclose()
    assert removed.ok
    assert "crmhub-at_risk" not in sandbox.state.customers[customer_id]["tags"]


async def test_the_token_never_shows_in_an_error(sandbox: ShopifySandbox) -> None:
    sandbox.tokens.clear()
    connector = _connector(sandbox, bulk_initial=False)
    with pytest.raises(Exception) as raised:
        async for _ in connector.read("customers", None):
            pass
    await connector.aclose()
    assert "401" in str(raised.value) and TOKEN not in str(raised.value)


async def test_a_failed_bulk_export_is_started_afresh_by_the_next_run(
    sandbox: ShopifySandbox, tmp_path: Path
) -> None:
    original = sandbox.bulk.run

    def failing(*args: Any, **kwargs: Any) -> dict[str, Any]:
        started = original(*args, **kwargs)
        started["bulkOperation"]["status"] = "FAILED"
        sandbox.bulk.run = original  # type: ignore[method-assign]
        return started

    sandbox.bulk.run = failing  # type: ignore[method-assign]
    sandbox.bulk.bind(sandbox.state.schema)
    store = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        harness = Harness(store, lambda: _connector(sandbox, page_size=10))
        failed = await harness.pull("customers")
        assert isinstance(failed.error, RetriableError) and "FAILED" in str(failed.error)
        sandbox.bulk.bind(sandbox.state.schema)
        again = await harness.pull("customers")
    finally:
        store.close()
    assert again.error is None
    assert sorted(again.ids) == sorted(sandbox.state.customers)
