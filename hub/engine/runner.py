"""One sync pass: every configured connection's streams, one run record each.

A failing stream is recorded with a plain reason and the pass goes on with
the next one; only the summary's status tells the CLI to exit non-zero.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hub.config import HubConfig
from hub.connector import Connector, Page
from hub.engine.context import COUNT_KEYS, StreamContext
from hub.engine.identity import IdentityRules
from hub.engine.merge import MergeRules
from hub.engine.pull import pull_stream
from hub.engine.push import PlannedWrite, push_stream, push_view
from hub.errors import CrmhubError
from hub.logs import log_context
from hub.plugins import Plugins
from hub.store.database import Store
from hub.store.tables import Run

__all__ = ["StreamResult", "build_connector", "engine_rules", "subscribers", "sync"]

log = logging.getLogger(__name__)

ProgressHook = Callable[[StreamContext, Page], None]


@dataclass
class StreamResult:
    connection: str
    stream: str
    run_id: int
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    phase: str = "pull"
    planned: list[PlannedWrite] = field(default_factory=list)
    seconds: float = 0.0
    """How long the run took, for the service's duration histogram."""


def build_connector(config: HubConfig, plugins: Plugins, name: str) -> Connector:
    connection = config.connections[name]
    cls = plugins.connector(connection.connector)
    return cls(connection.settings, connection=name, default_region=connection.default_region)


def engine_rules(config: HubConfig) -> tuple[IdentityRules, MergeRules]:
    """The identity and merge sections of the config, as the engine reads them."""
    identity = IdentityRules(
        limits={kind: rule.limit for kind, rule in config.identity.identifiers.items()},
        never_link=tuple(config.identity.never_link),
        max_cluster=config.identity.max_cluster,
    )
    merge = MergeRules(
        source_priority=tuple(config.merge.source_priority),
        skew=config.merge.skew,
        policies={name: rule.policy for name, rule in config.merge.fields.items()},
        owners={name: rule.owner for name, rule in config.merge.fields.items() if rule.owner},
    )
    return identity, merge


def subscribers(config: HubConfig, plugins: Plugins, stream: str) -> tuple[str, ...]:
    """Connections that take pushes of ``stream``: direction push or both, and it writes it."""
    return tuple(
        name
        for name, connection in config.connections.items()
        if connection.direction != "pull"
        and stream in connection.streams
        and stream in plugins.connector(connection.connector).writes
    )


async def sync(
    store: Store,
    config: HubConfig,
    plugins: Plugins,
    *,
    connections: Iterable[str] | None = None,
    full: bool = False,
    dry_run: bool = False,
    on_page: ProgressHook | None = None,
    phases: tuple[str, ...] = ("pull", "push"),
    streams: Iterable[str] | None = None,
) -> list[StreamResult]:
    """Pull every selected connection, then push to every selected one.

    All pulls come before any push, so a change read from one connection
    reaches every other in the same pass. A dry run reads nothing and writes
    nothing: it plans the pushes of the changes the hub already holds.
    ``phases=("push",)`` only drains the outbox, as the long-running modes do
    between scheduled pulls; ``streams`` narrows each connection to those.
    """
    names = list(connections) if connections is not None else list(config.connections)
    only = set(streams) if streams is not None else None
    identity, merge = engine_rules(config)
    results: list[StreamResult] = []
    # The connections that take pushes, for the view each push compares: a pulled change
    # is queued only for those whose view it moves (hub.engine.apply).
    viewers = {
        name: build_connector(config, plugins, name)
        for name, connection in config.connections.items()
        if connection.direction != "pull" and "pull" in phases and not dry_run
    }
    try:
        for phase in phases:
            if phase == "pull" and dry_run:
                continue
            if phase == "push" and any(r.phase == "pull" for r in results):
                await asyncio.to_thread(_after_pull, store, config, plugins, results)
            for name in names:
                connection = config.connections[name]
                if connection.direction not in (phase, "both"):
                    continue
                connector = build_connector(config, plugins, name)
                try:
                    for stream in connection.streams:
                        offered = connector.reads if phase == "pull" else connector.writes
                        if stream not in offered or (only is not None and stream not in only):
                            continue
                        ctx = _start_run(store, connector, stream, dry_run=dry_run)
                        ctx.identity, ctx.merge = identity, merge
                        ctx.initial_sync = connection.initial_sync.prefer
                        ctx.subscribers = subscribers(config, plugins, stream)
                        ctx.views = {
                            target: push_view(viewers[target], stream)
                            for target in ctx.subscribers
                            if target in viewers
                        }
                        with log_context(
                            connection=name, stream=stream, run_id=ctx.run_id, phase=phase
                        ):
                            results.append(await _run_stream(ctx, phase, full, dry_run, on_page))
                finally:
                    await connector.aclose()
    finally:
        for viewer in viewers.values():
            await viewer.aclose()
    if "push" not in phases and any(r.phase == "pull" for r in results):
        await asyncio.to_thread(_after_pull, store, config, plugins, results)
    return results


