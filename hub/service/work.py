"""The units of work both long-running modes run, and how each finds what is due.

``crmhub run`` calls these from its scheduler and drain loop; ``crmhub worker``
from procrastinate tasks. Either way a unit is one connection (a pull of one or
all of its streams, a push, an inbox drain), and the caller guarantees that a
connection never runs twice at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import col, select

from hub.config import HubConfig
from hub.engine.runner import StreamResult, sync
from hub.logs import log_context
from hub.plugins import Plugins
from hub.service.inbox import drain_inbox
from hub.store.database import Store
from hub.store.tables import Outbox

__all__ = ["Observer", "apply_webhooks", "due_pushes", "pull", "push", "report"]

log = logging.getLogger(__name__)


Observer = Callable[[list[StreamResult]], None]
"""Hears of every finished run (the service's metrics)."""


async def pull(
    store: Store,
    config: HubConfig,
    plugins: Plugins,
    connection: str,
    stream: str | None = None,
    *,
    observe: Observer | None = None,
) -> list[StreamResult]:
    """Pull ``connection`` (one stream, or all of them) from its saved cursors."""
    streams = [stream] if stream is not None else None
    results = await sync(
        store, config, plugins, connections=[connection], phases=("pull",), streams=streams
    )
    report(results, observe)
    return results


async def push(
    store: Store,
    config: HubConfig,
    plugins: Plugins,
    connection: str,
    *,
    observe: Observer | None = None,
) -> list[StreamResult]:
    """Write the changes queued for ``connection``."""
    results = await sync(store, config, plugins, connections=[connection], phases=("push",))
    report(results, observe)
    return results


async def apply_webhooks(
    store: Store,
    config: HubConfig,
    plugins: Plugins,
    connection: str,
    *,
    observe: Observer | None = None,
) -> int:
    """Drain ``connection``'s inbox, then pull what its deliveries only pointed at.

    Returns the deliveries applied. The pull runs under the caller's lock for
    the connection, as the drain does, and only when something was applied.
    """
    applied = 0
    heard = None if observe is None else lambda result: observe([result])
    while taken := await drain_inbox(store, config, plugins, connection, on_result=heard):
        applied += taken
    if applied:
        offered = plugins.connector(config.connections[connection].connector).pulls_after_webhook
        for stream in sorted(offered & set(config.connections[connection].streams)):
            await pull(store, config, plugins, connection, stream, observe=observe)
    return applied


def due_pushes(store: Store, config: HubConfig) -> list[str]:
    """Connections in the config with outbox rows whose time has come."""
    now = datetime.now(UTC)
    with store.session() as session:
        found = session.exec(
            select(Outbox.connection)
            .where(
                Outbox.status == "pending",
                (col(Outbox.next_attempt_at).is_(None)) | (col(Outbox.next_attempt_at) <= now),
            )
            .distinct()
        )
        return sorted(name for name in found if name in config.connections)


def report(results: list[StreamResult], observe: Observer | None = None) -> None:
    """One log line per stream run: what a person watching the service wants to see."""
    if observe is not None:
        observe(results)
    for r in results:
        counts = ", ".join(f"{value} {key}" for key, value in r.counts.items() if value)
        with log_context(connection=r.connection, stream=r.stream, run_id=r.run_id, phase=r.phase):
            if r.error:
                log.error("%s/%s %s failed: %s", r.connection, r.stream, r.phase, r.error)
            elif r.phase == "push":
                log.info("%s/%s push done (run %s)", r.connection, r.stream, r.run_id)
            else:
                log.info("%s/%s pull done: %s", r.connection, r.stream, counts or "no changes")
