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


def enqueue(
    session: Session,
    *,
    stream: str,
    hub_ids: Iterable[str],
    targets: Sequence[str],
    origin: str | None,
    op: str = "upsert",
    payload: dict[str, str] | None = None,
) -> int:
    """Queue ``op`` of each record for each target that has none pending; return rows added."""
    ids = sorted(set(hub_ids))
    if not ids or not targets:
        return 0
    query = select(OUTBOX.c.connection, OUTBOX.c.hub_id).where(
        OUTBOX.c.status == "pending",
        OUTBOX.c.stream == stream,
        OUTBOX.c.op == op,
        OUTBOX.c.connection.in_(targets),
        OUTBOX.c.hub_id.in_(ids),
    )
    segment = (payload or {}).get("segment")
    if segment is not None:  # one pending row per person *and segment*: two audiences, two rows
        query = query.where(OUTBOX.c.payload["segment"].as_string() == segment)
    pending = {(connection, hub_id) for connection, hub_id in session.execute(query)}
    now = datetime.now(UTC)
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
        for hub_id in ids
        if (target, hub_id) not in pending
    ]
    if rows:
        session.execute(insert(OUTBOX), rows)
    return len(rows)
