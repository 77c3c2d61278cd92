"""Planning a push of segment memberships: one link per person and segment.

An outbox row of a stream that writes :class:`~hub.model.SegmentMembership`
names the segment (and its channel) in its payload but carries no state:
whether the customer is a member is read from ``segment_member`` when the push
runs, and a customer who is not subscribed (with a recorded time) to the
segment's channel is sent as a removal, never an addition, so withdrawn consent
also takes them out of an audience they joined earlier. The membership names
the person's own record in the connection (``customer_ref``, from the
customer link the customer push would update) for a CRM that relates lists
to records by id. The connector renders the membership as the remote stores
it (``from_canonical``: a tag, Meta's hashed row), and that rendering is what
the per-segment link (object ``segment:<name>``) keeps, so the store never
needs a remote's raw identifiers and an unchanged membership is not sent
again. A removal of someone the remote never got sends nothing.

Results come back by hub id, so one batch carries at most one membership per
person; a second one waits for the next batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from hub.connector import Change
from hub.engine.context import StreamContext
from hub.model import Channel, Customer, SegmentMembership
from hub.store.tables import CustomerRow, Link, Outbox, SegmentMember

__all__ = [
    "MEMBERSHIP_STREAM",
    "MembershipPlan",
    "live_links",
    "opted_in",
    "plan_memberships",
    "segment_object",
]

MEMBERSHIP_STREAM = "segment_members"


@dataclass
class MembershipPlan:
    changes: list[Change] = field(default_factory=list)
    rendered: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, str] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    deferred: set[int] = field(default_factory=set)


def segment_object(segment: str) -> str:
    return f"segment:{segment}"


def opted_in(data: dict[str, Any], channel: str) -> bool:
    """Subscribed with a recorded time: the same bar the customer push sets for consent."""
    consent = (data.get("consents") or {}).get(channel) or {}
    return consent.get("status") == "subscribed" and bool(consent.get("recorded_at"))


def live_links(session: Session, connection: str, hub_ids: list[str], obj: str) -> list[Link]:
    return list(
        session.exec(
            select(Link).where(
                Link.connection == connection,
                Link.object == obj,
                col(Link.hub_id).in_(hub_ids),
                col(Link.deleted).is_(False),
            )
        )
    )


def plan_memberships(ctx: StreamContext, batch: list[Outbox]) -> MembershipPlan:
    ids = list(dict.fromkeys(row.hub_id for row in batch))
    segments = sorted({str(row.payload["segment"]) for row in batch})
    objects = [segment_object(segment) for segment in segments]
    with ctx.store.session() as session:
        customers = {
            row.hub_id: row.data
            for row in session.exec(select(CustomerRow).where(col(CustomerRow.hub_id).in_(ids)))
        }
        links = {
            (link.object, link.hub_id): link
            for obj in objects
            for link in live_links(session, ctx.connection, ids, obj)
        }
        refs = {
            link.hub_id: link.external_id
            for link in live_links(session, ctx.connection, ids, "customer")
            if ctx.connector.writes_to(ctx.stream, link.external_id)
        }
        members = {
            (m.segment, m.hub_id)
            for m in session.exec(
                select(SegmentMember).where(
                    col(SegmentMember.hub_id).in_(ids), col(SegmentMember.segment).in_(segments)
                )
            )
        }
    plan = MembershipPlan()
    for row in batch:
        if row.hub_id in plan.objects:
            if row.id is not None:
                plan.deferred.add(row.id)
            continue
        if row.op == "delete":
            _plan_delete(ctx, row, plan)
            continue
        data = customers.get(row.hub_id)
        if data is None:
            continue  # merged away since it was queued
        segment, channel = str(row.payload["segment"]), row.payload.get("channel")
        membership = SegmentMembership(
            segment=segment,
            channel=Channel(channel) if channel else None,
            member=(segment, row.hub_id) in members
            and (channel is None or opted_in(data, channel)),
            customer=Customer.model_validate(data),
            customer_ref=refs.get(row.hub_id),
        )
        obj = segment_object(membership.segment)
        rendered = ctx.connector.from_canonical(ctx.stream, membership)
        link = links.get((obj, row.hub_id))
        if link is None and not membership.member:
            continue  # never added there: nothing to remove
        if link is not None and rendered == link.base:
            continue  # the remote holds this membership already (an older hash is no evidence)
        plan.objects[row.hub_id] = obj
        plan.rendered[row.hub_id] = rendered
        plan.changes.append(
            Change(row.hub_id, membership, external_id=link.external_id if link else None)
        )
    return plan


def _plan_delete(ctx: StreamContext, row: Outbox, plan: MembershipPlan) -> None:
    """An erasure: the remote drops the person by the link's id; the hub knows no more."""
    if ctx.stream not in ctx.connector.deletes:
        return
    segment = str(row.payload["segment"])
    plan.objects[row.hub_id] = segment_object(segment)
    plan.rendered[row.hub_id] = {}
    plan.deleted.add(row.hub_id)
    gone = SegmentMembership(segment=segment, member=False, customer=Customer())
    plan.changes.append(
        Change(row.hub_id, gone, external_id=row.payload.get("external_id"), op="delete")
    )
