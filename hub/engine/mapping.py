"""Mapping a pull's pages: here, or in a worker process once the pull proves big.

A record the connector cannot map (``ValueError``, a pydantic
``ValidationError``, a :class:`~hub.errors.RecordError`) becomes a dead
letter with its payload, secrets removed, and the rest of the page goes on.

Mapping a customer (the connector's ``to_canonical``: e-mail, phone and
country checks into the canonical model) costs about as much CPU as writing
it, and threads cannot share that work under the GIL. Past
:attr:`StreamContext.worker_after` mapped records, a pull of customers from a
connector whose mapping is pure (:attr:`Connector.pure_mapping`) starts one
worker process (:mod:`hub.engine.mapworker`) with its own copy of the
connector, built from the same settings, and from then on sends it each
page's payloads while the writer thread applies the page before. The worker
sends back each customer as its canonical JSON, which the writer reads anyway.

Small pulls never pay for the process: incremental pulls and re-reads that
skip unchanged payloads mostly stay under the threshold. Until the worker has
started (its imports take a second), pages are mapped here. A worker that
cannot start or fails is reported once, and its page and the rest are mapped
here. The pages still reach the writer one at a time and in order, so
checkpoints, crash safety and page-boundary independence are the same either
way.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub.connector import Page, RawRecord, SourceRecord
from hub.engine.context import StreamContext
from hub.engine.mapped import Mapped, Refusal, map_one
from hub.engine.mapworker import HEADER, READY, frame
from hub.model import Customer
from hub.redact import scrub, secret_values
from hub.store.tables import DeadLetter

__all__ = ["MappedPage", "PageMapper", "Todo", "map_here", "map_page", "mapped_page"]

log = logging.getLogger(__name__)

Todo = list[tuple[RawRecord, str | None, str | None]]
"""A page's records to map, each with its guessed vendor id and its payload hash."""


@dataclass(frozen=True, slots=True)
class MappedPage:
    """A page as the writer takes it: its records mapped, those that failed, payload hashes.

    ``raw_hashes`` are the payload hashes by vendor id that the links of
    applied customers keep (:mod:`hub.engine.rawskip`).
    """

    page: Page
    records: list[Mapped]
    failed: list[DeadLetter]
    raw_hashes: Mapping[str, str | None]


def mapped_page(
    ctx: StreamContext, page: Page, todo: Todo, outcomes: Sequence[Mapped | Refusal]
) -> MappedPage:
    """The page of ``todo``'s outcomes, in order, plus the payload hash each applied link keeps.

    A hash is kept only for a record whose mapped id is the id it was found
    by; the link of any other record keeps none.
    """
    mapped: list[Mapped] = []
    failed: list[DeadLetter] = []
    hashes: dict[str, str | None] = {}
    secrets = secret_values(ctx.connector.config)
    for (raw, key, digest), outcome in zip(todo, outcomes, strict=True):
        if isinstance(outcome, Refusal):
            failed.append(_dead_letter(ctx, raw, outcome, secrets))
            continue
        mapped.append(outcome)
        hashes[outcome.external_id] = digest if outcome.external_id == key else None
    return MappedPage(page, mapped, failed, hashes)


def map_here(ctx: StreamContext, page: Page, todo: Todo) -> MappedPage:
    """:func:`mapped_page` of ``todo`` mapped in this process."""
    outcomes = [map_one(ctx.connector, ctx.stream, raw) for raw, _, _ in todo]
    return mapped_page(ctx, page, todo, outcomes)


def map_page(
    ctx: StreamContext, raws: list[RawRecord]
) -> tuple[list[SourceRecord], list[DeadLetter]]:
    """Map each raw record; the ones that fail come back as dead letters, scrubbed."""
    mapped: list[SourceRecord] = []
    failed: list[DeadLetter] = []
    secrets = secret_values(ctx.connector.config)
    for raw in raws:
        outcome = map_one(ctx.connector, ctx.stream, raw)
        if isinstance(outcome, Refusal):
            failed.append(_dead_letter(ctx, raw, outcome, secrets))
        else:
            mapped.append(outcome)
    return mapped, failed


def _dead_letter(
    ctx: StreamContext, raw: RawRecord, refusal: Refusal, secrets: Collection[str]
) -> DeadLetter:
    return DeadLetter(
        connection=ctx.connection,
        stream=ctx.stream,
        external_id=refusal.external_id,
        payload=scrub(raw, secrets),
        error=scrub(refusal.error, secrets),
        reason="invalid",
        run_id=ctx.run_id,
    )


