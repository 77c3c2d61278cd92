"""The Shopify connector passes the standard suite against its sandbox, both read paths."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from connectors.shopify.config import ShopifyConfig
from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.sandbox import SHOP, TOKEN, ShopifySandbox
from hub.connector import Connector
from hub.http import VirtualClock
from hub.model import CanonicalRecord, Customer, Recommendations
from hub.testing.kit import ConnectorTestKit
from hub.testing.samples import sample_customers
from hub.testing.sandbox import BASE_URL


class TestShopifyBulk(ConnectorTestKit[ShopifySandbox]):
    """First syncs through a bulk operation (the default), later ones paged."""

    connector_class = ShopifyConnector
    bulk_initial = True
    metafields: dict[str, str] = {}

    def make_sandbox(self, tmp_path: Path) -> ShopifySandbox:
        return ShopifySandbox(clock=VirtualClock())

    def make_connector(self, sandbox: ShopifySandbox) -> Connector:
        config = ShopifyConfig(
            shop=SHOP,
            base_url=BASE_URL,
            access_token=SecretStr(TOKEN),
            page_size=10,
            orders_page_size=10,
            bulk_initial=self.bulk_initial,
            metafields=self.metafields,
        )
        return ShopifyConnector(
            config, connection="kit", transport=sandbox.transport(), clock=sandbox.clock
        )


class TestShopifyPaged(TestShopifyBulk):
    """Every sync paged by updated_at windows; the read checks again on this path."""

    bulk_initial = False
    unsupported = dict.fromkeys(
        ("round_trip", "idempotent_writes", "deletes"),
        "writes do not depend on the read path; TestShopifyBulk runs these checks",
    )


class TestShopifyMetafields(TestShopifyBulk):
    """Recommendations in customer metafields: read on both paths, and written and read
    back whole by the round trip (the samples carry them)."""

    metafields = {
        "crmhub.next_best_product": "recommendations.next_best_product",
        "crmhub.up_sell": "recommendations.up_sell",
    }

    def samples(self, stream: str) -> list[CanonicalRecord]:
        given = Recommendations(next_best_product="STOVE", up_sell="TENTPRO", affinity="camping")
        return [
            customer.model_copy(update={"recommendations": given})
            if isinstance(customer, Customer)
            else customer
            for customer in sample_customers()
        ]
