"""The GraphQL Admin API over HTTP: typed calls; limits, retries and errors are the ApiClient's.

Shopify answers most failures with HTTP 200: ``errors[]`` with an
``extensions.code`` (``THROTTLED``, ``MAX_COST_EXCEEDED``, ``ACCESS_DENIED``)
or, for a query the schema refuses, without one. The policy table below
turns each into what the engine acts on. Each query asks the shared
:class:`~hub.http.CostBucket` for its own calculated cost, so it waits just
long enough for the bucket to afford it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from connectors.shopify import queries
from connectors.shopify.config import ShopifyConfig
from connectors.shopify.cost import MAX_QUERY_COST, QueryCost
from hub.errors import ConfigError, RetriableError
from hub.http import (
    DEFAULT_POLICY,
    Action,
    ApiClient,
    Clock,
    CostBucket,
    HeaderAuth,
    Rule,
    cursor_pages,
)
from hub.http.client import DEFAULT_TIMEOUT

__all__ = ["POLICY", "ShopifyClient", "graphql_code"]

Json = dict[str, Any]


def graphql_code(response: httpx.Response) -> str | None:
    """The first ``errors[].extensions.code``; ``GRAPHQL`` for an error without one."""
    if response.status_code != 200:
        return None
    errors = response.json().get("errors")
    if not isinstance(errors, list) or not errors:
        return None
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        if code:
            return str(code)
    return "GRAPHQL"


POLICY = DEFAULT_POLICY.extend(
    codes={
        "THROTTLED": Action.BACKOFF,
        "INTERNAL_SERVER_ERROR": Action.RETRY,
        "ACCESS_DENIED": Rule(
            Action.FATAL_AUTH,
            "the access token lacks a scope this sync needs (read_customers, write_customers, "
            "read_orders)",
        ),
        "MAX_COST_EXCEEDED": Rule(
            Action.FATAL_CONFIG, "lower page_size, orders_page_size or line_items in the config"
        ),
        "GRAPHQL": Rule(
            Action.FATAL_CONFIG,
            "the API refused the query; check api_version is one Shopify still serves",
        ),
    },
    code_of=graphql_code,
)


class ShopifyClient:
    """One connection's GraphQL client, paced by Shopify's calculated query cost."""

    def __init__(
        self,
        config: ShopifyConfig,
        *,
        connection: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.connection = connection
        self._api = ApiClient(
            config.root,
            connection=connection,
            auth=HeaderAuth("X-Shopify-Access-Token", config.access_token),
            limiter=CostBucket(maximum=2000, restore_rate=100, clock=clock),
            policy=POLICY,
            transport=transport,
        )
        self.clock = self._api.clock
        self._transport = transport
        self._files: httpx.AsyncClient | None = None

    async def execute(
        self, document: str, variables: Json | None = None, *, retry: bool = True
    ) -> Json:
        """Run ``document`` and return its ``data``; ``retry`` False for a mutation
        that must not run twice."""
        cost = QueryCost(document, variables).requested()
        if cost > MAX_QUERY_COST:
            raise ConfigError(
                f"crmhub: connection {self.connection!r}: a query would cost {cost} points, "
                f"over Shopify's limit of {MAX_QUERY_COST}; lower page_size, "
                "orders_page_size or line_items"
            )
        response = await self._api.post(
            self.config.endpoint,
            json={"query": document, "variables": variables or {}},
            cost=cost,
            safe_to_retry=retry,
        )
        data = response.json().get("data")
        return dict(data) if isinstance(data, dict) else {}

    def pages(
        self, root: str, fields: str, *, size: int, query: str | None, after: str | None
    ) -> AsyncIterator[tuple[list[Json], str | None]]:
        """Nodes of ``root`` matching ``query``, by ``updatedAt``; each page with the
        cursor of the next (None after the last)."""
        document = queries.page_query(root, fields)

        async def fetch(cursor: str | None) -> httpx.Response:
            variables = {"first": size, "after": cursor, "query": query}
            return await self._api.post(
                self.config.endpoint,
                json={"query": document, "variables": variables},
                cost=QueryCost(document, variables).requested(),
                safe_to_retry=True,
            )

        def following(body: Json) -> str | None:
            info = body["data"][root]["pageInfo"]
            return str(info["endCursor"]) if info["hasNextPage"] else None

        return cursor_pages(
            fetch,
            items=lambda body: [edge["node"] for edge in body["data"][root]["edges"]],
            next_cursor=following,
            start=after,
        )

    async def run_bulk(self, query: str) -> Json:
        """Start a bulk export of ``query``; one already running with the same query is reused.

        Shopify runs one bulk query at a time per app and shop, so a retry of
        a start that did go through finds its own operation in progress.
        """
        payload = (await self.execute(queries.BULK_RUN, {"query": query}))["bulkOperationRunQuery"]
        if not payload["userErrors"]:
            return dict(payload["bulkOperation"])
        current = (await self.execute(queries.CURRENT_BULK))["currentBulkOperation"]
        if current and current["query"] == query and current["status"] in ("CREATED", "RUNNING"):
            return dict(current)
        raise RetriableError(
            f"crmhub: connection {self.connection!r}: Shopify did not start the bulk export: "
            f"{payload['userErrors'][0]['message']}; the next run tries again"
        )

    async def wait_bulk(self, operation_id: str, poll: float) -> Json:
        """Poll the operation every ``poll`` seconds until it is no longer running."""
        while True:
            node = (await self.execute(queries.BULK_POLL, {"id": operation_id}))["node"]
            if node is None:
                raise RetriableError(
                    f"crmhub: connection {self.connection!r}: bulk operation {operation_id} "
                    "is gone; the next run starts a new export"
                )
            if node["status"] not in ("CREATED", "RUNNING"):
                return dict(node)
            await self.clock.sleep(poll)

    async def lines(self, url: str, start: int) -> AsyncIterator[tuple[bytes, int]]:
        """A bulk result's lines from byte ``start``, each with the offset after it.

        The file is streamed, never held whole. It lives in cloud storage, not
        behind the Admin API, so it is fetched without the access token; a
        connection that drops mid-file raises RetriableError and the next run
        resumes at the last checkpointed offset with a ranged request.
        """
        headers = {"Range": f"bytes={start}-"} if start else {}
        offset, rest = start, b""
        try:
            async with self._file_client().stream("GET", url, headers=headers) as response:
                if response.status_code not in (200, 206):
                    raise RetriableError(
                        f"crmhub: connection {self.connection!r}: the bulk result download "
                        f"answered HTTP {response.status_code}; the next run starts it again"
                    )
                async for chunk in response.aiter_bytes():
                    rest += chunk
                    *complete, rest = rest.split(b"\n")
                    for line in complete:
                        offset += len(line) + 1
                        if line.strip():
                            yield line, offset
        except httpx.TransportError as exc:
            raise RetriableError(
                f"crmhub: connection {self.connection!r}: the bulk result download broke off "
                f"at byte {offset} ({type(exc).__name__}); the run resumes from its checkpoint"
            ) from None
        if rest.strip():
            yield rest, offset + len(rest)

    def _file_client(self) -> httpx.AsyncClient:
        """Made on first use: most runs (webhook drains, incremental pulls) download no
        bulk file, and each new client loads the CA bundle, 80 ms of CPU on a busy
        machine, for every connector the long-running modes build."""
        if self._files is None:
            self._files = httpx.AsyncClient(transport=self._transport, timeout=DEFAULT_TIMEOUT)
        return self._files

    async def aclose(self) -> None:
        await self._api.aclose()
        if self._files is not None:
            await self._files.aclose()
