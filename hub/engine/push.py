"""Draining the outbox: the hub's changes out to one connection, idempotently.

Three rules keep pushes from looping or doing needless work:

- the record is projected onto the fields the connection holds, without
  volatile metadata, and compared with what the remote last held (the link's
  base: what it last gave us, or what we last wrote there): equal means
  nothing to write. A hash of an older write is no evidence: the remote may
  have changed since, and the hub may have changed back;
- a write is an upsert keyed by the remote id from the link table (or the
  vendor's natural key when the hub does not know one yet), so a batch retried
  after a crash creates nothing twice;
- after a write, the link's base is what was written (and ``pushed_hash`` its
  hash), so the same values read back on the next pull are recognised as our
  own echo; ``shadow`` keeps the hub's view of the record at that moment.

Consent only flows from recorded consent: a subscription without a recorded
time is never pushed, and a subscription the hub held when a connection was
first pushed to never reaches it (see :func:`_consent_safe`).

Streams that write :class:`~hub.model.SegmentMembership` (a tag, an ads
audience) are planned by :mod:`hub.engine.memberships`; their links are per
segment (object ``segment:<name>``) and keep the connector's own rendering.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, select

from hub.connector import Change, Connector, WriteResult
from hub.engine.context import StreamContext, View
from hub.engine.hashing import digest
from hub.engine.held import held_fields, keep_remote
from hub.engine.initial import adopt, differences, report
from hub.engine.memberships import live_links, plan_memberships
from hub.errors import RetriableError
from hub.model import Customer, SegmentMembership
from hub.redact import scrub, secret_values
from hub.store.tables import Conflict, CustomerRow, DeadLetter, Link, Outbox, SyncState, table_of

__all__ = ["VOLATILE_FIELDS", "PlannedWrite", "project", "push_stream", "push_view", "pushable"]

VOLATILE_FIELDS = frozenset({"hub_id", "created_at", "updated_at"})
OUTBOX = table_of(Outbox)
LINK = table_of(Link)
CUSTOMER = table_of(CustomerRow)
BatchHook = Callable[[StreamContext, int], None]


@dataclass(frozen=True)
class PlannedWrite:
    hub_id: str
    external_id: str | None
    op: str
    record: dict[str, Any]


@dataclass
class _Plan:
    changes: list[Change] = field(default_factory=list)
    projected: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)  # the hub's view, per record
    withheld: dict[int, dict[str, Any]] = field(default_factory=dict)  # link id -> shadow
    differences: dict[str, dict[str, Any]] = field(default_factory=dict)  # first push only
    objects: dict[str, str] = field(default_factory=dict)  # hub id -> link object, if not customer
    deferred: set[int] = field(default_factory=set)  # outbox rows left for the next batch


def project(data: dict[str, Any], held: frozenset[str] | None) -> dict[str, Any]:
    """The part of a canonical record a connection stores, without volatile metadata.

    ``held`` names top-level fields, or ``field.key`` for some keys of an
    object field (a tool that shows one of the hub's recommendations, not all).
    """
    if held is None:
        return {key: value for key, value in data.items() if key not in VOLATILE_FIELDS}
    parts: dict[str, set[str]] = {}
    for path in held:
        head, _, key = path.partition(".")
        if key:
            parts.setdefault(head, set()).add(key)
    view: dict[str, Any] = {}
    for key, value in data.items():
        if key in VOLATILE_FIELDS:
            continue
        if key in held:
            view[key] = value
        elif key in parts and isinstance(value, dict):
            kept = {name: item for name, item in value.items() if name in parts[key]}
            if kept:
                view[key] = kept
    return view


def pushable(data: dict[str, Any]) -> dict[str, Any]:
    """What of a canonical record a push can act on: a change elsewhere writes nothing.

    Volatile metadata is never written (:func:`project`), and a push compares
    consents other than subscriptions by status alone (:func:`_comparable`).
    A subscription counts whole: whether it may go depends on when and by
    whom it was recorded (:func:`_consent_safe`).
    """
    view = {key: value for key, value in data.items() if key not in VOLATILE_FIELDS}
    consents = view.get("consents")
    if consents:
        view["consents"] = {
            channel: consent
            if (consent or {}).get("status") == "subscribed"
            else (consent or {}).get("status")
            for channel, consent in consents.items()
        }
    return view


def push_view(connector: Connector, stream: str) -> View:
    """The part of a record a push of ``stream`` to ``connector`` compares.

    Two records with the same view make the same push: the one is already
    written wherever the other is.
    """
    held = connector.fields_held(stream)

    def view(data: dict[str, Any]) -> dict[str, Any]:
        return pushable(connector.held_view(stream, project(data, held)))

    return view


async def push_stream(
    ctx: StreamContext,
    *,
    batch_size: int = 100,
    dry_run: bool = False,
    on_batch: BatchHook | None = None,
) -> list[PlannedWrite]:
    """Write pending changes of ``ctx.stream`` to ``ctx.connection``.

    With ``dry_run`` nothing is written anywhere; the planned writes are
    returned instead.
    """
    initial = await asyncio.to_thread(_is_initial, ctx)
    planned: list[PlannedWrite] = []
    seen: set[int] = set()
    while True:
        batch = await asyncio.to_thread(_due, ctx, batch_size, seen if dry_run else None)
        if not batch:
            break
        plan = await asyncio.to_thread(_plan, ctx, batch, initial)
        if dry_run:
            seen.update(row.id for row in batch if row.id is not None)
            planned += [
                PlannedWrite(c.hub_id, c.external_id, c.op, plan.projected.get(c.hub_id, {}))
                for c in plan.changes
            ]
            continue
        try:
            results = await ctx.connector.write(ctx.stream, plan.changes) if plan.changes else []
        except RetriableError as exc:
            await asyncio.to_thread(_defer, ctx, batch, exc)
            raise
        await asyncio.to_thread(_record, ctx, batch, plan, results)
        if on_batch is not None:
            on_batch(ctx, len(plan.changes))
    if not dry_run and initial:
        await asyncio.to_thread(_mark_initialised, ctx)
    return planned


def _state_key(ctx: StreamContext) -> tuple[str, str]:
    return ctx.connection, f"{ctx.stream}:push"


def _is_initial(ctx: StreamContext) -> bool:
    with ctx.store.session() as session:
        return session.get(SyncState, _state_key(ctx)) is None


def _mark_initialised(ctx: StreamContext) -> None:
    connection, stream = _state_key(ctx)
    with ctx.store.session() as session:
        session.add(SyncState(connection=connection, stream=stream, cursor="initialised"))
        session.commit()


def _due(ctx: StreamContext, limit: int, skip: set[int] | None) -> list[Outbox]:
    now = datetime.now(UTC)
    query = (
        select(Outbox)
        .where(
            Outbox.connection == ctx.connection,
            Outbox.stream == ctx.stream,
            Outbox.status == "pending",
            (col(Outbox.next_attempt_at).is_(None)) | (col(Outbox.next_attempt_at) <= now),
        )
        .order_by(col(Outbox.id))
    )
    if skip:
        query = query.where(col(Outbox.id).not_in(skip))
    with ctx.store.session() as session:
        return list(session.exec(query.limit(limit)))


def _plan(ctx: StreamContext, batch: list[Outbox], initial: bool) -> _Plan:
    if ctx.connector.writes.get(ctx.stream) is SegmentMembership:
        planned = plan_memberships(ctx, batch)
        return _Plan(
            changes=planned.changes,
            projected=planned.rendered,
            seen=planned.rendered,
            objects=planned.objects,
            deleted=planned.deleted,
            deferred=planned.deferred,
        )
    held = ctx.connector.fields_held(ctx.stream)
    ids = list(dict.fromkeys(row.hub_id for row in batch))
    plan = _Plan()
    with ctx.store.session() as session:
        customers: dict[str, dict[str, Any]] = {
            hub_id: data
            for hub_id, data in session.execute(
                select(CUSTOMER.c.hub_id, CUSTOMER.c.data).where(CUSTOMER.c.hub_id.in_(ids))
            )
        }
        links = {
            link.hub_id: link
            for link in _links(session, ctx.connection, ids)
            if ctx.connector.writes_to(ctx.stream, link.external_id)
        }
        reviews = held_fields(session, ctx.connection, ids)
    for row in batch:
        if row.op == "delete":
            if ctx.stream in ctx.connector.deletes and row.hub_id not in plan.projected:
                plan.projected[row.hub_id] = {}
                plan.deleted.add(row.hub_id)
                plan.changes.append(
                    Change(
                        row.hub_id,
                        Customer(),
                        external_id=row.payload.get("external_id"),
                        op="delete",
                    )
                )
            continue
        data = customers.get(row.hub_id)
        if data is None or row.hub_id in plan.projected or row.hub_id in plan.seen:
            continue  # merged away or erased since it was queued, or already planned
        link = links.get(row.hub_id)
        hub_view = ctx.connector.held_view(ctx.stream, project(data, held))
        remote = (
            ctx.connector.held_view(ctx.stream, project(link.base, held))
            if link is not None
            else {}
        )
        target = dict(hub_view)
        if link is not None:  # a new record overwrites nothing: it gets held fields too
            found = differences(hub_view, remote) if initial else {}
            if found:
                plan.differences[row.hub_id] = found
            for path in reviews.get(row.hub_id, set()) | (
                found.keys() if ctx.initial_sync != "hub" else set()
            ):
                keep_remote(target, remote, path)  # the remote's value stays where it is
        projected = _consent_safe(target, remote, link.shadow if link else None, initial)
        plan.seen[row.hub_id] = hub_view
        if link is not None and _comparable(projected) == _comparable(remote):
            if link.id is not None and _consents(hub_view) != _consents(link.shadow):
                plan.withheld[link.id] = hub_view  # remember what was held back, not written
            continue  # the remote holds these values already
        plan.projected[row.hub_id] = projected
        plan.changes.append(
            Change(
                row.hub_id,
                Customer.model_validate(projected),
                external_id=link.external_id if link else None,
            )
        )
    return plan


def _consent_safe(
    data: dict[str, Any], remote: dict[str, Any], shadow: dict[str, Any] | None, initial: bool
) -> dict[str, Any]:
    """The hub's consents a connection may receive; the remote's own stand for the rest.

    An opt-out (or any answer that is not a subscription) always goes. A
    subscription goes only when it is recorded, the connection's first push is
    over, and the hub did not already hold it when it last wrote to (or
    withheld from) this record: a subscription that predates the connection is
    the person's consent to other systems, not to this one. Where a
    subscription is held back, the remote's own consent of that channel is
    written back unchanged, so nothing the remote holds is overwritten blindly.
    """
    consents = data.get("consents") or {}
    if not consents:
        return data
    theirs = remote.get("consents") or {}
    known = (shadow or {}).get("consents") or {}
    kept = {}
    for channel, consent in consents.items():
        if consent.get("status") != "subscribed" or (
            consent.get("recorded_at")
            and not initial
            and (shadow is None or known.get(channel) != consent)
        ):
            kept[channel] = consent
        elif channel in theirs:
            kept[channel] = theirs[channel]
    rest = {k: v for k, v in data.items() if k != "consents"}
    return {**rest, "consents": kept} if kept else rest


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    """What a write would change: a consent by its status, not by who recorded it when.

    A remote stamps its own time (and source) on the consent it stores, so
    comparing whole consents would write an unchanged opt-out on every pass.
    """
    consents = data.get("consents")
    if not consents:
        return data
    return {**data, "consents": {ch: (c or {}).get("status") for ch, c in consents.items()}}


def _consents(data: dict[str, Any] | None) -> Any:
    return (data or {}).get("consents")


def _links(session: Session, connection: str, hub_ids: list[str]) -> list[Link]:
    return live_links(session, connection, hub_ids, "customer")


def _record(
    ctx: StreamContext, batch: list[Outbox], plan: _Plan, results: list[WriteResult]
) -> None:
    """Links, shadows, dead letters and outbox states of one batch, in one transaction."""
    now = datetime.now(UTC)
    secrets = secret_values(ctx.connector.config)
    failed: set[str] = set()
    written: list[WriteResult] = []
    with ctx.store.session() as session:
        for result in results:
            projected = plan.projected.get(result.hub_id, {})
            if not result.ok:
                failed.add(result.hub_id)
                session.add(
                    DeadLetter(
                        connection=ctx.connection,
                        stream=ctx.stream,
                        external_id=result.external_id,
                        payload=scrub(projected, secrets),
                        error=scrub(result.error or "", secrets),
                        reason="rejected",
                        run_id=ctx.run_id,
                    )
                )
                ctx.counts["rejected"] += 1
                continue
            if result.hub_id in plan.deleted:
                _forget(session, ctx, result, plan.objects.get(result.hub_id, "customer"))
            else:
                written.append(result)
            ctx.counts["pushed"] += 1
        _remember_writes(session, ctx, plan, written, now)
        for hub_id, found in plan.differences.items():
            if hub_id not in failed:
                report(session, ctx, hub_id, plan.seen[hub_id], found, ctx.initial_sync)
                if ctx.initial_sync == "remote":
                    adopt(session, ctx, hub_id, found)
        for link_id, shadow in plan.withheld.items():
            session.execute(update(LINK).where(LINK.c.id == link_id).values(shadow=shadow))
        _acknowledge(session, [row for row in batch if row.id not in plan.deferred], failed)
        session.commit()


def _acknowledge(session: Session, batch: list[Outbox], failed: set[str]) -> None:
    """Mark the batch's outbox rows done (or failed), in the transaction of the links."""
    states: dict[str, list[int]] = {"done": [], "failed": []}
    for row in batch:
        if row.id is not None:
            states["failed" if row.hub_id in failed else "done"].append(row.id)
    for state, ids in states.items():
        if ids:
            session.execute(update(OUTBOX).where(OUTBOX.c.id.in_(ids)).values(status=state))


def _remember_writes(
    session: Session, ctx: StreamContext, plan: _Plan, written: list[WriteResult], now: datetime
) -> None:
    """Link each written record to its remote id; keep what was written (the base) and the
    hub's view (the shadow). One query and two batched statements for the whole batch."""
    ids = sorted({r.external_id for r in written if r.external_id})
    objects = sorted({plan.objects.get(r.hub_id, "customer") for r in written})
    owners: dict[tuple[str, str], tuple[int | None, str]] = {
        (obj, external_id): (link_id, hub_id)
        for obj, external_id, link_id, hub_id in session.execute(
            select(LINK.c.object, LINK.c.external_id, LINK.c.id, LINK.c.hub_id).where(
                LINK.c.connection == ctx.connection,
                LINK.c.object.in_(objects),
                LINK.c.external_id.in_(ids),
            )
        )
    }
    inserts, updates = [], []
    for result in written:
        if result.external_id is None:
            continue  # a vendor that gives no id: nothing to link
        obj = plan.objects.get(result.hub_id, "customer")
        key = (obj, result.external_id)
        link_id, owner = owners.get(key, (None, result.hub_id))
        if owner != result.hub_id:
            session.add(
                Conflict(
                    kind="identity",
                    hub_id=result.hub_id,
                    run_id=ctx.run_id,
                    candidates={
                        "reason": f"{ctx.connection} answered the write with record "
                        f"{result.external_id}, which is linked to another customer",
                        "other_hub_id": owner,
                    },
                )
            )
            continue
        projected = plan.projected.get(result.hub_id, {})
        values = {
            "base": projected,
            "shadow": plan.seen[result.hub_id],
            "pushed_hash": digest(projected),
            "deleted": False,
            "updated_at": now,
        }
        if link_id is None and key not in owners:
            inserts.append(
                {
                    "connection": ctx.connection,
                    "object": obj,
                    "external_id": result.external_id,
                    "hub_id": result.hub_id,
                    **values,
                }
            )
        elif link_id is not None:
            updates.append({"b_id": link_id, **values})
        owners[key] = (link_id, result.hub_id)
    if inserts:
        session.execute(insert(LINK), inserts)
    if updates:
        session.execute(update(LINK).where(LINK.c.id == bindparam("b_id")), updates)


def _forget(session: Session, ctx: StreamContext, result: WriteResult, obj: str) -> None:
    """A delete went through: the link stays, marked deleted, without any data."""
    for link in session.exec(
        select(Link).where(
            Link.connection == ctx.connection,
            Link.object == obj,
            Link.external_id == (result.external_id or ""),
        )
    ):
        link.deleted, link.base, link.shadow, link.pushed_hash = True, {}, None, None
        session.add(link)


def _defer(ctx: StreamContext, batch: list[Outbox], exc: RetriableError) -> None:
    """Back off the batch: the next push tries it again after a growing wait."""
    now = datetime.now(UTC)
    with ctx.store.session() as session:
        for row in batch:
            attempts = row.attempts + 1
            wait = exc.retry_after or min(5 * 2**attempts, 3600)
            session.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == row.id)
                .values(
                    attempts=attempts,
                    next_attempt_at=now + timedelta(seconds=wait),
                    last_error=str(exc),
                )
            )
        session.commit()
