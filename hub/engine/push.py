"""Draining the outbox: the hub's changes out to one connection, idempotently.

Three rules keep pushes from looping or doing needless work:

- the record is projected onto the fields the connection holds, without
  volatile metadata, and compared with what the remote last held (the link's
  base, or the hash of our last write there): equal means nothing to write;
- a write is an upsert keyed by the remote id from the link table (or the
  vendor's natural key when the hub does not know one yet), so a batch retried
  after a crash creates nothing twice;
- after a write, the link keeps what was written (the shadow and its hash), so
  the same values read back on the next pull are recognised as our own echo.

Consent only flows from recorded consent: a subscription without a recorded
time is never pushed, and the first push to a connection subscribes nobody.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from hub.connector import Change, WriteResult
from hub.engine.context import StreamContext
from hub.engine.hashing import digest
from hub.engine.memberships import MEMBERSHIP_STREAM, plan_memberships
from hub.errors import RetriableError
from hub.model import Customer
from hub.redact import scrub, secret_values
from hub.store.tables import Conflict, CustomerRow, DeadLetter, Link, Outbox, SyncState, table_of

__all__ = ["VOLATILE_FIELDS", "PlannedWrite", "project", "push_stream"]

VOLATILE_FIELDS = frozenset({"hub_id", "created_at", "updated_at"})
OUTBOX = table_of(Outbox)
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
    memberships: bool = False


def project(data: dict[str, Any], held: frozenset[str] | None) -> dict[str, Any]:
    """The part of a canonical record a connection stores, without volatile metadata."""
    return {
        key: value
        for key, value in data.items()
        if key not in VOLATILE_FIELDS and (held is None or key in held)
    }


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
    if ctx.stream == MEMBERSHIP_STREAM:
        return _Plan(changes=plan_memberships(ctx, batch), memberships=True)
    held = ctx.connector.fields_held(ctx.stream)
    ids = list(dict.fromkeys(row.hub_id for row in batch))
    plan = _Plan()
    with ctx.store.session() as session:
        customers = {
            row.hub_id: row.data
            for row in session.exec(select(CustomerRow).where(col(CustomerRow.hub_id).in_(ids)))
        }
        links = {link.hub_id: link for link in _links(session, ctx.connection, ids)}
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
        if data is None or row.hub_id in plan.projected:
            continue  # merged away or erased since it was queued, or already planned
        projected = _consent_safe(project(data, held), initial)
        link = links.get(row.hub_id)
        if link is not None and (
            digest(projected) == link.pushed_hash or projected == project(link.base, held)
        ):
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


def _consent_safe(data: dict[str, Any], initial: bool) -> dict[str, Any]:
    """Drop subscriptions that are not recorded, and all of them on a first push."""
    consents = data.get("consents")
    if not consents:
        return data
    kept = {
        channel: consent
        for channel, consent in consents.items()
        if consent.get("status") != "subscribed" or (consent.get("recorded_at") and not initial)
    }
    return (
        {**data, "consents": kept} if kept else {k: v for k, v in data.items() if k != "consents"}
    )


def _links(session: Session, connection: str, hub_ids: list[str]) -> list[Link]:
    return list(
        session.exec(
            select(Link).where(
                Link.connection == connection,
                Link.object == "customer",
                col(Link.hub_id).in_(hub_ids),
                col(Link.deleted).is_(False),
            )
        )
    )


def _record(
    ctx: StreamContext, batch: list[Outbox], plan: _Plan, results: list[WriteResult]
) -> None:
    """Links, shadows, dead letters and outbox states of one batch, in one transaction."""
    now = datetime.now(UTC)
    secrets = secret_values(ctx.connector.config)
    failed: set[str] = set()
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
                _forget(session, ctx, result)
            elif not plan.memberships:  # a membership is no record of its own there
                _remember_write(session, ctx, result, projected, now)
            ctx.counts["pushed"] += 1
        for row in batch:
            state = "failed" if row.hub_id in failed else "done"
            session.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(status=state))
        session.commit()


def _remember_write(
    session: Session,
    ctx: StreamContext,
    result: WriteResult,
    projected: dict[str, Any],
    now: datetime,
) -> None:
    existing = (
        session.exec(
            select(Link).where(
                Link.connection == ctx.connection,
                Link.object == "customer",
                Link.external_id == (result.external_id or ""),
            )
        ).first()
        if result.external_id
        else None
    )
    if existing is not None and existing.hub_id != result.hub_id:
        session.add(
            Conflict(
                kind="identity",
                hub_id=result.hub_id,
                run_id=ctx.run_id,
                candidates={
                    "reason": f"{ctx.connection} answered the write with record "
                    f"{result.external_id}, which is linked to another customer",
                    "other_hub_id": existing.hub_id,
                },
            )
        )
        return
    if result.external_id is None:
        return  # a delete, or a vendor that gives no id: nothing to link
    link = existing or Link(
        connection=ctx.connection,
        object="customer",
        external_id=result.external_id,
        hub_id=result.hub_id,
    )
    link.shadow, link.pushed_hash = projected, digest(projected)
    link.base, link.deleted, link.updated_at = projected, False, now
    session.add(link)


def _forget(session: Session, ctx: StreamContext, result: WriteResult) -> None:
    """A delete went through: the link stays, marked deleted, without any data."""
    for link in session.exec(
        select(Link).where(
            Link.connection == ctx.connection,
            Link.object == "customer",
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
