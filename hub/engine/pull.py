"""Pulling one stream: pages in, records mapped, pages applied and committed atomically.

The cursor a connector hands back with a page is stored in the same
transaction as that page's records, dead letters and counts. One transaction
may cover several consecutive pages (:attr:`StreamContext.commit_records`);
it then stores the last one's cursor, which covers them all. A crash before
the commit repeats those pages (idempotently: links recognise what is
already there); a crash after it resumes at the next page. Nothing is lost
or applied twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from hub.connector import Page
from hub.engine.apply import apply_records
from hub.engine.context import StreamContext
from hub.engine.erase import refuse_erased
from hub.engine.gcbatch import fewer_collections
from hub.engine.mapped import Mapped, guess_id
from hub.engine.mapping import MappedPage, PageMapper, Todo, map_page
from hub.engine.rawskip import RawHasher, has_links, stored_hashes
from hub.store.tables import DeadLetter, SyncState

__all__ = [
    "count_page",
    "load_cursor",
    "pull_stream",
    "retry_dead_letters",
    "stage_page",
]

log = logging.getLogger(__name__)

PageHook = Callable[[StreamContext, Page], None]
Committed = list[tuple[Page, list[DeadLetter]]]
"""Pages a commit made durable, in order, each with its dead letters."""


def load_cursor(session: Session, connection: str, stream: str) -> str | None:
    state = session.get(SyncState, (connection, stream))
    return state.cursor if state else None


async def pull_stream(
    ctx: StreamContext, *, full: bool = False, on_page: PageHook | None = None
) -> None:
    """Read ``ctx.stream`` from its saved cursor (from the start when ``full``).

    Two pages are in hand at a time: while page k is applied in a worker
    thread (SQLite and the database driver release the GIL for much of it),
    page k+1 is read, compared with the stored payload hashes and mapped on
    the event loop. Pages are applied in order, one at a time, into one open
    transaction, committed with the cursor of its last page once
    ``ctx.commit_records`` records are in it, or as soon as the writer has
    nothing to do and the next page has not arrived: a slow vendor never
    keeps a write transaction open. ``on_page`` runs once a page is committed.
    """
    with ctx.store.session() as session:
        cursor = None if full else load_cursor(session, ctx.connection, ctx.stream)
    with fewer_collections():
        await _pull_pages(ctx, cursor, on_page)


async def _pull_pages(ctx: StreamContext, cursor: str | None, on_page: PageHook | None) -> None:
    hasher = RawHasher(ctx.connector, ctx.stream)
    compare = hasher.enabled and has_links(ctx.store, ctx.connection)
    pipeline = _Pipeline(ctx, on_page)
    pages: AsyncIterator[Page] = aiter(ctx.connector.read(ctx.stream, cursor))
    fetch: asyncio.Future[Page | None] | None = None
    try:
        async with PageMapper(ctx) as mapper:
            while True:
                fetch = asyncio.ensure_future(anext(pages, None))
                await pipeline.commit_if_idle(fetch)
                page = await fetch
                if page is None:
                    break
                todo = _unseen(ctx, hasher, page, pipeline.busy, compare=compare)
                mapped = await mapper.map(page, todo)
                await pipeline.settle()
                ctx.counts["unchanged"] += len(page.records) - len(todo)  # the writer is idle
                pipeline.stage(mapped)
    except BaseException:
        if fetch is not None and not fetch.done():
            fetch.cancel()
        await pipeline.finish(quiet=True)  # commit the pages staged before the failure
        raise
    await pipeline.finish()


class _Writer:
    """The open transaction of a pull; used by one worker thread at a time.

    Pages are staged into it in order; once they hold ``ctx.commit_records``
    records, or when :meth:`commit` is called, they are made durable
    together. A failure while staging rolls back every page staged since the
    last commit: none of them was reported, and the cursor still points
    before them.
    """

    def __init__(self, ctx: StreamContext) -> None:
        self.ctx = ctx
        self.staged: Committed = []
        self._session: Session | None = None
        self._scope = ExitStack()

    def stage(self, mapped: MappedPage) -> Committed:
        """Apply one page; return the pages committed with it (none while the group fills)."""
        if self._session is None:
            self._session = self._scope.enter_context(self.ctx.store.session())
        page = mapped.page
        try:
            letters = stage_page(
                self._session,
                self.ctx,
                page,
                mapped.records,
                mapped.failed,
                raw_hashes=mapped.raw_hashes,
            )
        except BaseException:
            self._close()
            raise
        self.staged.append((page, letters))
        if sum(len(done.records) for done, _ in self.staged) < self.ctx.commit_records:
            return []
        return self.commit()

    def commit(self) -> Committed:
        """Commit the staged pages (their last cursor with them) and return them."""
        committed = self.staged
        try:
            if self._session is not None:
                self._session.commit()
        finally:
            self._close()
        return committed

    def _close(self) -> None:
        """End the transaction; what was not committed is rolled back."""
        self.staged, self._session = [], None
        self._scope.close()


class _Pipeline:
    """The event loop's side of the writer: one task in a worker thread at a time.

    ``busy`` holds the vendor ids of every page handed to the writer and not
    yet committed: their links are about to change, so their stored payload
    hashes say nothing yet.
    """

    def __init__(self, ctx: StreamContext, on_page: PageHook | None) -> None:
        self.ctx, self.on_page = ctx, on_page
        self.writer = _Writer(ctx)
        self.busy: set[str | None] = set()
        self._task: asyncio.Task[Committed] | None = None

    def stage(self, mapped: MappedPage) -> None:
        """Hand a page to the writer; it commits with it once enough records are staged."""
        assert self._task is None, "settle() the writer's task first"
        self.busy.update(guess_id(raw) for raw in mapped.page.records)
        self._task = asyncio.create_task(asyncio.to_thread(self.writer.stage, mapped))

    async def commit_if_idle(self, fetch: asyncio.Future[Page | None]) -> None:
        """Commit what is staged if the writer finishes before the next page is there."""
        if self._task is None:
            return
        either: list[asyncio.Future[Any]] = [fetch, self._task]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if fetch.done() or not self._task.done():
            return
        await self.settle()
        self._commit_staged()

    async def settle(self, *, quiet: bool = False) -> None:
        """Wait for the writer's task; count and report the pages it committed.

        A task that failed raises here, unless ``quiet`` (another error is
        already on its way out). Every committed page is reported, even after
        an ``on_page`` call raised (the first such error is raised after), so
        a caller that follows pages through ``on_page`` never misses one the
        store holds.
        """
        task, self._task = self._task, None
        if task is None:
            return
        await asyncio.wait([task])
        if quiet and (task.cancelled() or task.exception() is not None):
            return
        committed = task.result()
        if committed:
            self.busy.clear()
        error: BaseException | None = None
        for page, failed in committed:
            count_page(self.ctx, page, failed)
            if self.on_page is not None:
                try:
                    self.on_page(self.ctx, page)
                except BaseException as exc:  # raised once all are reported
                    error = error or exc
        if error is not None:
            raise error

    async def finish(self, *, quiet: bool = False) -> None:
        """Wait for the writer and commit what it still holds."""
        await self.settle(quiet=quiet)
        self._commit_staged()
        await self.settle(quiet=quiet)

    def _commit_staged(self) -> None:
        """Start committing the pages the writer holds, if it holds any (the writer is idle)."""
        if self.writer.staged:
            self._task = asyncio.create_task(asyncio.to_thread(self.writer.commit))


def _unseen(
    ctx: StreamContext,
    hasher: RawHasher,
    page: Page,
    busy: Collection[str | None],
    *,
    compare: bool,
) -> Todo:
    """The page's records that must be mapped, each with its guessed id and payload hash.

    A record is left out when its payload hash equals the one its link holds.
    ``busy`` ids (of the pages staged and not yet committed) are compared
    with nothing: their links are about to change. A page that repeats an id
    compares each version with the one before it, as the links would.
    Without ``compare`` (the connection had no links when the pull began)
    every record is mapped and its hash only taken, for its link to keep.
    """
    if not hasher.enabled:
        return [(raw, None, None) for raw in page.records]
    keyed: Todo = [(raw, guess_id(raw), hasher.digest(raw)) for raw in page.records]
    if not compare:
        return keyed
    current: dict[str | None, str] = {}
    current.update(
        stored_hashes(
            ctx.store, ctx.connection, (key for _, key, _ in keyed if key and key not in busy)
        )
    )
    todo: Todo = []
    for raw, key, digest in keyed:
        if key is None or current.get(key) != digest:
            todo.append((raw, key, digest))
        if digest is not None:
            current[key] = digest
    return todo


async def retry_dead_letters(ctx: StreamContext, letters: list[DeadLetter]) -> int:
    """Run stored payloads through the current mapping and engine again.

    After a mapping or config fix, the records need not be re-read from the
    vendor. A letter that now passes is marked resolved; one that still fails
    stays open with the new error. Returns how many passed.
    """
    mapped, failed = map_page(ctx, [letter.payload for letter in letters])
    errors = {letter.external_id: letter.error for letter in failed}

    def commit() -> None:
        with ctx.store.session() as session:
            apply_records(session, ctx, mapped)
            for letter in letters:
                stored = session.get_one(DeadLetter, letter.id)
                if stored.external_id in errors:
                    stored.error = errors[stored.external_id]
                else:
                    stored.status = "resolved"
                session.add(stored)
            session.commit()

    await asyncio.to_thread(commit)
    return len(mapped)


def stage_page(
    session: Session,
    ctx: StreamContext,
    page: Page,
    mapped: Sequence[Mapped],
    failed: list[DeadLetter],
    *,
    move_cursor: bool = True,
    raw_hashes: Mapping[str, str | None] | None = None,
) -> list[DeadLetter]:
    """Add a mapped page to ``session`` without committing; return every dead letter.

    Webhook pages pass ``move_cursor=False``: a delivery says nothing about
    where the stream's next pull should start. ``raw_hashes`` are the payload
    hashes by vendor id that the links of applied customers keep
    (:mod:`hub.engine.rawskip`); without them the links forget theirs.
    """
    mapped, erased = refuse_erased(
        session, mapped, connection=ctx.connection, stream=ctx.stream, run_id=ctx.run_id
    )
    failed = failed + erased
    apply_records(session, ctx, mapped, raw_hashes=raw_hashes)
    session.add_all(failed)
    if move_cursor:
        state = session.get(SyncState, (ctx.connection, ctx.stream)) or SyncState(
            connection=ctx.connection, stream=ctx.stream
        )
        state.cursor = page.cursor
        state.updated_at = datetime.now(UTC)
        session.add(state)
    return failed


def count_page(ctx: StreamContext, page: Page, failed: list[DeadLetter]) -> None:
    """Once the page is committed: its counts, and a warning per dead letter."""
    ctx.counts["read"] += len(page.records)
    ctx.counts["dead_letters"] += len(failed)
    for letter in failed:
        log.warning(
            "%s/%s id=%s: %s; the record is in dead letters",
            ctx.connection,
            ctx.stream,
            letter.external_id,
            letter.error,
        )
