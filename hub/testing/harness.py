"""Driving a connector the way production does, and recording what each run read.

Pulls go through :func:`hub.engine.pull.pull_stream` over a real store, so the
kit checks resuming and dead letters where they happen, not in a copy of the
engine. Every run and every write gets a fresh connector, as a new process
would: a connector that only works because it remembers something in memory
fails here.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlmodel import col, select

from hub.connector import Change, Connector, Page, SourceRecord, WriteResult
from hub.engine.context import StreamContext
from hub.engine.pull import load_cursor, pull_stream
from hub.errors import CrmhubError, RecordError
from hub.redact import secret_values
from hub.store.database import Store
from hub.store.tables import DeadLetter

__all__ = ["Harness", "PullResult", "read_everything"]


@dataclass
class PullResult:
    """What one run did: the engine's counts, the ids it read in order, how it ended."""

    counts: Counter[str]
    ids: list[str] = field(default_factory=list)
    pages: int = 0
    stopped: bool = False
    error: CrmhubError | None = None
    secrets: list[str] = field(default_factory=list)


class _Stop(Exception):
    """Ends a run after a committed page, as a crash would."""


class Harness:
    """One connection's store plus a way to build its connector afresh."""

    def __init__(self, store: Store, connect: Callable[[], Connector]) -> None:
        self.store = store
        self.connect = connect
        self.connection: str | None = None
        """The connection name, known once a connector has been built."""
        self._runs = itertools.count(1)

    async def pull(self, stream: str, *, stop_after: int | None = None) -> PullResult:
        """One run from the saved cursor; ``stop_after`` pages ends it like a crash.

        A crmhub error (auth, retries exhausted) is kept in the result, as the
        runner keeps it on the run; anything else is a bug and propagates.
        """
        connector = self.connect()
        self.connection = connector.connection
        ctx = StreamContext(self.store, connector, stream, run_id=next(self._runs))
        if stop_after is not None:  # the crash falls right after page k, not after its group
            ctx.commit_records = 1
        result = PullResult(ctx.counts, secrets=secret_values(connector.config))

        def on_page(_: StreamContext, page: Page) -> None:
            result.pages += 1
            result.ids.extend(_ids(connector, stream, page))
            if stop_after is not None and result.pages >= stop_after:
                raise _Stop

        try:
            await pull_stream(ctx, on_page=on_page)
        except _Stop:
            result.stopped = True
        except CrmhubError as exc:
            result.error = exc
        finally:
            await connector.aclose()
        return result

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        connector = self.connect()
        try:
            return await connector.write(stream, changes)
        finally:
            await connector.aclose()

    async def read_back(self, stream: str) -> dict[str, SourceRecord]:
        connector = self.connect()
        try:
            return await read_everything(connector, stream)
        finally:
            await connector.aclose()

    async def fields_held(self, stream: str) -> frozenset[str] | None:
        """The canonical fields the connection keeps for ``stream`` (None: all)."""
        connector = self.connect()
        try:
            return connector.fields_held(stream)
        finally:
            await connector.aclose()

    async def held_view(self, stream: str, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` as the connection can hold it (its connector's ``held_view``)."""
        connector = self.connect()
        try:
            return connector.held_view(stream, data)
        finally:
            await connector.aclose()

    def cursor(self, stream: str) -> str | None:
        """The cursor the last run saved for ``stream``."""
        assert self.connection is not None, "pull before asking for a cursor"
        with self.store.session() as session:
            return load_cursor(session, self.connection, stream)

    def dead_letters(self, stream: str) -> list[DeadLetter]:
        with self.store.session() as session:
            query = select(DeadLetter).where(DeadLetter.stream == stream)
            return list(session.exec(query.order_by(col(DeadLetter.id))))


async def read_everything(connector: Connector, stream: str) -> dict[str, SourceRecord]:
    """Every record the vendor holds now, mapped, by external id (deleted ones left out)."""
    found: dict[str, SourceRecord] = {}
    async for page in connector.read(stream, None):
        for raw in page.records:
            record = connector.to_canonical(stream, raw)
            found[record.external_id] = record
        for gone in page.deleted:
            found.pop(gone, None)
    return found


def _ids(connector: Connector, stream: str, page: Page) -> list[str]:
    """The ids of a page's records that map; the others are in dead letters."""
    ids = []
    for raw in page.records:
        try:
            ids.append(connector.to_canonical(stream, raw).external_id)
        except (ValidationError, ValueError, RecordError):
            continue
    return ids
