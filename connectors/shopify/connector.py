"""The Shopify connector: customers and orders in; customers, segment tags and
recommendation metafields out.

A stream's first sync runs as one bulk operation (``bulk_initial``): Shopify
exports everything to a JSONL file that is streamed and checkpointed by byte
offset, and the next sync asks for changes from when the export started.
Later syncs page through ``updated_at`` windows (see :mod:`.cursor`). Orders
are read, never written. Deleted customers arrive as ``customers/delete``
webhooks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel

from connectors.shopify import queries
from connectors.shopify.bulk import bulk_pages
from connectors.shopify.client import ShopifyClient
from connectors.shopify.config import ShopifyConfig
from connectors.shopify.cost import MAX_QUERY_COST, QueryCost
from connectors.shopify.cursor import Cursor
from connectors.shopify.mapping import (
    customer_input,
    held_with_metafields,
    node_to_customer,
    node_to_order,
)
from connectors.shopify.sandbox import ShopifySandbox
from connectors.shopify.webhooks import delivery_of, pages_of
from connectors.shopify.writer import CustomerWriter
from hub.connector import (
    Change,
    Connector,
    Page,
    RawRecord,
    SourceRecord,
    WebhookDelivery,
    WebhookReply,
    WebhookRequest,
    WriteResult,
)
from hub.errors import RetriableError
from hub.http import Clock
from hub.model import CanonicalRecord, Customer, Order, SegmentMembership
from hub.testing.sandbox import Sandbox

__all__ = ["ShopifyConnector"]


class ShopifyConnector(Connector):
    name = "shopify"
    pure_mapping = True
    config_model: ClassVar[type[BaseModel]] = ShopifyConfig
    reads = {"customers": Customer, "orders": Order}
    writes = {"customers": Customer, "segment_members": SegmentMembership}
    deletes = frozenset({"customers"})
    sandbox: ClassVar[type[Sandbox]] = ShopifySandbox

    config: ShopifyConfig

    def __init__(
        self,
        config: BaseModel,
        *,
        connection: str,
        default_region: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(config, connection=connection, default_region=default_region)
        self.client = ShopifyClient(
            self.config, connection=connection, transport=transport, clock=clock
        )
        self.writer = CustomerWriter(
            self.client, self.config.segment_tag_prefix, self.config.metafields
        )

    def _fields(self, stream: str, *, bulk: bool = False) -> str:
        if stream == "customers":
            return queries.customer_fields(list(self.config.metafields), bulk=bulk)
        if stream == "orders":
            return queries.order_fields(None if bulk else self.config.line_items)
        raise ValueError(f"shopify reads customers and orders, not {stream!r}")

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        state = Cursor.load(cursor)
        if state.bulk is not None or (
            self.config.bulk_initial and state.mark is None and state.after is None
        ):
            async for page in self._bulk(stream, state):
                yield page
            return
        async for page in self._paged(stream, state):
            yield page

    async def _paged(self, stream: str, start: Cursor) -> AsyncIterator[Page]:
        overlap = self.config.overlap
        window = start.window if start.after else start.window_start(overlap)
        size = self._page_size(stream)
        pages = self.client.pages(
            stream,
            self._fields(stream),
            size=size,
            query=f"updated_at:>='{window}'" if window else None,
            after=start.after,
        )
        state = start
        async for nodes, following in pages:
            fresh = [node for node in nodes if not start.already_read(node)]
            state = state.reading(fresh, overlap)
            state = Cursor(state.mark, state.recent, window if following else None, following)
            yield Page(records=fresh, cursor=state.dump())

    def _page_size(self, stream: str) -> int:
        """The configured page size, lowered to keep a customers page within Shopify's
        1000-point limit once metafields add to each customer's cost. Orders are
        left as configured: their size is the user's to choose against line_items."""
        if stream != "customers":
            return self.config.orders_page_size
        size = self.config.page_size
        if not self.config.metafields:
            return size
        document = queries.page_query(stream, self._fields(stream))
        base = QueryCost(document, {"first": 0}).requested()
        per_customer = QueryCost(document, {"first": 1}).requested() - base
        return max(1, min(size, (MAX_QUERY_COST - base) // per_customer))

    async def _bulk(self, stream: str, start: Cursor) -> AsyncIterator[Page]:
        """One bulk export; the cursor holds the operation and the bytes consumed."""
        state = start
        if state.bulk is None:
            started = await self.client.run_bulk(
                queries.bulk_query(stream, self._fields(stream, bulk=True))
            )
            state = Cursor(bulk={"id": started["id"], "created": started["createdAt"], "offset": 0})
            yield Page(records=[], cursor=state.dump())  # a crash now resumes this export
        assert state.bulk is not None
        operation = await self.client.wait_bulk(state.bulk["id"], self.config.bulk_poll)
        if operation["status"] != "COMPLETED":
            yield Page(records=[], cursor=Cursor().dump())  # failed or expired: start afresh
            raise RetriableError(
                f"crmhub: connection {self.connection!r}: the bulk export of {stream} ended "
                f"{operation['status']} ({operation.get('errorCode')}); the next run starts "
                "a new one"
            )
        created, offset = state.bulk["created"], int(state.bulk["offset"])
        children = ("lineItems",) if stream == "orders" else ()
        if operation.get("url"):
            lines = self.client.lines(str(operation["url"]), offset)
            async for nodes, resume in bulk_pages(
                lines, size=self.config.page_size, child_fields=children
            ):
                state = state.reading(nodes, self.config.overlap, floor=created)
                if resume >= 0:
                    bulk = {**state.bulk, "offset": resume} if state.bulk else None
                    yield Page(
                        records=nodes, cursor=Cursor(state.mark, state.recent, bulk=bulk).dump()
                    )
                else:
                    yield Page(records=nodes, cursor=Cursor(state.mark, state.recent).dump())
                    return
        yield Page(records=[], cursor=Cursor(created, state.recent).dump())

    def held_view(self, stream: str, data: dict[str, Any]) -> dict[str, Any]:
        """Shopify keeps one e-mail and one phone per customer: the first of each."""
        return {
            **data,
            **{key: data[key][:1] for key in ("emails", "phones") if data.get(key)},
        }

    def fields_held(self, stream: str) -> frozenset[str] | None:
        return held_with_metafields(self.config.metafields) if stream == "customers" else None

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        if stream == "customers":
            external_id, data = node_to_customer(raw, self.connection, self.config.metafields)
            customer = Customer.model_validate(
                data, context={"default_region": self.default_region}
            )
            return SourceRecord(external_id, customer, customer.updated_at)
        external_id, data = node_to_order(raw, self.config.line_items)
        order = Order.model_validate(data)
        return SourceRecord(external_id, order, order.updated_at)

    def from_canonical(self, stream: str, record: CanonicalRecord) -> RawRecord:
        if isinstance(record, SegmentMembership):  # the customer tag it comes down to
            return {"tag": f"{self.config.segment_tag_prefix}{record.segment}", "on": record.member}
        if not isinstance(record, Customer):
            raise TypeError(f"stream {stream!r} writes customers, not {type(record).__name__}")
        return customer_input(record)

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        """Customers by id when known, else by e-mail; segment memberships as tags.

        A resent batch lands on the same customers, so nothing is created
        twice. A change Shopify refuses gets its userErrors; the rest go on.
        """
        if stream == "segment_members":
            return [await self.writer.membership(change) for change in changes]
        if stream != "customers":
            raise ValueError(f"shopify writes customers and segment_members, not {stream!r}")
        return [await self.writer.customer(change) for change in changes]

    def verify_webhook(self, request: WebhookRequest) -> WebhookDelivery | WebhookReply:
        return delivery_of(request, self.config.app_secret, self.connection)

    def webhook_pages(self, request: WebhookRequest) -> list[tuple[str, Page]]:
        return pages_of(request)

    async def aclose(self) -> None:
        await self.client.aclose()
