"""Membership changes: written to segment_member and queued for the connections.

Outbox rows for stream ``segment_members`` name the segment (and its channel)
in their payload but carry no state: the push reads whether the customer is
a member when it runs, so a join and a leave queued before one push send
one up-to-date membership, never a stale one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlmodel import Session

from hub.engine.memberships import MEMBERSHIP_STREAM
from hub.model import Channel
from hub.store.tables import Outbox, SegmentMember, table_of

__all__ = ["CHUNK", "MEMBERSHIP_STREAM", "join", "leave", "queue_push"]

MEMBERS = table_of(SegmentMember)
OUTBOX = table_of(Outbox)
CHUNK = 5_000


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def join(session: Session, segment: str, hub_ids: Sequence[str], at: datetime) -> None:
    if hub_ids:
        session.execute(
            insert(MEMBERS), [{"segment": segment, "hub_id": h, "joined_at": at} for h in hub_ids]
        )


def leave(session: Session, segment: str, hub_ids: Sequence[str]) -> None:
    for chunk in _chunks(hub_ids):
        session.execute(
            delete(MEMBERS).where(MEMBERS.c.segment == segment, MEMBERS.c.hub_id.in_(chunk))
        )


def queue_push(
    session: Session,
    segment: str,
    channel: Channel | None,
    hub_ids: Sequence[str],
    targets: Sequence[str],
    at: datetime,
) -> int:
    """Queue the customers' membership of ``segment`` for each target without one pending."""
    if not hub_ids or not targets:
        return 0
    added = 0
    payload = {"segment": segment, "channel": channel.value if channel else None}
    for chunk in _chunks(hub_ids):
        pending = {
            (connection, hub_id)
            for connection, hub_id in session.execute(
                select(OUTBOX.c.connection, OUTBOX.c.hub_id).where(
                    OUTBOX.c.status == "pending",
                    OUTBOX.c.stream == MEMBERSHIP_STREAM,
                    OUTBOX.c.payload["segment"].as_string() == segment,
                    OUTBOX.c.hub_id.in_(chunk),
                )
            )
        }
        rows = [
            {
                "connection": target,
                "stream": MEMBERSHIP_STREAM,
                "hub_id": hub_id,
                "op": "upsert",
                "payload": payload,
                "origin": None,
                "status": "pending",
                "attempts": 0,
                "created_at": at,
            }
            for target in targets
            for hub_id in chunk
            if (target, hub_id) not in pending
        ]
        if rows:
            session.execute(insert(OUTBOX), rows)
        added += len(rows)
    return added
