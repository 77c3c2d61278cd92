"""Planning a push of segment memberships, with consent checked at the last moment.

An outbox row of stream ``segment_members`` names a segment and its channel;
whether the customer is in it is read from ``segment_member`` now, not when
the row was queued. A customer who is not subscribed to the segment's
channel is sent as a removal, never an addition, so withdrawn consent also
takes them out of an audience they were added to earlier.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from hub.connector import Change
from hub.engine.context import StreamContext
from hub.model import Channel, Customer, SegmentMembership
from hub.store.tables import CustomerRow, Outbox, SegmentMember

__all__ = ["MEMBERSHIP_STREAM", "opted_in", "plan_memberships"]

MEMBERSHIP_STREAM = "segment_members"


def opted_in(data: dict[str, Any], channel: str) -> bool:
    """Subscribed with a recorded time: the same bar the customer push sets for consent."""
    consent = (data.get("consents") or {}).get(channel) or {}
    return consent.get("status") == "subscribed" and bool(consent.get("recorded_at"))


def plan_memberships(ctx: StreamContext, batch: list[Outbox]) -> list[Change]:
    ids = list(dict.fromkeys(row.hub_id for row in batch))
    segments = {str(row.payload.get("segment")) for row in batch}
    with ctx.store.session() as session:
        customers = {
            row.hub_id: row.data
            for row in session.exec(select(CustomerRow).where(col(CustomerRow.hub_id).in_(ids)))
        }
        members = {
            (m.segment, m.hub_id)
            for m in session.exec(
                select(SegmentMember).where(
                    col(SegmentMember.hub_id).in_(ids), col(SegmentMember.segment).in_(segments)
                )
            )
        }
    changes: list[Change] = []
    planned: set[tuple[str, str]] = set()
    for row in batch:
        segment, channel = str(row.payload.get("segment")), row.payload.get("channel")
        data = customers.get(row.hub_id)
        if data is None or (segment, row.hub_id) in planned:
            continue  # erased or merged away since it was queued, or already planned
        planned.add((segment, row.hub_id))
        member = (segment, row.hub_id) in members and (channel is None or opted_in(data, channel))
        membership = SegmentMembership(
            segment=segment,
            channel=Channel(channel) if channel else None,
            member=member,
            customer=Customer.model_validate(data),
        )
        changes.append(Change(row.hub_id, membership))
    return changes
