"""``crmhub worker``: scale-out on a PostgreSQL store, dispatched through procrastinate.

procrastinate is a job queue kept in PostgreSQL itself, so workers on several
machines need nothing but the store they already share: no broker, no cluster
code of ours. What crmhub adds is the mapping of its work onto jobs:

- ``crmhub.sync(connection, stream)``, ``crmhub.push(connection)`` and
  ``crmhub.webhooks(connection)`` all take the lock ``crmhub:{connection}``,
  so procrastinate never starts two jobs of one connection at once: a
  connection's pull, push and inbox touch the same links, and serialising
  them is what ``crmhub run`` does with an asyncio lock. Each also carries a
  queueing lock per connection and stream, so at most one of each waits.
- ``crmhub.tick`` is a procrastinate periodic task: one deferral per period
  across every worker (procrastinate records periodic deferrals in the
  database). It defers the syncs whose schedule is due, judged from the run
  table, the pushes with due outbox rows and the inbox drains with waiting
  deliveries; and it retries stalled jobs, which procrastinate does not do by
  itself: a job whose worker has sent no heartbeat for ``service.stall_after``
  is put back to ``todo`` for another worker. The checkpoint (cursor with the
  page, outbox rows marked in the write's transaction) makes the repeat safe.

Each worker also serves the HTTP face of ``crmhub run`` (webhooks, health,
metrics), so the scale-out mode needs no ``crmhub run`` beside it: a stored
delivery defers its connection's ``crmhub.webhooks`` job at once.

procrastinate's own tables are created with procrastinate's schema manager,
under a PostgreSQL advisory lock, the first time a worker starts on a store.
They are not in crmhub's Alembic migrations on purpose: the queue's schema
belongs to the procrastinate version installed (it ships its own migrations
for upgrades), and a SQLite store, which most users have, never needs it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import UTC, datetime

import psycopg
from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.job_context import JobContext
from procrastinate.jobs import Status
from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from hub.config import HubConfig
from hub.engine.runner import build_connector
from hub.plugins import Plugins
from hub.service.inbox import pending_connections
from hub.service.metrics import ServiceMetrics
from hub.service.schedule import is_due
from hub.service.serving import HttpServer
from hub.service.webhooks import webhook_app
from hub.service.work import Observer, apply_webhooks, due_pushes, pull, push
from hub.store.database import Store
from hub.store.tables import Run

__all__ = ["build_app", "conninfo", "ensure_queue_schema", "run_worker", "tick"]

log = logging.getLogger(__name__)

_SCHEMA_LOCK = 7_310_421  # pg_advisory_xact_lock key: "crmhub applies the queue schema"


def conninfo(store: Store) -> str:
    """The store's URL as libpq reads it (SQLAlchemy's driver suffix removed)."""
    url = make_url(store.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def build_app(
    store: Store, config: HubConfig, plugins: Plugins, observe: Observer | None = None
) -> App:
    """The procrastinate app with crmhub's tasks bound to this store and config."""
    app = App(connector=PsycopgConnector(conninfo=conninfo(store), min_size=1, max_size=4))

    @app.task(name="crmhub.sync", pass_context=True)
    async def sync_task(context: JobContext, connection: str, stream: str) -> None:
        log.info("%s/%s pull on worker %s", connection, stream, context.worker_name)
        await pull(store, config, plugins, connection, stream, observe=observe)

    @app.task(name="crmhub.push", pass_context=True)
    async def push_task(context: JobContext, connection: str) -> None:
        log.info("%s push on worker %s", connection, context.worker_name)
        await push(store, config, plugins, connection, observe=observe)

    @app.task(name="crmhub.webhooks")
    async def webhooks_task(connection: str) -> None:
        await apply_webhooks(store, config, plugins, connection, observe=observe)

    every = max(1, min(59, int(config.service.poll.total_seconds())))

    @app.periodic(cron=f"* * * * * */{every}", periodic_id="tick")
    @app.task(name="crmhub.tick", queueing_lock="crmhub:tick")
    async def tick_task(timestamp: int) -> None:
        await tick(app, store, config)

    return app


async def tick(app: App, store: Store, config: HubConfig) -> int:
    """Defer what is due and retry stalled jobs; returns how many jobs were deferred."""
    deferred = 0
    now = datetime.now(UTC)
    starts = _last_starts(store)
    for name, connection in config.connections.items():
        if connection.schedule is None or connection.direction == "push":
            continue
        for stream in connection.streams:
            if is_due(connection.schedule, starts.get((name, stream)), now):
                deferred += await _defer(
                    app, "crmhub.sync", name, stream, connection=name, stream=stream
                )
    for name in due_pushes(store, config):
        deferred += await _defer(app, "crmhub.push", name, "push", connection=name)
    for name in pending_connections(store):
        if name in config.connections:
            deferred += await _defer(app, "crmhub.webhooks", name, "webhooks", connection=name)
    await retry_stalled(app, store, config.service.stall_after.total_seconds())
    return deferred


