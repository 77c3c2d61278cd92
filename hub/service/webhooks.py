"""The HTTP face of ``crmhub run`` and ``crmhub worker``: webhooks, health, metrics.

``/webhooks/{connection}[/{path}]`` hands the raw request to the connection's
connector to verify. A verification call is answered at once; a verified
delivery is stored in the inbox and only then acknowledged, so a 200 always
means the hub holds it; a forged one is refused with 401 and logged by
connection and reason only, never with its body or headers. ``/metrics`` is
the Prometheus exposition of :class:`~hub.service.metrics.ServiceMetrics`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from hub.connector import Connector, WebhookReply, WebhookRequest
from hub.errors import WebhookRejected
from hub.redact import secret_values
from hub.service.inbox import store_delivery
from hub.service.metrics import CONTENT_TYPE, ServiceMetrics
from hub.store.database import Store

__all__ = ["webhook_app"]

log = logging.getLogger(__name__)

Stored = Callable[[str], None]


def webhook_app(
    store: Store,
    connectors: Mapping[str, Connector],
    *,
    on_stored: Stored | None = None,
    ready: Callable[[], bool] = lambda: True,
    metrics: ServiceMetrics | None = None,
) -> Starlette:
    """The ASGI app; ``on_stored(connection)`` wakes whoever applies the inbox."""
    secrets = {name: secret_values(connector.config) for name, connector in connectors.items()}

    def count(connection: str, result: str) -> None:
        if metrics is not None:
            metrics.webhook(connection, result)

    async def receive(request: Request) -> Response:
        name = request.path_params["connection"]
        connector = connectors.get(name)
        if connector is None:
            return JSONResponse({"error": f"no connection named {name!r}"}, 404)
        call = WebhookRequest(
            method=request.method,
            path=request.path_params.get("path", ""),
            headers={key.lower(): value for key, value in request.headers.items()},
            query=dict(request.query_params),
            body=await request.body(),
        )
        try:
            verdict = connector.verify_webhook(call)
        except WebhookRejected as exc:
            log.warning("webhook for %s refused (401): %s", name, exc)
            count(name, "rejected")
            return JSONResponse({"error": "the delivery could not be verified"}, 401)
        if isinstance(verdict, WebhookReply):
            count(name, "replied")
            return Response(verdict.body, verdict.status, media_type=verdict.content_type)
        try:
            new = await asyncio.to_thread(
                store_delivery, store, name, verdict.delivery_id, call, secrets[name]
            )
        except Exception:  # not stored: the vendor must send it again
            log.exception("webhook for %s could not be stored; answered 503", name)
            count(name, "unstored")
            return JSONResponse({"error": "the delivery could not be stored"}, 503)
        if new and on_stored is not None:
            on_stored(name)
        count(name, "stored" if new else "duplicate")
        return JSONResponse({"status": "stored" if new else "duplicate"})

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        try:
            await asyncio.to_thread(_ping, store)
        except Exception as exc:
            return PlainTextResponse(f"store unavailable: {type(exc).__name__}", 503)
        return PlainTextResponse("ready" if ready() else "starting", 200 if ready() else 503)

    async def exposition(_: Request) -> Response:
        assert metrics is not None
        return Response(await asyncio.to_thread(metrics.render), media_type=CONTENT_TYPE)

    methods = ["GET", "POST"]
    served = [Route("/metrics", exposition, methods=["GET"])] if metrics is not None else []
    return Starlette(
        routes=[
            *served,
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/webhooks/{connection}", receive, methods=methods),
            Route("/webhooks/{connection}/{path:path}", receive, methods=methods),
        ]
    )


def _ping(store: Store) -> None:
    with store.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