class PageMapper:
    """Maps one pull's pages: in this process, or in a worker once the pull proves big.

    Use as an async context manager; leaving it ends the worker.
    """

    def __init__(self, ctx: StreamContext) -> None:
        self.ctx = ctx
        connector = ctx.connector
        eligible = connector.pure_mapping and connector.reads.get(ctx.stream) is Customer
        self._left = ctx.worker_after if eligible else None  # records to map before starting
        self._mapped = 0  # records mapped so far, here or there
        self._worker: asyncio.subprocess.Process | None = None
        self._started: asyncio.Task[None] | None = None
        self._up = False  # the worker has started and maps the pages

    async def __aenter__(self) -> PageMapper:
        if self._left == 0:
            await self._start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stop()

    async def map(self, page: Page, todo: Todo) -> MappedPage:
        """``todo`` mapped: by the worker when it is up (the first page waits for it to be,
        with ``worker_after`` 0), else here."""
        if await self._ready():
            try:
                outcomes = await self._ask(frame([raw for raw, _, _ in todo]))
            except Exception as exc:  # the worker ended; the page is mapped here below
                await self._give_up(exc)
            else:
                self._mapped += len(todo)
                return mapped_page(self.ctx, page, todo, outcomes)
        mapped = map_here(self.ctx, page, todo)
        self._mapped += len(todo)
        if self._left is not None:
            self._left -= len(todo)
            if self._left <= 0:
                await self._start()
        return mapped

    async def _start(self) -> None:
        self._left = None
        connector = self.ctx.connector
        spec = (
            type(connector),
            connector.config,
            connector.connection,
            connector.default_region,
            self.ctx.stream,
        )
        try:
            hello = frame(spec)
        except Exception as exc:  # a class or settings pickle cannot send by name
            await self._give_up(exc)
            return
        try:
            self._worker = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "hub.engine.mapworker",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},  # what we import
            )
        except OSError as exc:  # no process to be had (limits, an odd embedding)
            await self._give_up(exc)
            return
        self._started = asyncio.create_task(self._hello(hello))

    async def _hello(self, hello: bytes) -> None:
        answer = await self._ask(hello)
        if answer != READY:
            raise RuntimeError(f"the worker could not build the connector: {answer}")

    async def _ready(self) -> bool:
        """Whether the worker maps this page; the first page waits for it to start."""
        if self._up:
            return True
        started = self._started
        if started is None or (self._mapped and not started.done()):
            return False
        try:
            await started
        except Exception as exc:
            await self._give_up(exc)
            return False
        self._up = True
        log.info(
            "%s/%s: mapping in a worker process from record %d on",
            self.ctx.connection,
            self.ctx.stream,
            self._mapped + 1,
        )
        return True

    async def _ask(self, request: bytes) -> Any:
        """Send the worker one frame; its answer."""
        worker = self._worker
        assert worker is not None and worker.stdin is not None and worker.stdout is not None
        worker.stdin.write(request)
        await worker.stdin.drain()
        return await _answer(worker.stdout)

    async def _give_up(self, exc: BaseException) -> None:
        reason = scrub(f"{type(exc).__name__}: {exc}", secret_values(self.ctx.connector.config))
        log.warning(
            "%s/%s: the mapping worker process failed (%s); mapping in this process instead",
            self.ctx.connection,
            self.ctx.stream,
            reason,
        )
        await self._stop()

    async def _stop(self) -> None:
        """End the worker: its input closes, and it exits after any page it is mapping."""
        worker, started = self._worker, self._started
        self._worker, self._started, self._up = None, None, False
        if started is not None and not started.done():
            started.cancel()
        elif started is not None and not started.cancelled():
            started.exception()  # taken, so it is not reported again as never retrieved
        if worker is None:
            return
        assert worker.stdin is not None and worker.stdout is not None
        worker.stdin.close()
        try:
            cpu, peak = await asyncio.wait_for(_answer(worker.stdout), timeout=10)
        except (asyncio.IncompleteReadError, TimeoutError, ValueError):
            pass  # it failed (and that was reported) or had not finished starting
        else:
            log.info(
                "%s/%s: the mapping worker used %.1f s of CPU, peak RSS %.0f MB",
                self.ctx.connection,
                self.ctx.stream,
                cpu,
                peak,
                extra={"worker_cpu_seconds": cpu, "worker_peak_rss_mb": peak},
            )
        try:
            await asyncio.wait_for(worker.wait(), timeout=10)
        except TimeoutError:
            worker.kill()
            await worker.wait()


async def _answer(stream: asyncio.StreamReader) -> Any:
    """The value of the worker's next frame."""
    size = HEADER.unpack(await stream.readexactly(HEADER.size))[0]
    return pickle.loads(await stream.readexactly(size))