async def _defer(app: App, task: str, connection: str, what: str, /, **args: str) -> int:
    try:
        await app.configure_task(
            task, lock=f"crmhub:{connection}", queueing_lock=f"crmhub:{connection}:{what}"
        ).defer_async(**args)
    except AlreadyEnqueued:
        return 0
    return 1


async def retry_stalled(app: App, store: Store, stall_after: float) -> None:
    """Put the jobs of dead workers back in the queue, or drop them if a twin already waits.

    The dead worker's run is closed as ``abandoned`` first, so the run table
    shows where it stopped and never two open runs of one connection.
    """
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stall_after):
        log.warning(
            "job %s (%s %s) stalled: its worker is gone; retrying",
            job.id,
            job.task_name,
            job.task_kwargs,
        )
        connection = str(job.task_kwargs.get("connection", ""))
        await asyncio.to_thread(_abandon_runs, store, connection)
        try:
            await app.job_manager.retry_job(job)
        except UniqueViolation:  # the same work is queued already: this copy is redundant
            await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
    await app.job_manager.prune_stalled_workers(seconds_since_heartbeat=stall_after)


def _abandon_runs(store: Store, connection: str) -> None:
    """Close the open runs of ``connection``: the lock says no live worker holds one."""
    with store.session() as session:
        for run in session.exec(
            select(Run).where(Run.connection == connection, Run.status == "running")
        ):
            run.status, run.finished_at = "abandoned", datetime.now(UTC)
            run.error = "its worker stopped without finishing; another worker resumed it"
            session.add(run)
        session.commit()


def _last_starts(store: Store) -> dict[tuple[str, str], datetime | None]:
    """Each stream's latest run start; None (due at once) when that run did not succeed.

    A pull that failed (an outage past the client's retries, a write that lost
    a race with another worker's transaction) or was abandoned is tried again
    at the next tick rather than at the next scheduled time, resuming from its
    cursor.
    """
    with store.session() as session:
        latest = (
            select(Run.connection, Run.stream, func.max(Run.id).label("id"))
            .group_by(col(Run.connection), col(Run.stream))
            .subquery()
        )
        rows = session.exec(select(Run).join(latest, col(Run.id) == latest.c.id))
        return {
            (run.connection, run.stream or ""): run.started_at
            if run.status in ("succeeded", "running")
            else None
            for run in rows
        }


async def ensure_queue_schema(store: Store, app: App) -> None:
    """Create procrastinate's tables once per store, whichever worker starts first."""
    connect = psycopg.AsyncConnection.connect(conninfo(store))
    async with await connect as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        cursor = await connection.execute("SELECT to_regclass('procrastinate_jobs')")
        row = await cursor.fetchone()
        if row is None or row[0] is None:
            log.info("creating the job queue's tables (procrastinate schema)")
            await connection.execute(app.schema_manager.get_schema())


async def run_worker(
    store: Store, config: HubConfig, plugins: Plugins, *, port: int | None = None
) -> None:
    """Work until SIGTERM: procrastinate stops fetching, lets the job finish for
    ``service.grace``, then cancels it (its page rolls back, its run is marked cancelled).

    Beside the jobs, the worker serves what ``crmhub run`` serves (webhooks,
    /healthz, /readyz, /metrics) on ``service.port`` or ``port``: a stored
    delivery defers its connection's inbox drain at once, so any worker may
    receive a webhook and any worker may apply it.
    """
    metrics = ServiceMetrics(store, list(config.connections))
    app = build_app(store, config, plugins, metrics.observe)
    stall_after = config.service.stall_after.total_seconds()
    connectors = {name: build_connector(config, plugins, name) for name in config.connections}
    deferring: set[asyncio.Task[int]] = set()
    ready = False

    def stored(connection: str) -> None:
        task = asyncio.create_task(
            _defer(app, "crmhub.webhooks", connection, "webhooks", connection=connection)
        )
        deferring.add(task)
        task.add_done_callback(deferring.discard)

    http = webhook_app(store, connectors, on_stored=stored, ready=lambda: ready, metrics=metrics)
    server = HttpServer(
        http, str(config.service.host), config.service.port if port is None else port
    )
    async with app.open_async():
        await ensure_queue_schema(store, app)
        bound = await server.start()
        log.info("webhooks and metrics at http://%s:%s", config.service.host, bound)
        try:
            ready = True
            await app.run_worker_async(
                name=f"{socket.gethostname()}:{os.getpid()}",
                concurrency=1,
                install_signal_handlers=True,
                shutdown_graceful_timeout=config.service.grace.total_seconds(),
                update_heartbeat_interval=max(0.5, stall_after / 4),
                stalled_worker_timeout=stall_after,
                delete_jobs="successful",
            )
        finally:
            ready = False
            await server.stop()
            await asyncio.gather(*deferring, return_exceptions=True)
            for connector in connectors.values():
                await connector.aclose()
