"""The webhook inbox: deliveries stored before they are acknowledged, then applied once.

A delivery is written to ``webhook_inbox`` and only then answered 200, so a
crash after the answer loses nothing; a vendor's retry of the same delivery id
hits the unique key and is acknowledged without a second row. Applying a
delivery runs its pages through the pull pipeline (mapping, dead letters,
identity, merge, outbox) and marks the row done in the same transaction, so a
delivery is applied exactly once however often the drain is interrupted.

What is kept is what :meth:`Connector.webhook_pages` needs and nothing that
authenticates: headers that carry signatures or credentials are dropped, the
connection's secret values are masked, and the path after the connection name
(where vendors such as Mailchimp put a secret token) is not stored at all.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hub.config import HubConfig
from hub.connector import Connector, Page, WebhookRequest
from hub.engine.context import COUNT_KEYS, StreamContext
from hub.engine.mapping import map_page
from hub.engine.pull import count_page, stage_page
from hub.engine.runner import StreamResult, build_connector, engine_rules, subscribers
from hub.errors import RecordError
from hub.logs import log_context
from hub.plugins import Plugins
from hub.redact import REDACTED, scrub, secret_values
from hub.store.database import Store
from hub.store.tables import DeadLetter, Run, WebhookInbox

__all__ = ["drain_inbox", "pending_connections", "store_delivery"]

log = logging.getLogger(__name__)

_CREDENTIAL = re.compile(r"signature|hmac|authorization|token|secret|cookie|api[_-]?key", re.I)


def store_delivery(
    store: Store, connection: str, delivery_id: str, request: WebhookRequest, secrets: list[str]
) -> bool:
    """Keep a verified delivery durably; False when this delivery id is already stored."""
    body = request.body
    for secret in secrets:
        body = body.replace(secret.encode(), REDACTED.encode())
    row = WebhookInbox(
        connection=connection,
        delivery_id=delivery_id,
        method=request.method,
        headers=scrub(_without_credentials(request.headers), secrets),
        query=scrub(_without_credentials(request.query), secrets),
        body=body,
    )
    with store.session() as session:
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
    return True


def _without_credentials(values: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in values.items() if not _CREDENTIAL.search(name)}


def pending_connections(store: Store) -> list[str]:
    """Connections with deliveries waiting, for a drain that serves them all."""
    with store.session() as session:
        found = session.exec(
            select(WebhookInbox.connection).where(WebhookInbox.status == "pending").distinct()
        )
        return sorted(found)


async def drain_inbox(
    store: Store,
    config: HubConfig,
    plugins: Plugins,
    connection: str,
    *,
    batch: int = 200,
    on_result: Callable[[StreamResult], None] | None = None,
) -> int:
    """Apply this connection's pending deliveries, oldest first; returns how many were taken.

    The caller makes sure one drain per connection runs at a time (an asyncio
    lock in ``crmhub run``, a procrastinate lock in ``crmhub worker``).
    ``on_result`` hears of the drain's run as a pull's results are reported.
    """
    rows = await asyncio.to_thread(_pending, store, connection, batch)
    if not rows:
        return 0
    connector = build_connector(config, plugins, connection)
    run_id = await asyncio.to_thread(_start_run, store, connection)
    drain = _Drain(store, config, plugins, connector, run_id)
    error: str | None = None
    started = time.monotonic()
    try:
        with log_context(connection=connection, stream="webhooks", run_id=run_id, phase="pull"):
            for row in rows:
                await asyncio.to_thread(drain.apply, row)
    except Exception as exc:  # recorded on the run; the rows stay pending for the next drain
        log.exception("%s/webhooks failed", connection)
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        await connector.aclose()
        counts = await asyncio.to_thread(_finish_run, store, run_id, drain.counts, error)
        if on_result is not None:
            status = "failed" if error else "succeeded"
            seconds = time.monotonic() - started
            on_result(
                StreamResult(
                    connection, "webhooks", run_id, status, counts, error, "pull", [], seconds
                )
            )
    return len(rows)


def _pending(store: Store, connection: str, limit: int) -> list[WebhookInbox]:
    with store.session() as session:
        return list(
            session.exec(
                select(WebhookInbox)
                .where(WebhookInbox.connection == connection, WebhookInbox.status == "pending")
                .order_by(col(WebhookInbox.id))
                .limit(limit)
            )
        )


class _Drain:
    """Per-stream contexts of one drain, sharing one run and its counts."""

    def __init__(
        self, store: Store, config: HubConfig, plugins: Plugins, connector: Connector, run_id: int
    ) -> None:
        self.store, self.config, self.plugins = store, config, plugins
        self.connector, self.run_id = connector, run_id
        self.identity, self.merge = engine_rules(config)
        self.contexts: dict[str, StreamContext] = {}
        self.counts: dict[str, int] = {}

    def context(self, stream: str) -> StreamContext:
        if stream not in self.contexts:
            if stream not in self.connector.reads:
                raise RecordError(f"the delivery is for stream {stream!r}, which is not read")
            self.contexts[stream] = StreamContext(
                store=self.store,
                connector=self.connector,
                stream=stream,
                run_id=self.run_id,
                identity=self.identity,
                merge=self.merge,
                subscribers=subscribers(self.config, self.plugins, stream),
            )
        return self.contexts[stream]

    def apply(self, row: WebhookInbox) -> None:
        """One delivery's pages and the row's new status, in one transaction."""
        request = WebhookRequest(row.method, "", row.headers, row.query, row.body)
        try:
            pages = [(self.context(s), page) for s, page in self.connector.webhook_pages(request)]
        except (ValidationError, ValueError, KeyError, RecordError) as exc:
            self._refuse(row, f"the delivery cannot be read: {exc}")
            return
        staged: list[tuple[StreamContext, Page, list[DeadLetter]]] = []
        with self.store.session() as session:
            for ctx, page in pages:
                mapped, failed = map_page(ctx, page.records)
                failed = stage_page(session, ctx, page, mapped, failed, move_cursor=False)
                staged.append((ctx, page, failed))
            _mark(session, row, "done", None)
            session.commit()
        for ctx, page, failed in staged:
            count_page(ctx, page, failed)
            for key, value in ctx.counts.items():
                self.counts[key] = self.counts.get(key, 0) + value
            ctx.counts.clear()

    def _refuse(self, row: WebhookInbox, error: str) -> None:
        """A delivery no mapping can read is kept, marked failed, and the drain goes on."""
        error = scrub(error, secret_values(self.connector.config))
        log.warning("%s/webhooks delivery %s: %s", row.connection, row.delivery_id, error)
        with self.store.session() as session:
            _mark(session, row, "failed", error)
            session.commit()
        self.counts["dead_letters"] = self.counts.get("dead_letters", 0) + 1


def _mark(session: Session, row: WebhookInbox, status: str, error: str | None) -> None:
    stored = session.get_one(WebhookInbox, row.id)
    stored.status, stored.error, stored.processed_at = status, error, datetime.now(UTC)
    session.add(stored)


def _start_run(store: Store, connection: str) -> int:
    with store.session() as session:
        run = Run(connection=connection, stream="webhooks")
        session.add(run)
        session.commit()
        assert run.id is not None
        return run.id


def _finish_run(
    store: Store, run_id: int, counts: dict[str, int], error: str | None
) -> dict[str, int]:
    every = {key: counts.get(key, 0) for key in COUNT_KEYS}
    with store.session() as session:
        run = session.get_one(Run, run_id)
        run.finished_at = datetime.now(UTC)
        run.status = "failed" if error else "succeeded"
        run.counts, run.error = every, error
        session.add(run)
        session.commit()
    return every
