"""Queuing changes for the connections that subscribe to them.

An outbox row is written in the same transaction as the change it announces,
so a change can never be committed without its push, nor a push queued for a
change that rolled back. Rows carry no data: the push reads the record as it
is when it runs, so ten changes to one customer before a push cost one write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlmodel import Session

from hub.store.tables import Outbox, table_of

__all__ = ["enqueue"]

OUTBOX = table_of(Outbox)
CHUNK = 5_000


def enqueue(
    session: Session,
    *,
    stream: str,
    hub_ids: Iterable[str],
    targets: Sequence[str],
    origin: str | None,
    op: str = "upsert",
    payload: dict[str, str | None] | None = None,
) -> int:
    """Queue ``op`` of each record for each target that has none pending; return rows added.

    A payload naming a segment keeps one pending row per person *and segment*,
    so a person joining two audiences gets two rows. Ids go in chunks, so a
    segment of half a million people stays under the database's bound-parameter
    limit.
    """
    ids = sorted(set(hub_ids))
    if not ids or not targets:
        return 0
    segment = (payload or {}).get("segment")
    now = datetime.now(UTC)
    added = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        query = select(OUTBOX.c.connection, OUTBOX.c.hub_id).where(
            OUTBOX.c.status == "pending",
            OUTBOX.c.stream == stream,
            OUTBOX.c.op == op,
            OUTBOX.c.connection.in_(targets),
            OUTBOX.c.hub_id.in_(chunk),
        )
        if segment is not None:
            query = query.where(OUTBOX.c.payload["segment"].as_string() == segment)
        pending = {(connection, hub_id) for connection, hub_id in session.execute(query)}
        rows = [
            {
                "connection": target,
                "stream": stream,
                "hub_id": hub_id,
                "op": op,
                "payload": payload or {},
                "origin": origin,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
            }
            for target in targets
            for hub_id in chunk
            if (target, hub_id) not in pending
        ]
        if rows:
            session.execute(insert(OUTBOX), rows)
        added += len(rows)
    return added
