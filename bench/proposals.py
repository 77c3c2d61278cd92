"""Engine changes proposed outside the engine's own modules, measurable before they land.

``python -m bench.pull --proposals`` runs the benchmark with these in place of
the shipped code, so docs/performance.md can give figures for both. Each
function is what the named module would contain; once merged there, this file
goes away.

- :func:`use_fast_paths`: hub/normalize.py tries :mod:`hub.engine.fastpath`
  before email-validator and phonenumbers.
- :func:`pull_stream`: hub/engine/pull.py skips records whose raw vendor
  payload is byte-for-byte what the link saw last time *before* mapping them
  (the costly part of a re-read), and overlaps a page's mapping with the
  previous page's commit. The raw hash needs a ``link.raw_hash`` column; here
  it is added to the benchmark's database directly.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session

import hub.model
import hub.normalize
from hub.connector import Page, RawRecord, SourceRecord
from hub.engine.apply import apply_records
from hub.engine.context import StreamContext
from hub.engine.erase import refuse_erased
from hub.engine.fastpath import fast_email, fast_phone
from hub.engine.pull import _guess_id, _map_page, load_cursor
from hub.store.database import Store
from hub.store.tables import DeadLetter, Link, SyncState, table_of

LINK = table_of(Link)


def use_fast_paths() -> None:
    """Equivalent to this in hub/normalize.py::

    def normalize_email(value):          # (inside the lru_cache, as now)
        if (fast := fast_email(value)) is not None:
            return fast
        ...email-validator as now

    def normalize_phone(value, default_region=None):
        if (fast := fast_phone(value)) is not None:
            return fast
        ...phonenumbers as now
    """
    normalize, model = vars(hub.normalize), vars(hub.model)  # patched where they are looked up
    library_validate, library_phone = normalize["validate_email"], model["normalize_phone"]

    class _Checked:
        def __init__(self, normalized: str) -> None:
            self.normalized = normalized

    def validate_email(text: str, **options: Any) -> Any:
        fast = fast_email(text)
        return _Checked(fast) if fast is not None else library_validate(text, **options)

    def normalize_phone(value: str, default_region: str | None = None) -> str:
        return fast_phone(value) or str(library_phone(value, default_region))

    normalize["validate_email"], model["normalize_phone"] = validate_email, normalize_phone


def add_raw_hash_column(store: Store) -> None:
    """What migration 0003 would do: ``link.raw_hash``, the hash of the vendor payload."""
    with store.engine.begin() as connection:
        connection.execute(text("ALTER TABLE link ADD COLUMN raw_hash VARCHAR(64)"))


def raw_hash(raw: RawRecord) -> str:
    """The vendor payload as received: ``repr`` of parsed JSON is deterministic (the
    vendor's key order, Python's float and string forms) and cheaper than re-encoding."""
    return hashlib.sha256(repr(raw).encode()).hexdigest()


async def pull_stream(ctx: StreamContext, *, full: bool = False) -> None:
    """pull.py's loop with the raw-hash skip and one commit in flight while mapping."""
    with ctx.store.session() as session:
        cursor = None if full else load_cursor(session, ctx.connection, ctx.stream)
    in_flight: asyncio.Task[None] | None = None
    in_flight_ids: set[str] = set()
    async for page in ctx.connector.read(ctx.stream, cursor):
        hashes = {_guess_id(raw) or "": raw_hash(raw) for raw in page.records}
        seen = _seen_hashes(ctx, list(hashes))
        changed = [
            raw
            for raw in page.records
            if (key := _guess_id(raw) or "") in in_flight_ids or seen.get(key) != hashes[key]
        ]
        ctx.counts["unchanged"] += len(page.records) - len(changed)
        ctx.counts["read"] += len(page.records) - len(changed)
        mapped, failed = _map_page(ctx, changed)  # runs while the previous page commits
        if in_flight is not None:
            await in_flight
        commit = _commit(ctx, page, changed, mapped, failed, hashes)
        in_flight = asyncio.create_task(asyncio.to_thread(commit))
        in_flight_ids = set(hashes)
    if in_flight is not None:
        await in_flight


def _seen_hashes(ctx: StreamContext, ids: list[str]) -> dict[str, str]:
    with ctx.store.session() as session:
        rows = session.execute(
            select(LINK.c.external_id, text("raw_hash")).where(
                LINK.c.connection == ctx.connection,
                LINK.c.object == "customer",
                LINK.c.external_id.in_(ids),
            )
        )
        return {external_id: digest for external_id, digest in rows if digest}


def _commit(
    ctx: StreamContext,
    page: Page,
    changed: list[RawRecord],
    mapped: list[SourceRecord],
    failed: list[DeadLetter],
    hashes: dict[str, str],
) -> Callable[[], None]:
    """pull.py's ``_commit_page``, plus the raw hashes of the mapped records."""

    def run() -> None:
        with ctx.store.session() as session:
            records, erased = refuse_erased(
                session, mapped, connection=ctx.connection, stream=ctx.stream, run_id=ctx.run_id
            )
            apply_records(session, ctx, records)
            _store_hashes(
                session, ctx, [(r.external_id, hashes.get(r.external_id)) for r in records]
            )
            session.add_all(failed + erased)
            state = session.get(SyncState, (ctx.connection, ctx.stream)) or SyncState(
                connection=ctx.connection, stream=ctx.stream
            )
            state.cursor, state.updated_at = page.cursor, datetime.now(UTC)
            session.add(state)
            session.commit()
        ctx.counts["read"] += len(changed)
        ctx.counts["dead_letters"] += len(failed) + len(erased)

    return run


_SET_HASH = text(
    "UPDATE link SET raw_hash = :digest "
    "WHERE connection = :connection AND object = 'customer' AND external_id = :external_id"
)


def _store_hashes(
    session: Session, ctx: StreamContext, pairs: list[tuple[str, str | None]]
) -> None:
    if pairs:
        session.execute(
            _SET_HASH,
            [{"digest": h, "connection": ctx.connection, "external_id": e} for e, h in pairs],
        )
