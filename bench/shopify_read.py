"""The Shopify connector's paged read alone, no store: how its rate limiter spends the budget.

    python -m bench.shopify_read URL CUSTOMERS PAGE_SIZE

Pages through the sandbox's customers with :meth:`ShopifyConnector.read` (paged
queries, ``bulk_initial`` off) exactly as ``crmhub sync`` does, and throws the
pages away. Without the store's per-page work the client can send far more
requests a second than a sync on a shared machine, so a run of thousands of
small pages finishes in minutes and tests the limiter, not the CPU. Prints
``{"records"}`` as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys

from connectors.shopify.config import ShopifyConfig
from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.sandbox import SHOP, TOKEN

__all__ = ["count_customers", "main", "paged_config"]


def paged_config(url: str, page_size: int) -> ShopifyConfig:
    """A connection that reads customers page by page (no bulk export), as the workload needs."""
    return ShopifyConfig(
        shop=SHOP, base_url=url, access_token=TOKEN, bulk_initial=False, page_size=page_size
    )


async def read(url: str, page_size: int) -> int:
    return await count_customers(ShopifyConnector(paged_config(url, page_size), connection="shop"))


async def count_customers(connector: ShopifyConnector) -> int:
    """Read every customer page through the connector, keeping nothing, and close it."""
    records = 0
    try:
        async for page in connector.read("customers", None):
            records += len(page.records)
    finally:
        await connector.aclose()
    return records


def main(argv: list[str]) -> None:
    url, page_size = argv[0], int(argv[1])
    print(json.dumps({"records": asyncio.run(read(url, page_size))}))


if __name__ == "__main__":
    main(sys.argv[1:])
