"""A Meta lead-ads submission joins the Shopify customer who has the same e-mail.

Both sandboxes, the real pull engine and one store: the lead arrives as a
signed leadgen webhook, the pull it starts reads the answers, and identity
resolution puts the lead on the existing shop customer instead of making a
second person. The lead's unticked consent box never subscribes anyone.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlmodel import select

from connectors.meta.config import MetaConfig
from connectors.meta.connector import MetaConnector
from connectors.meta.sandbox import ACCOUNT, APP_SECRET, FORMS, MetaSandbox
from connectors.meta.sandbox import TOKEN as META_TOKEN
from connectors.shopify.config import ShopifyConfig
from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.sandbox import SHOP, ShopifySandbox
from connectors.shopify.sandbox import TOKEN as SHOP_TOKEN
from hub.connector import WebhookDelivery, WebhookRequest
from hub.engine.context import StreamContext
from hub.engine.pull import pull_stream
from hub.http import VirtualClock
from hub.store.database import Store
from hub.store.tables import CustomerRow, Link
from hub.testing.sandbox import BASE_URL

pytestmark = pytest.mark.anyio


async def test_a_webhook_lead_joins_the_shopify_customer_with_the_same_email(store: Store) -> None:
    shop_sandbox = ShopifySandbox(clock=VirtualClock())
    shop_sandbox.populate(6, orders=0)
    shop = ShopifyConnector(
        ShopifyConfig(
            shop=SHOP, base_url=BASE_URL, access_token=SecretStr(SHOP_TOKEN), bulk_initial=False
        ),
        connection="shop",
        transport=shop_sandbox.transport(),
        clock=shop_sandbox.clock,
    )
    await pull_stream(StreamContext(store, shop, "customers", run_id=1))
    buyer = next(  # one who never subscribed: the lead's unticked box must keep it so
        c
        for c in shop_sandbox.records("customers").values()
        if c["emailMarketingConsent"]["marketingState"] != "SUBSCRIBED"
    )

    ads_sandbox = MetaSandbox(clock=VirtualClock())
    config = MetaConfig(
        base_url=BASE_URL,  # type: ignore[arg-type]
        access_token=SecretStr(META_TOKEN),
        app_secret=SecretStr(APP_SECRET),
        form_ids=list(FORMS),
        ad_account_id=ACCOUNT,
        consent={"marketing_email": "email"},
    )
    ads = MetaConnector(
        config, connection="ads", transport=ads_sandbox.transport(), clock=ads_sandbox.clock
    )
    body, headers = ads_sandbox.submit_lead(
        FORMS[0],
        {"email": str(buyer["email"]).upper(), "phone_number": "+34699111222"},
        opted_in=False,
    )
    request = WebhookRequest("POST", "", headers, {}, body)
    assert isinstance(ads.verify_webhook(request), WebhookDelivery)
    [(_, page)] = ads.webhook_pages(request)
    await pull_stream(StreamContext(store, ads, "leads", run_id=2))  # the pull the delivery starts

    with store.session() as session:
        customers = list(session.exec(select(CustomerRow)))
        lead = session.exec(select(Link).where(Link.connection == "ads")).one()
        shopper = session.exec(
            select(Link).where(Link.connection == "shop", Link.external_id == buyer["id"])
        ).one()
    assert len(customers) == 6, "the lead is the shop's customer, not a seventh person"
    assert lead.external_id == page.records[0]["id"] and lead.hub_id == shopper.hub_id
    [joined] = [c for c in customers if c.hub_id == shopper.hub_id]
    assert "+34699111222" in joined.data["phones"]
    assert joined.data["acquisition"]["source"] == "meta"
    assert joined.data.get("consents", {}).get("email", {}).get("status") != "subscribed"
    await ads.aclose()
    await shop.aclose()
