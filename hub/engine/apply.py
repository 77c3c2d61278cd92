"""Writing one mapped page into the store, in the caller's transaction.

Customers go through identity resolution and the three-way merge
(:mod:`hub.engine.customers`). Orders and interactions (service tickets, calls)
are owned by the source that reports them: only that source's later versions
replace them, never another system's. Both hang off the customer the source
links them to (its own customer id), else the one with their e-mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlmodel import Session, col, delete, select

from hub.connector import SourceRecord
from hub.engine.context import StreamContext
from hub.engine.customers import apply_customers
from hub.engine.hashing import digest, new_hub_id
from hub.engine.outbox import enqueue
from hub.model import Customer, Interaction, Order
from hub.store.tables import CustomerRow, InteractionRow, Link, OrderLineRow, OrderRow

__all__ = ["apply_records"]


def apply_records(session: Session, ctx: StreamContext, records: Sequence[SourceRecord]) -> None:
    customers = [r for r in records if isinstance(r.record, Customer)]
    orders = [r for r in records if isinstance(r.record, Order)]
    interactions = [r for r in records if isinstance(r.record, Interaction)]
    if customers:
        changed = apply_customers(session, ctx, customers, ctx.identity, ctx.merge)
        enqueue(
            session,
            stream="customers",
            hub_ids=changed,
            targets=ctx.subscribers,
            origin=ctx.connection,
        )
    if orders:
        _apply_orders(session, ctx, orders)
    if interactions:
        _apply_interactions(session, ctx, interactions)


def _links(session: Session, connection: str, obj: str, ids: list[str]) -> dict[str, Link]:
    found = session.exec(
        select(Link).where(
            Link.connection == connection, Link.object == obj, col(Link.external_id).in_(ids)
        )
    )
    return {link.external_id: link for link in found}


def _apply_orders(session: Session, ctx: StreamContext, records: list[SourceRecord]) -> None:
    links = _links(session, ctx.connection, "order", [r.external_id for r in records])
    buyers = _links(
        session,
        ctx.connection,
        "customer",
        [
            r.record.customer_ref
            for r in records
            if isinstance(r.record, Order) and r.record.customer_ref
        ],
    )
    lines: list[OrderLineRow] = []
    for source in records:
        order = source.record
        assert isinstance(order, Order)
        data = order.canonical_dict()
        seen = digest(data)
        link = links.get(source.external_id)
        if link is not None and link.seen_hash == seen:
            ctx.counts["unchanged"] += 1
            continue
        if link is None:
            link = Link(
                connection=ctx.connection,
                object="order",
                external_id=source.external_id,
                hub_id=new_hub_id(),
            )
            links[source.external_id] = link
            ctx.counts["created"] += 1
        else:
            session.exec(delete(OrderLineRow).where(col(OrderLineRow.order_id) == link.hub_id))
            ctx.counts["updated"] += 1
        buyer = buyers.get(order.customer_ref or "")
        customer_hub_id = (
            buyer.hub_id if buyer else _customer_by_email(session, order.customer_email)
        )
        session.merge(_order_row(link.hub_id, ctx.connection, order, customer_hub_id))
        lines.extend(
            OrderLineRow(order_id=link.hub_id, position=position, **line.model_dump())
            for position, line in enumerate(order.lines)
        )
        link.base, link.seen_hash, link.updated_at = data, seen, datetime.now(UTC)
        session.add(link)
    session.flush()  # lines reference their orders: the orders must exist first
    session.add_all(lines)


def _apply_interactions(session: Session, ctx: StreamContext, records: list[SourceRecord]) -> None:
    links = _links(session, ctx.connection, "interaction", [r.external_id for r in records])
    people = _links(
        session,
        ctx.connection,
        "customer",
        [
            r.record.customer_ref
            for r in records
            if isinstance(r.record, Interaction) and r.record.customer_ref
        ],
    )
    for source in records:
        interaction = source.record
        assert isinstance(interaction, Interaction)
        data = interaction.canonical_dict()
        seen = digest(data)
        link = links.get(source.external_id)
        if link is not None and link.seen_hash == seen:
            ctx.counts["unchanged"] += 1
            continue
        if link is None:
            link = Link(
                connection=ctx.connection,
                object="interaction",
                external_id=source.external_id,
                hub_id=new_hub_id(),
            )
            links[source.external_id] = link
            ctx.counts["created"] += 1
        else:
            ctx.counts["updated"] += 1
        person = people.get(interaction.customer_ref or "")
        customer_hub_id = (
            person.hub_id if person else _customer_by_email(session, interaction.customer_email)
        )
        fields = interaction.model_dump(
            exclude={"customer_ref", "customer_email", "customer_hub_id", "updated_at"}
        )
        session.merge(
            InteractionRow(
                id=link.hub_id, customer_hub_id=customer_hub_id, source=ctx.connection, **fields
            )
        )
        link.base, link.seen_hash, link.updated_at = data, seen, datetime.now(UTC)
        session.add(link)


def _customer_by_email(session: Session, email: str | None) -> str | None:
    if not email:
        return None
    return session.exec(
        select(CustomerRow.hub_id).where(CustomerRow.primary_email == email)
    ).first()


def _order_row(order_id: str, source: str, order: Order, customer_hub_id: str | None) -> OrderRow:
    fields = order.model_dump(
        exclude={"lines", "customer_ref", "customer_email", "customer_hub_id"}
    )
    return OrderRow(id=order_id, customer_hub_id=customer_hub_id, source=source, **fields)
