"""Pulling one stream: pages in, records mapped, each page applied atomically.

The cursor a connector hands back with a page is stored in the same
transaction as that page's records, dead letters and counts. A crash before
the commit repeats the page (idempotently: links recognise what is already
there); a crash after it resumes at the next page. Nothing is lost or
applied twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlmodel import Session

from hub.connector import Page, RawRecord, SourceRecord
from hub.engine.apply import apply_records
from hub.engine.context import StreamContext
from hub.engine.erase import refuse_erased
from hub.errors import RecordError
from hub.redact import scrub, secret_values
from hub.store.tables import DeadLetter, SyncState

__all__ = [
    "count_page",
    "load_cursor",
    "map_page",
    "pull_stream",
    "retry_dead_letters",
    "stage_page",
]

log = logging.getLogger(__name__)

PageHook = Callable[[StreamContext, Page], None]


def load_cursor(session: Session, connection: str, stream: str) -> str | None:
    state = session.get(SyncState, (connection, stream))
    return state.cursor if state else None


async def pull_stream(
    ctx: StreamContext, *, full: bool = False, on_page: PageHook | None = None
) -> None:
    """Read ``ctx.stream`` from its saved cursor (from the start when ``full``)."""
    with ctx.store.session() as session:
        cursor = None if full else load_cursor(session, ctx.connection, ctx.stream)
    async for page in ctx.connector.read(ctx.stream, cursor):
        mapped, failed = map_page(ctx, page.records)
        await asyncio.to_thread(_commit_page, ctx, page, mapped, failed)
        if on_page is not None:
            on_page(ctx, page)


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


def map_page(
    ctx: StreamContext, raws: list[RawRecord]
) -> tuple[list[SourceRecord], list[DeadLetter]]:
    """Map each raw record; the ones that fail come back as dead letters, scrubbed."""
    mapped: list[SourceRecord] = []
    failed: list[DeadLetter] = []
    secrets = secret_values(ctx.connector.config)
    for raw in raws:
        try:
            mapped.append(ctx.connector.to_canonical(ctx.stream, raw))
        except (ValidationError, ValueError, RecordError) as exc:
            failed.append(
                DeadLetter(
                    connection=ctx.connection,
                    stream=ctx.stream,
                    external_id=getattr(exc, "external_id", None) or _guess_id(raw),
                    payload=scrub(raw, secrets),
                    error=scrub(_describe(exc), secrets),
                    reason="invalid",
                    run_id=ctx.run_id,
                )
            )
    return mapped, failed


def _commit_page(
    ctx: StreamContext, page: Page, mapped: list[SourceRecord], failed: list[DeadLetter]
) -> None:
    with ctx.store.session() as session:
        failed = stage_page(session, ctx, page, mapped, failed)
        session.commit()
    count_page(ctx, page, failed)


def stage_page(
    session: Session,
    ctx: StreamContext,
    page: Page,
    mapped: list[SourceRecord],
    failed: list[DeadLetter],
    *,
    move_cursor: bool = True,
) -> list[DeadLetter]:
    """Add a mapped page to ``session`` without committing; return every dead letter.

    Webhook pages pass ``move_cursor=False``: a delivery says nothing about
    where the stream's next pull should start.
    """
    mapped, erased = refuse_erased(
        session, mapped, connection=ctx.connection, stream=ctx.stream, run_id=ctx.run_id
    )
    failed = failed + erased
    apply_records(session, ctx, mapped)
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


def _describe(exc: Exception) -> str:
    """One line per problem, naming the field: what a person needs to fix the source."""
    if isinstance(exc, RecordError) and isinstance(exc.__cause__, ValidationError):
        exc = exc.__cause__
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'record'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
    return str(exc)


def _guess_id(raw: RawRecord) -> str | None:
    for key in ("external_id", "id", "ID", "Id"):
        if raw.get(key) not in (None, ""):
            return str(raw[key])
    return None
