"""Shop -> hub -> e-mail marketing and back, through the Shopify and Mailchimp sandboxes.

Both sandboxes are served on loopback, seeded with the same fake people (some
in both, some unsubscribed in Mailchimp while the shop still says yes, some
who never gave consent), and synced by the real runner from a config file, as
`crmhub sync` does. "Nothing changes" is counted where it happens: requests
that changed something at each sandbox, outbox rows queued in the store, and
changes the push phase handed to a connector.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import func
from sqlmodel import select

from connectors.mailchimp.mapping import subscriber_hash
from connectors.mailchimp.sandbox import API_KEY, LIST_ID, MailchimpSandbox
from connectors.shopify.sandbox import ShopifySandbox
from hub.config import HubConfig, load_config
from hub.engine.runner import sync
from hub.plugins import Plugins, load_plugins
from hub.store.database import Store
from hub.store.tables import Outbox
from hub.testing.serve import running

pytestmark = pytest.mark.anyio
SEED = 7


@dataclass
class World:
    shop: ShopifySandbox
    audience: MailchimpSandbox
    audience_url: str
    config: HubConfig
    plugins: Plugins


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    shop, audience = ShopifySandbox(bulk_seconds=0.05), MailchimpSandbox(batch_seconds=0.05)
    shop.populate(24, seed=SEED, orders=30)
    audience.populate(30, seed=SEED)  # the shop holds the first 24: some are only here
    with ExitStack() as stack:
        urls = {
            name: stack.enter_context(running(s)) for name, s in (("shop", shop), ("mc", audience))
        }
        connections: dict[str, Any] = {}
        for name, sandbox, url, connector, streams in (
            ("shop", shop, urls["shop"], "shopify", ["customers", "orders"]),
            ("newsletter", audience, urls["mc"], "mailchimp", ["customers"]),
        ):
            for key, value in sandbox.environment().items():
                monkeypatch.setenv(key, value)
            connections[name] = {
                "connector": connector,
                "direction": "both",
                "streams": streams,
                "config": sandbox.config_for(url),
            }
        connections["shop"]["config"]["bulk_poll"] = 0.05
        connections["newsletter"]["config"]["batch_poll_seconds"] = 0.05
        path = tmp_path / "crmhub.yaml"
        path.write_text(
            yaml.safe_dump(
                {"connections": connections, "merge": {"source_priority": ["shop", "newsletter"]}}
            )
        )
        plugins = load_plugins()
        yield World(shop, audience, urls["mc"], load_config(path, plugins), plugins)


@dataclass
class Pass:
    mailchimp_writes: int
    shopify_writes: int
    queued: int
    planned: int


async def _pass(world: World, store: Store) -> Pass:
    """One `crmhub sync` pass, and what it wrote and planned everywhere."""
    writes, changes = world.audience.writes, world.shop.changes
    queued = _outbox_rows(store)
    results = await sync(store, world.config, world.plugins)
    assert all(r.status == "succeeded" for r in results), [r.error for r in results]
    return Pass(
        mailchimp_writes=world.audience.writes - writes,
        shopify_writes=world.shop.changes - changes,
        queued=_outbox_rows(store) - queued,
        planned=sum(
            r.counts.get("pushed", 0) + r.counts.get("rejected", 0)
            for r in results
            if r.phase == "push"
        ),
    )


def _outbox_rows(store: Store) -> int:
    with store.session() as session:
        return int(session.exec(select(func.count()).select_from(Outbox)).one())


def _members(audience: MailchimpSandbox) -> dict[str, dict[str, Any]]:
    return {m["email_address"]: m for m in audience.records("customers").values()}


def _shop_customers(shop: ShopifySandbox) -> dict[str, dict[str, Any]]:
    return {c["email"]: c for c in shop.records("customers").values()}


NOTHING = Pass(0, 0, 0, 0)


async def test_shop_buyers_reach_mailchimp_opt_outs_reach_the_shop_and_reruns_do_nothing(
    world: World, store: Store
) -> None:
    shop, audience = world.shop, world.audience
    in_shop = _shop_customers(shop)
    members_before = _members(audience)
    buyers = {
        shop.state.customers[customer_id]["email"]
        for customer_id, orders in shop.state.orders_of.items()
        if orders
    }
    # A buyer the audience does not know yet, with a tag only the shop has.
    newcomer = next(e for e in sorted(buyers) if e not in members_before)
    shop.state.customers[in_shop[newcomer]["id"]]["tags"] = ["summer-buyer"]
    no_consent = {
        e
        for e, c in in_shop.items()
        if c["emailMarketingConsent"]["marketingState"] != "SUBSCRIBED"
    }
    assert no_consent and any(
        members_before.get(e, {}).get("status") == "unsubscribed"
        and c["emailMarketingConsent"]["marketingState"] == "SUBSCRIBED"
        for e, c in in_shop.items()
    ), "the seed has people without consent and people who unsubscribed in Mailchimp only"

    first = await _pass(world, store)
    assert first.mailchimp_writes > 0 and first.shopify_writes > 0

    # The buyer is a member with the shop's merge fields and tags, and not subscribed.
    customer, member = in_shop[newcomer], _members(audience)[newcomer]
    address = customer["addresses"][0]
    assert member["id"] == subscriber_hash(newcomer)
    assert member["merge_fields"]["FNAME"] == customer["firstName"]
    assert member["merge_fields"]["LNAME"] == customer["lastName"]
    assert member["merge_fields"]["PHONE"] == customer["phone"]
    assert member["merge_fields"]["ADDRESS"]["addr1"] == address["address1"].strip()
    assert member["merge_fields"]["ADDRESS"]["zip"] == address["zip"]
    assert member["merge_fields"]["ADDRESS"]["country"] == address["countryCodeV2"]
    assert [t["name"] for t in member["tags"]] == ["summer-buyer"]
    assert member["status"] != "subscribed"

    # Opt-outs made in Mailchimp before the first sync reached the shop.
    shop_now = _shop_customers(shop)
    for email, before in members_before.items():
        if before["status"] == "unsubscribed" and email in shop_now:
            assert shop_now[email]["emailMarketingConsent"]["marketingState"] == "UNSUBSCRIBED"

    assert await _pass(world, store) == NOTHING
    assert await _pass(world, store) == NOTHING

    # The person unsubscribes in Mailchimp: the shop follows, then all is quiet again.
    leaving = next(
        e
        for e, m in sorted(_members(audience).items())
        if m["status"] == "subscribed"
        and shop_now.get(e, {}).get("emailMarketingConsent", {}).get("marketingState")
        == "SUBSCRIBED"
    )
    async with httpx.AsyncClient(
        base_url=f"{world.audience_url}/3.0/", auth=("any", API_KEY)
    ) as client:
        answer = await client.patch(
            f"lists/{LIST_ID}/members/{subscriber_hash(leaving)}", json={"status": "unsubscribed"}
        )
        assert answer.status_code == 200, answer.text
    propagated = await _pass(world, store)
    assert propagated.planned == 1, "one push: the shop's copy of her consent"
    assert propagated.shopify_writes > 0 and propagated.mailchimp_writes == 0
    consent = _shop_customers(shop)[leaving]["emailMarketingConsent"]
    assert consent["marketingState"] == "UNSUBSCRIBED"
    assert await _pass(world, store) == NOTHING
    assert await _pass(world, store) == NOTHING

    # Nobody without consent in the shop was subscribed in Mailchimp by the hub.
    members = _members(audience)
    for email in no_consent:
        if email in members and members_before.get(email, {}).get("status") != "subscribed":
            assert members[email]["status"] != "subscribed", email
