"""Membership changes: written to segment_member and queued for the connections.

Outbox rows for stream ``segment_members`` name the segment (and its channel)
in their payload but carry no state: the push reads whether the customer is
a member when it runs, so a join and a leave queued before one push send
one up-to-date membership, never a stale one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, insert
from sqlmodel import Session

from hub.engine.memberships import MEMBERSHIP_STREAM
from hub.engine.outbox import CHUNK, enqueue
from hub.model import Channel
from hub.store.tables import SegmentMember, table_of

__all__ = ["MEMBERSHIP_STREAM", "join", "leave", "queue_push"]

MEMBERS = table_of(SegmentMember)


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
) -> int:
    """Queue the customers' membership of ``segment`` for each target without one pending."""
    payload = {"segment": segment, "channel": channel.value if channel else None}
    return enqueue(
        session,
        stream=MEMBERSHIP_STREAM,
        hub_ids=hub_ids,
        targets=targets,
        origin=None,
        payload=payload,
    )
