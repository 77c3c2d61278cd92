"""Read-side queries the CLI and reports share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from hub.model import Order, OrderLine
from hub.normalize import NormalizationError, normalize_email
from hub.store.tables import (
    CampaignRow,
    CustomerRow,
    DeadLetter,
    Identifier,
    InteractionRow,
    Link,
    OrderLineRow,
    OrderRow,
    Run,
)

__all__ = [
    "count_customers",
    "customer_dict",
    "find_customer",
    "history_of",
    "iter_customers",
    "iter_orders",
    "links_of",
    "list_dead_letters",
    "list_runs",
]


def customer_dict(row: CustomerRow) -> dict[str, Any]:
    return {"hub_id": row.hub_id, **row.data, "updated_at": row.updated_at}


def count_customers(session: Session, search: str | None = None) -> int:
    query = select(func.count()).select_from(CustomerRow)
    if search:
        query = query.where(_matches(search))
    return int(session.exec(query).one())


def iter_customers(
    session: Session, *, limit: int | None = None, offset: int = 0, search: str | None = None
) -> Iterator[CustomerRow]:
    """Customers in a stable order, streamed so a million rows fit in memory."""
    query = select(CustomerRow).order_by(col(CustomerRow.created_at), col(CustomerRow.hub_id))
    if search:
        query = query.where(_matches(search))
    query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    yield from session.exec(query.execution_options(yield_per=1000))


def _matches(search: str) -> Any:
    pattern = f"%{search.lower()}%"
    return or_(
        func.lower(CustomerRow.first_name).like(pattern),
        func.lower(CustomerRow.last_name).like(pattern),
        func.lower(CustomerRow.primary_email).like(pattern),
    )


def find_customer(session: Session, key: str) -> CustomerRow | None:
    """By hub id, or by any e-mail the hub knows for the person.

    The identifier table's unique index finds a linking e-mail (a shared one
    gives the customer it was first seen on). Only an address that links no
    one (``info@``, ``identity.never_link``) is left to the customers'
    first e-mails, which no index serves since migration 0009: a scan, paid
    by a person's command (show, erase) rather than by every pull's writes.
    """
    row = session.get(CustomerRow, key)
    if row is not None or "@" not in key:
        return row
    try:
        email = normalize_email(key)
    except NormalizationError:
        return None
    owner = session.exec(
        select(Identifier.hub_id).where(Identifier.kind == "email", Identifier.value == email)
    ).first()
    if owner is not None:
        return session.get(CustomerRow, owner)
    return session.exec(select(CustomerRow).where(CustomerRow.primary_email == email)).first()


def history_of(session: Session, hub_id: str, *, limit: int = 20) -> dict[str, Any]:
    """A customer's purchases and touch points from every system, newest first.

    This is the unified record's other half: the shop's orders, the CRM's
    service tickets, the marketing tool's opens and clicks (with the campaign's
    name where the same source reported it), each at most ``limit`` long, with
    the totals so a person sees when a list is cut.
    """
    orders = session.exec(
        select(OrderRow)
        .where(OrderRow.customer_hub_id == hub_id)
        .order_by(col(OrderRow.placed_at).desc())
        .limit(limit)
    )
    touches = session.exec(
        select(InteractionRow, CampaignRow.name)
        .join(
            Link,
            and_(
                col(Link.external_id) == col(InteractionRow.campaign_ref),
                col(Link.connection) == col(InteractionRow.source),
                col(Link.object) == "campaign",
            ),
            isouter=True,
        )
        .join(CampaignRow, col(CampaignRow.id) == Link.hub_id, isouter=True)
        .where(InteractionRow.customer_hub_id == hub_id)
        .order_by(col(InteractionRow.occurred_at).desc())
        .limit(limit)
    )
    return {
        "order_count": _count(session, OrderRow.customer_hub_id == hub_id, OrderRow),
        "orders": [
            {
                "source": o.source,
                "number": o.number,
                "placed_at": o.placed_at,
                "total": o.total,
                "currency": o.currency,
                "status": o.status,
            }
            for o in orders
        ],
        "interaction_count": _count(
            session, InteractionRow.customer_hub_id == hub_id, InteractionRow
        ),
        "interactions": [
            {
                "source": i.source,
                "kind": i.kind,
                "occurred_at": i.occurred_at,
                "channel": i.channel,
                "subject": i.subject,
                "status": i.status,
                "campaign": campaign or i.campaign_ref,
            }
            for i, campaign in touches
        ],
    }


def _count(session: Session, where: Any, table: type[Any]) -> int:
    return int(session.exec(select(func.count()).select_from(table).where(where)).one())


def links_of(session: Session, hub_id: str) -> list[Link]:
    return list(session.exec(select(Link).where(Link.hub_id == hub_id).order_by(col(Link.id))))


def list_runs(session: Session, *, limit: int = 20, connection: str | None = None) -> list[Run]:
    query = select(Run).order_by(col(Run.id).desc()).limit(limit)
    if connection:
        query = query.where(Run.connection == connection)
    return list(session.exec(query))


def list_dead_letters(
    session: Session, *, limit: int = 50, status: str | None = "open"
) -> list[DeadLetter]:
    query = select(DeadLetter).order_by(col(DeadLetter.id).desc()).limit(limit)
    if status:
        query = query.where(DeadLetter.status == status)
    return list(session.exec(query))


def iter_orders(session: Session, *, batch: int = 500) -> Iterator[tuple[str, Order]]:
    """Every order as (order id, canonical Order), lines included, a batch at a time."""
    offset = 0
    while True:
        rows = list(
            session.exec(
                select(OrderRow)
                .order_by(col(OrderRow.placed_at), col(OrderRow.id))
                .offset(offset)
                .limit(batch)
            )
        )
        if not rows:
            return
        lines: dict[str, list[OrderLineRow]] = {}
        for line in session.exec(
            select(OrderLineRow)
            .where(col(OrderLineRow.order_id).in_([row.id for row in rows]))
            .order_by(col(OrderLineRow.order_id), col(OrderLineRow.position))
        ):
            lines.setdefault(line.order_id, []).append(line)
        for row in rows:
            yield row.id, _order(row, lines.get(row.id, []))
        offset += batch


def _order(row: OrderRow, lines: list[OrderLineRow]) -> Order:
    fields = row.model_dump(exclude={"id", "source"})
    return Order.model_validate(
        {
            **{key: value for key, value in fields.items() if value is not None},
            "lines": [
                OrderLine.model_validate(
                    {
                        k: v
                        for k, v in line.model_dump(exclude={"id", "order_id", "position"}).items()
                        if v is not None
                    }
                )
                for line in lines
            ],
        }
    )
