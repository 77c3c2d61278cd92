"""``crmhub run``: one process that syncs on schedule, drains the outbox and serves webhooks.

Everything runs on one asyncio loop: APScheduler 3's AsyncIOScheduler starts
each connection's pull as a task (coalesced, one instance at a time), a drain
loop applies the webhook inbox and pushes the outbox whenever it is woken (a
delivery stored, a pull done) or ``service.poll`` passes, and uvicorn serves
the webhook app (with /healthz, /readyz and /metrics). One lock per
connection keeps a connection's pull, push and inbox from ever running at the
same time.

SIGTERM (or Ctrl+C) stops new work at once, lets the work in flight finish for
up to ``service.grace``, then cancels what is left: a page whose transaction
had not committed rolls back, its run is marked cancelled, and the next start
resumes from the last committed cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from hub.config import HubConfig
from hub.engine.runner import build_connector
from hub.plugins import Plugins
from hub.service.inbox import pending_connections
from hub.service.metrics import ServiceMetrics
from hub.service.schedule import trigger
from hub.service.serving import HttpServer
from hub.service.webhooks import webhook_app
from hub.service.work import apply_webhooks, due_pushes, pull, push
from hub.store.database import Store

__all__ = ["EmbeddedService"]

log = logging.getLogger(__name__)


class EmbeddedService:
    def __init__(self, store: Store, config: HubConfig, plugins: Plugins) -> None:
        self.store, self.config, self.plugins = store, config, plugins
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self.in_flight: set[asyncio.Task[object]] = set()
        self.ready = False
        self.metrics = ServiceMetrics(store, list(config.connections))
        """Its own registry: it counts only this service's work."""
        self.port: int | None = None
        """The port the webhook endpoint is bound to, once it is (``service.port: 0`` picks one)."""

    def stop(self) -> None:
        if not self.stopping.is_set():
            log.info("stopping: no new work; waiting for the work in flight")
        self.ready = False
        self.stopping.set()
        self.wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        connectors = {
            name: build_connector(self.config, self.plugins, name)
            for name in self.config.connections
        }
        app = webhook_app(
            self.store,
            connectors,
            on_stored=lambda _: self.wake.set(),
            ready=lambda: self.ready,
            metrics=self.metrics,
        )
        settings = self.config.service
        server = HttpServer(app, str(settings.host), settings.port)
        scheduler = AsyncIOScheduler()
        try:
            self.port = await server.start()
            log.info("webhooks at http://%s:%s/webhooks/{connection}", settings.host, self.port)
            self._schedule(scheduler)
            scheduler.start()
            draining = asyncio.create_task(self._drain_forever())
            self.ready = True
            await self.stopping.wait()
            scheduler.shutdown(wait=False)
            server.close()
            await self._finish([draining, *self.in_flight], settings.grace.total_seconds())
        finally:
            self.stop()
            if scheduler.running:
                scheduler.shutdown(wait=False)
            await server.stop()
            for connector in connectors.values():
                await connector.aclose()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        log.info("stopped")

    def _schedule(self, scheduler: AsyncIOScheduler) -> None:
        for name, connection in self.config.connections.items():
            if connection.schedule is None or connection.direction == "push":
                continue
            scheduler.add_job(
                self._exclusive,
                trigger(connection.schedule),
                args=[name, self._pull],
                id=name,
                name=f"pull {name}",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
                next_run_time=datetime.now().astimezone() if connection.schedule.every else None,
            )

    async def _exclusive(self, name: str, work: Callable[[str], Awaitable[None]]) -> None:
        """Run one connection's work under its lock, counted as in flight for shutdown."""
        if self.stopping.is_set():
            return
        task = asyncio.current_task()
        assert task is not None
        self.in_flight.add(task)
        try:
            async with self.locks[name]:
                if not self.stopping.is_set():
                    await work(name)
        except Exception:  # logged; the service goes on with the other connections
            log.exception("%s failed", name)
        finally:
            self.in_flight.discard(task)

    async def _pull(self, name: str) -> None:
        await pull(self.store, self.config, self.plugins, name, observe=self.metrics.observe)
        self.wake.set()  # the pull may have queued pushes

    async def _push(self, name: str) -> None:
        await push(self.store, self.config, self.plugins, name, observe=self.metrics.observe)

    async def _drain(self, name: str) -> None:
        observe = self.metrics.observe
        if await apply_webhooks(self.store, self.config, self.plugins, name, observe=observe):
            self.wake.set()  # the deliveries and their pulls may have queued pushes

    async def _drain_forever(self) -> None:
        poll = self.config.service.poll.total_seconds()
        while not self.stopping.is_set():
            self.wake.clear()
            try:
                await self._drain_once()
            except Exception:  # the store was unreachable, say: try again after the poll
                log.exception("draining the inbox and outbox failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), poll)

    async def _drain_once(self) -> None:
        inbox = await asyncio.to_thread(pending_connections, self.store)
        for name in inbox:
            if name in self.config.connections:
                await self._exclusive(name, self._drain)
        for name in await asyncio.to_thread(due_pushes, self.store, self.config):
            await self._exclusive(name, self._push)

    async def _finish(self, tasks: list[asyncio.Task[object]], grace: float) -> None:
        """Give the work in flight ``grace`` seconds, then cancel it (its page rolls back)."""
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            log.warning("abandoning work still running after the grace period: %s", task.get_name())
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