_CHANGES = ("created", "updated", "merged", "deleted")


def _after_pull(
    store: Store, config: HubConfig, plugins: Plugins, results: list[StreamResult]
) -> None:
    """Let plugins bring derived data up to date before the pushes that would carry it.

    Run in a thread: a refresh is heavy SQL (and may make its own calls, such
    as a trigger's webhook), which must not stall the service's event loop.
    A plugin's failure is logged and the pass goes on: the pulled data is
    committed already, and the pushes of it must still go out.
    """
    changed = any(r.counts.get(key) for r in results for key in _CHANGES)
    try:
        done = plugins.after_pull(store, config, datetime.now(UTC), changed=changed)
    except Exception:
        log.exception("a plugin's crmhub_after_pull failed; the pass goes on")
        return
    for result in done:
        counts = ", ".join(f"{value} {key}" for key, value in result.counts.items())
        log.info("after pull, %s: %s", result.plugin, counts or "nothing to do")


def _start_run(
    store: Store, connector: Connector, stream: str, *, dry_run: bool = False
) -> StreamContext:
    with store.session() as session:
        run = Run(
            connection=connector.connection,
            stream=stream,
            status="dry-run" if dry_run else "running",
        )
        session.add(run)
        session.commit()
        assert run.id is not None
    return StreamContext(store=store, connector=connector, stream=stream, run_id=run.id)


async def _run_stream(
    ctx: StreamContext, phase: str, full: bool, dry_run: bool, on_page: ProgressHook | None
) -> StreamResult:
    connector, stream = ctx.connector, ctx.stream
    error: str | None = None
    planned: list[PlannedWrite] = []
    started = time.monotonic()
    try:
        if phase == "pull":
            await pull_stream(ctx, full=full, on_page=on_page)
        else:
            planned = await push_stream(
                ctx, batch_size=ctx.connector.push_batch_size, dry_run=dry_run
            )
    except CrmhubError as exc:
        error = str(exc)
    except asyncio.CancelledError:  # a shutdown abandoned the page: its transaction rolled back
        _finish_run(ctx, "cancelled", "stopped before the stream finished; the next run resumes")
        raise
    except Exception as exc:  # recorded on the run; the pass goes on with other streams
        log.exception("%s/%s failed", connector.connection, stream)
        error = f"{type(exc).__name__}: {exc}"
    status = "failed" if error else "dry-run" if dry_run else "succeeded"
    counts = _finish_run(ctx, status, error)
    return StreamResult(
        connector.connection,
        stream,
        ctx.run_id,
        status,
        counts,
        error,
        phase,
        planned,
        time.monotonic() - started,
    )


def _finish_run(ctx: StreamContext, status: str, error: str | None) -> dict[str, int]:
    counts = {key: ctx.counts.get(key, 0) for key in COUNT_KEYS}
    with ctx.store.session() as session:
        run = session.get_one(Run, ctx.run_id)
        run.finished_at = datetime.now(UTC)
        run.status, run.counts, run.error = status, counts, error
        session.add(run)
        session.commit()
    return counts
