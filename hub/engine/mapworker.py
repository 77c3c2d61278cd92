"""Mapping a big pull's customers in a second process, so the writer keeps this one's core.

Mapping a customer (the connector's ``to_canonical``: e-mail, phone and
country checks into the canonical model) costs about as much CPU as writing
it, and threads cannot share that work under the GIL. Past
:attr:`StreamContext.worker_after` mapped records, a pull of customers from a
connector whose mapping is pure (:attr:`Connector.pure_mapping`) starts one
worker process with its own copy of the connector, built from the same
settings, and from then on sends it each page's payloads while the writer
thread applies the page before. The worker sends back each customer as its
canonical JSON (:class:`~hub.engine.mapped.CustomerJson`), which the writer
reads anyway, or the reason it was refused.

Small pulls never pay for the process: incremental pulls and re-reads that
skip unchanged payloads stay under the threshold. Until the worker has
started (its imports take a second), pages are mapped here. A worker that
dies is reported once; its page and the rest are mapped here. The pages
still reach the writer one at a time and in order, so checkpoints, crash
safety and page-boundary independence are the same either way.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from pydantic import BaseModel

from hub.connector import Connector, Page, RawRecord, SourceRecord
from hub.engine.context import StreamContext
from hub.engine.mapped import Mapped, as_customer_json
from hub.engine.mapping import MappedPage, Refusal, Todo, map_here, map_one, mapped_page
from hub.model import Customer
from hub.redact import scrub, secret_values

__all__ = ["PageMapper"]

log = logging.getLogger(__name__)

_worker: tuple[Connector, str] | None = None  # in a worker process: its connector and stream


class PageMapper:
    """Maps one pull's pages: in this process, or in a worker once the pull proves big."""

    def __init__(self, ctx: StreamContext) -> None:
        self.ctx = ctx
        connector = ctx.connector
        eligible = connector.pure_mapping and connector.reads.get(ctx.stream) is Customer
        self._left = ctx.worker_after if eligible else None  # records to map before starting
        self._pool: ProcessPoolExecutor | None = None
        self._started: Future[bool] | None = None
        self._mapped = 0  # records mapped so far, here or there
        self._announced = False
        if self._left == 0:  # the worker from the first page on: wait for it to start
            self._start()

    async def map(self, page: Page, todo: Todo) -> MappedPage:
        if await self._ready():
            assert self._pool is not None
            raws = [raw for raw, _, _ in todo]
            try:
                outcomes = await asyncio.wrap_future(self._pool.submit(_map_customers, raws))
            except BrokenProcessPool as exc:
                self._give_up(exc)
            else:
                self._mapped += len(todo)
                return mapped_page(self.ctx, page, todo, outcomes)
        mapped = map_here(self.ctx, page, todo)
        self._mapped += len(todo)
        if self._left is not None:
            self._left -= len(todo)
            if self._left <= 0:
                self._start()
        return mapped

    def close(self) -> None:
        """Stop the worker, if one was started; a page it is mapping is finished first."""
        pool, self._pool, self._started = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _start(self) -> None:
        self._left = None
        connector = self.ctx.connector
        spec = (
            type(connector),
            connector.config,
            connector.connection,
            connector.default_region,
            self.ctx.stream,
        )
        # spawn, never fork: this process runs threads (the writer's, a service's)
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=_build, initargs=spec)
        try:
            self._started = self._pool.submit(_is_ready)
        except Exception as exc:  # the connector or its settings could not be sent there
            self._give_up(exc)

    async def _ready(self) -> bool:
        """Whether the worker maps this page: once it has started, while pages are mapped
        here meanwhile; from the first page on, as soon as it has started."""
        started = self._started
        if started is None or (self._mapped and not started.done()):
            return False
        try:
            await asyncio.wrap_future(started)
        except Exception as exc:  # the worker could not build the connector
            self._give_up(exc)
            return False
        if not self._announced:
            self._announced = True
            log.info(
                "%s/%s: mapping in a worker process from record %d on",
                self.ctx.connection,
                self.ctx.stream,
                self._mapped + 1,
            )
        return True

    def _give_up(self, exc: BaseException) -> None:
        reason = scrub(f"{type(exc).__name__}: {exc}", secret_values(self.ctx.connector.config))
        log.warning(
            "%s/%s: the mapping worker process failed (%s); mapping in this process instead",
            self.ctx.connection,
            self.ctx.stream,
            reason,
        )
        self.close()


def _build(
    cls: type[Connector],
    config: BaseModel,
    connection: str,
    default_region: str | None,
    stream: str,
) -> None:
    """In the worker: the connector, as the run builds it (see ``runner.build_connector``)."""
    global _worker
    _worker = (cls(config, connection=connection, default_region=default_region), stream)


def _is_ready() -> bool:
    return _worker is not None


def _map_customers(raws: list[RawRecord]) -> list[Mapped | Refusal]:
    """In the worker: each payload's customer as canonical JSON, or why it was refused."""
    assert _worker is not None
    connector, stream = _worker
    outcomes: list[Mapped | Refusal] = []
    for raw in raws:
        outcome = map_one(connector, stream, raw)
        outcomes.append(_sendable(outcome))
    return outcomes


def _sendable(outcome: SourceRecord | Refusal) -> Mapped | Refusal:
    """A customer as JSON (a model costs more to send than to map again); anything else as is."""
    if isinstance(outcome, SourceRecord) and isinstance(outcome.record, Customer):
        return as_customer_json(outcome)
    return outcome
