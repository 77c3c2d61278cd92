"""Planning a push of segment memberships: one link per person and segment.

An outbox row of a stream that writes :class:`~hub.model.SegmentMembership`
names the segment (and its channel) in its payload. The connector renders the
membership as the remote stores it (``from_canonical``: a tag, Meta's hashed
row), and that rendering is what the per-segment link (object
``segment:<name>``) keeps, so the store never needs a remote's raw identifiers
and an unchanged membership is not sent again. A removal of someone the remote
never got sends nothing.

Results come back by hub id, so one batch carries at most one membership per
person; a second one waits for the next batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from hub.connector import Change
from hub.engine.context import StreamContext
from hub.engine.hashing import digest
from hub.model import Customer, SegmentMembership
from hub.store.tables import CustomerRow, Link, Outbox

__all__ = ["MembershipPlan", "live_links", "plan_memberships", "segment_object"]


@dataclass
class MembershipPlan:
    changes: list[Change] = field(default_factory=list)
    rendered: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, str] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    deferred: set[int] = field(default_factory=set)


def segment_object(segment: str) -> str:
    return f"segment:{segment}"


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
    objects = sorted({segment_object(str(row.payload["segment"])) for row in batch})
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
        membership = _membership(row.payload, Customer.model_validate(data))
        obj = segment_object(membership.segment)
        rendered = ctx.connector.from_canonical(ctx.stream, membership)
        link = links.get((obj, row.hub_id))
        if link is None and not membership.member:
            continue  # never added there: nothing to remove
        if link is not None and (digest(rendered) == link.pushed_hash or rendered == link.base):
            continue  # the remote holds this membership already
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


def _membership(payload: dict[str, Any], customer: Customer) -> SegmentMembership:
    return SegmentMembership(
        segment=payload["segment"],
        channel=payload.get("channel"),
        member=str(payload.get("member", "true")).lower() == "true",
        customer=customer,
    )
