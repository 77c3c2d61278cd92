"""A local emulator of Shopify's GraphQL Admin API, faithful where the connector depends on it.

- ``POST /admin/api/{version}/graphql.json`` with ``X-Shopify-Access-Token``; a
  missing or wrong token gets HTTP 401 and Shopify's body ``{"errors": "[API]
  Invalid API key or access token (unrecognized login or wrong password)"}``.
  Every answer names the version served in ``X-Shopify-API-Version``.
- The query runs against admin.graphql (Shopify's own names) with
  graphql-core: unknown fields, bad arguments and a connection without
  ``first``/``last`` are GraphQL errors in an HTTP 200, as Shopify answers
  (tests/fixtures/vendor/shopify/graphql/query_error_with_cost_extensions.json).
- Calculated query cost (connectors/shopify/cost.py) and a leaky bucket of
  2000 points restoring 100 a second (the Standard plan figures Shopify
  reports in ``throttleStatus``): a query needs its requested cost in the
  bucket, pays its actual cost, and is otherwise refused with HTTP 200,
  ``errors[].extensions.code`` ``THROTTLED`` and nothing charged
  (tests/fixtures/vendor/shopify/graphql/throttled_error.json). A query
  requesting over 1000 points is refused with ``MAX_COST_EXCEEDED``. Every
  answer carries ``extensions.cost``.
- Connections page by ``edges``/``node``/``cursor``/``pageInfo``; ``query:``
  filters with Shopify's search syntax (connectors/shopify/search.py);
  timestamps are UTC to the second with a ``Z``; ids are GIDs; money is a
  ``MoneyBag`` of decimal strings.
- Bulk operations: ``bulkOperationRunQuery`` answers at once and exports in
  the background, completing no sooner than ``bulk_seconds`` later on the
  sandbox clock; ``currentBulkOperation``
  and ``node(id:)`` report it, and the JSONL file is served at a URL of its
  own that needs no token (Shopify's are signed storage URLs) and honours
  ``Range: bytes=N-``. One line per node, children after their parent with
  ``__parentId``.
- Customer metafields (:mod:`connectors.shopify.emulator_metafields`):
  ``metafieldsSet`` and ``metafieldsDelete`` with Shopify's limits and
  ``MetafieldsSetUserError``s, read back through ``Customer.metafields``.
- Webhooks (:mod:`connectors.shopify.sandbox_webhooks`): with a subscription
  URL set, every change queues a signed delivery of the REST-shaped payload.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from graphql import ExecutionResult, GraphQLError, graphql_sync, parse, validate
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.shopify.config import DEFAULT_API_VERSION
from connectors.shopify.cost import MAX_QUERY_COST, QueryCost
from connectors.shopify.emulator import ShopState
from connectors.shopify.emulator_metafields import Metafields
from connectors.shopify.emulator_writes import Writes
from connectors.shopify.sandbox_bulk import BulkRunner
from connectors.shopify.sandbox_data import SandboxData
from connectors.shopify.sandbox_webhooks import WebhookOutbox
from hub.http import Clock
from hub.testing.sandbox import Sandbox

__all__ = ["APP_SECRET", "SHOP", "TOKEN", "VERSIONS", "ShopifySandbox"]

SHOP = "crmhub-sandbox.myshopify.com"
TOKEN = "shpat_sandbox0000000000000000000000"
APP_SECRET = "sandbox-app-secret"
VERSIONS = ("2024-10", "2025-01", "2025-04", "2025-07", "unstable")
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_THROTTLED_DOCS = "https://shopify.dev/api/usage/rate-limits"


class PointsBucket:
    """The server side of Shopify's leaky bucket of query cost, on the sandbox clock."""

    def __init__(self, clock: Clock, maximum: float = 2000, restore_rate: float = 100) -> None:
        self.clock, self.maximum, self.restore_rate = clock, maximum, restore_rate
        self.available = maximum
        self.refused = 0
        self._at = clock.monotonic()

    def refill(self) -> None:
        now = self.clock.monotonic()
        self.available = min(self.maximum, self.available + self.restore_rate * (now - self._at))
        self._at = now

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": float(int(self.available)),
            "restoreRate": self.restore_rate,
        }


class ShopifySandbox(SandboxData, Sandbox):
    """One shop's customers and orders behind the GraphQL Admin API."""

    def __init__(self, *, clock: Clock | None = None, bulk_seconds: float = 3.0) -> None:
        self.state = ShopState()
        self.tokens = {TOKEN}
        self.webhooks = WebhookOutbox(self, APP_SECRET, SHOP)
        self.changes = 0
        """Customers and orders created, updated or deleted by mutations: writes to count."""
        self.writes = Writes(self.state, self.stamp, self._changed)
        self.writes.bind(self.state.schema)
        self.metafields = Metafields(self.state, self.stamp)
        self.metafields.bind(self.state.schema)
        self.bulk = BulkRunner(self, bulk_seconds)
        self.bulk.bind(self.state.schema)
        super().__init__(clock=clock)
        self.bucket = PointsBucket(self.clock)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/admin/api/{version}/graphql.json", self._graphql, methods=["POST"]),
            Route(self.bulk.PATH + "/{name}", self.bulk.download, methods=["GET"]),
        ]

    def error(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        return JSONResponse({"errors": message}, status, dict(headers or {}))

    def authenticate(self, request: Request) -> Response | None:
        if request.url.path.startswith(self.bulk.PATH):
            return None  # a signed storage URL: the signature is in the path
        if request.headers.get("X-Shopify-Access-Token") in self.tokens:
            return None
        return self.error(401, "unauthorized", INVALID_TOKEN)

    def expired_token(self) -> Response:
        return self.error(401, "unauthorized", INVALID_TOKEN)

    def throttled(self, retry_after: float) -> Response:
        headers = {"Retry-After": str(max(1, round(retry_after)))}
        return self.error(
            429, "throttled", "Exceeded 2 calls per second for api client.", headers=headers
        )

    def outage(self, status: int) -> Response:
        return self.error(
            status,
            "server_error",
            "Internal Server Error" if status == 500 else "Service Unavailable",
        )

    def _changed(self, topic: str, node: dict[str, Any]) -> None:
        self.changes += 1
        self.webhooks.changed(topic, node)

    def config_for(self, base_url: str) -> dict[str, Any]:
        return {
            "shop": SHOP,
            "base_url": base_url,
            "access_token": "${SHOPIFY_SANDBOX_TOKEN}",
            "app_secret": "${SHOPIFY_SANDBOX_APP_SECRET}",
        }

    def environment(self) -> dict[str, str]:
        return {"SHOPIFY_SANDBOX_TOKEN": TOKEN, "SHOPIFY_SANDBOX_APP_SECRET": APP_SECRET}

    # The endpoint.

    async def _graphql(self, request: Request) -> Response:
        version = request.path_params["version"]
        served = version if version in VERSIONS else DEFAULT_API_VERSION
        headers = {"X-Shopify-API-Version": served}
        try:
            body = await request.json()
            document, variables = body["query"], body.get("variables") or {}
            if not isinstance(document, str) or not isinstance(variables, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return JSONResponse(
                {"errors": {"query": "Required parameter missing or invalid"}}, 400, headers
            )
        self.bulk.advance(str(request.base_url))
        return JSONResponse(self.execute(document, variables), 200, headers)

    def execute(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run one query as Shopify would: cost check, bucket, execution, cost report."""
        try:
            parsed = parse(document)
        except GraphQLError as exc:
            return {"errors": [exc.formatted], "extensions": self._cost(0, 0)}
        problems = validate(self.state.schema, parsed)
        if problems:
            return {"errors": [p.formatted for p in problems], "extensions": self._cost(0, 0)}
        cost = QueryCost(document, variables, self.state.schema)
        requested = cost.requested()
        if requested > MAX_QUERY_COST:
            message = (
                f"Query cost is {requested}, which exceeds the single query max cost limit "
                f"({MAX_QUERY_COST})."
            )
            error = {"message": message, "extensions": {"code": "MAX_COST_EXCEEDED"}}
            return {"errors": [error], "extensions": self._cost(requested, None)}
        self.bucket.refill()
        if self.bucket.available < requested:
            self.bucket.refused += 1
            error = {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": _THROTTLED_DOCS},
            }
            return {"errors": [error], "extensions": self._cost(requested, None)}
        result: ExecutionResult = graphql_sync(
            self.state.schema,
            document,
            variable_values=variables,
            context_value={"current_bulk": self.bulk.current},
        )
        actual = cost.actual(result.data) if result.data else 0
        self.bucket.available -= actual
        answer: dict[str, Any] = {}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        answer["data"] = result.data
        answer["extensions"] = self._cost(requested, actual)
        return answer

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": self.bucket.status(),
            }
        }

    def dumps(self, value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()
