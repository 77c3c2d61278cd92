"""Writing one mapped page into the store, in the caller's transaction.

Customers go through identity resolution and the three-way merge
(:mod:`hub.engine.customers`). Orders, interactions (service tickets, calls,
e-mail activity) and campaigns are owned by the source that reports them: only
that source's later versions replace them, never another system's. Orders and
interactions hang off the customer the source links them to (its own customer
id), else the one with their e-mail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, delete, select

from hub.connector import SourceRecord
from hub.engine.context import StreamContext
from hub.engine.customers import CustomerChange, apply_customers
from hub.engine.hashing import digest, new_hub_id
from hub.engine.mapped import CustomerJson, Mapped, as_customer_json, is_customer
from hub.engine.outbox import enqueue
from hub.model import Campaign, Interaction, Order
from hub.store.tables import (
    CampaignRow,
    Identifier,
    InteractionRow,
    Link,
    OrderLineRow,
    OrderRow,
)

__all__ = ["apply_records"]


def apply_records(
    session: Session,
    ctx: StreamContext,
    records: Sequence[Mapped],
    *,
    raw_hashes: Mapping[str, str | None] | None = None,
) -> None:
    """Write a mapped page; ``raw_hashes`` go on the customers' links (hub/engine/rawskip.py)."""
    customers = [
        r if isinstance(r, CustomerJson) else as_customer_json(r) for r in records if is_customer(r)
    ]
    mapped_here = [r for r in records if isinstance(r, SourceRecord)]
    orders = [r for r in mapped_here if isinstance(r.record, Order)]
    interactions = [r for r in mapped_here if isinstance(r.record, Interaction)]
    campaigns = [r for r in mapped_here if isinstance(r.record, Campaign)]
    if customers:
        changed = apply_customers(
            session, ctx, customers, ctx.identity, ctx.merge, raw_hashes=raw_hashes or {}
        )
        for target in ctx.subscribers:
            enqueue(
                session,
                stream="customers",
                hub_ids=[h for h, change in changed.items() if _concerns(ctx, target, change)],
                targets=[target],
                origin=ctx.connection,
            )
    if orders:
        _apply_orders(session, ctx, orders)
    if interactions:
        _apply_interactions(session, ctx, interactions)
    if campaigns:
        _apply_campaigns(session, ctx, campaigns)


def _concerns(ctx: StreamContext, target: str, change: CustomerChange) -> bool:
    """Whether a push to ``target`` could write anything for this change.

    Without the target's view (a webhook, a harness) or for a customer just
    created or merged, always. Another subscriber hears of a change only if
    the part of the record it holds moved: an SMS consent read from the shop
    is nothing to Mailchimp, whose member has no SMS consent. The connection
    the change came from holds what it just gave (its link's base now): it
    hears of the change where the hub holds something else, if either side
    moved there. A subscription the hub already held is no news to it: its
    push either wrote it, withheld it, or is still queued.
    """
    view = ctx.views.get(target)
    if view is None or change.before is None:
        return True
    if target != ctx.connection:
        return view(change.before) != view(change.after)
    if change.given is None or change.base is None:
        return True
    before, after = _fields(view(change.before)), _fields(view(change.after))
    given, base = _fields(view(change.given)), _fields(view(change.base))
    for name in after.keys() | given.keys():
        held, theirs = after.get(name), given.get(name)
        if held == theirs or (held == before.get(name) and theirs == base.get(name)):
            continue
        if name.startswith("consents.") and isinstance(held, dict) and held == before.get(name):
            continue  # a subscription the hub held before (pushable keeps only those whole)
        return True
    return False


def _fields(view: dict[str, Any]) -> dict[str, Any]:
    """A view with each consent channel as a field of its own."""
    fields = {name: value for name, value in view.items() if name != "consents"}
    for channel, consent in (view.get("consents") or {}).items():
        fields[f"consents.{channel}"] = consent
    return fields


def _links(session: Session, connection: str, obj: str, ids: list[str]) -> dict[str, Link]:
    found = session.exec(
        select(Link).where(
            Link.connection == connection, Link.object == obj, col(Link.external_id).in_(ids)
        )
    )
    return {link.external_id: link for link in found}


@dataclass(frozen=True, slots=True)
class _Owned:
    """A record of a single-owner object that changed since its source last gave it."""

    source: SourceRecord
    link: Link
    data: dict[str, Any]
    seen: str
    created: bool


def _changed(
    session: Session, ctx: StreamContext, obj: str, records: list[SourceRecord]
) -> list[_Owned]:
    """The records that differ from what this source last gave, each with its link.

    Orders, interactions and campaigns belong to the source that reports them,
    so there is nothing to merge: a record equal to the link's last version is
    unchanged, any other replaces it. New links are made here; counts are kept.
    """
    links = _links(session, ctx.connection, obj, [r.external_id for r in records])
    changed: list[_Owned] = []
    for source in records:
        data = source.record.canonical_dict()
        seen = digest(data)
        link = links.get(source.external_id)
        if link is not None and link.seen_hash == seen:
            ctx.counts["unchanged"] += 1
            continue
        created = link is None
        if link is None:
            link = Link(
                connection=ctx.connection,
                object=obj,
                external_id=source.external_id,
                hub_id=new_hub_id(),
            )
            links[source.external_id] = link
        ctx.counts["created" if created else "updated"] += 1
        changed.append(_Owned(source, link, data, seen, created))
    return changed


def _remember(session: Session, owned: _Owned) -> None:
    link = owned.link
    link.base, link.seen_hash, link.updated_at = owned.data, owned.seen, datetime.now(UTC)
    session.add(link)


def _people(session: Session, connection: str, changed: list[_Owned]) -> dict[str, Link]:
    """The links of the customers these orders or interactions name by the source's own id."""
    refs = {
        owned.source.record.customer_ref
        for owned in changed
        if isinstance(owned.source.record, Order | Interaction) and owned.source.record.customer_ref
    }
    return _links(session, connection, "customer", sorted(refs))


def _apply_orders(session: Session, ctx: StreamContext, records: list[SourceRecord]) -> None:
    changed = _changed(session, ctx, "order", records)
    buyers = _people(session, ctx.connection, changed)
    lines: list[OrderLineRow] = []
    for owned in changed:
        order = owned.source.record
        assert isinstance(order, Order)
        if not owned.created:
            session.exec(
                delete(OrderLineRow).where(col(OrderLineRow.order_id) == owned.link.hub_id)
            )
        buyer = buyers.get(order.customer_ref or "")
        customer_hub_id = (
            buyer.hub_id if buyer else _customer_by_email(session, order.customer_email)
        )
        session.merge(_order_row(owned.link.hub_id, ctx.connection, order, customer_hub_id))
        lines.extend(
            OrderLineRow(order_id=owned.link.hub_id, position=position, **line.model_dump())
            for position, line in enumerate(order.lines)
        )
        _remember(session, owned)
    session.flush()  # lines reference their orders: the orders must exist first
    session.add_all(lines)


def _apply_interactions(session: Session, ctx: StreamContext, records: list[SourceRecord]) -> None:
    changed = _changed(session, ctx, "interaction", records)
    people = _people(session, ctx.connection, changed)
    for owned in changed:
        interaction = owned.source.record
        assert isinstance(interaction, Interaction)
        person = people.get(interaction.customer_ref or "")
        customer_hub_id = (
            person.hub_id if person else _customer_by_email(session, interaction.customer_email)
        )
        fields = interaction.model_dump(
            exclude={"customer_ref", "customer_email", "customer_hub_id", "updated_at"}
        )
        session.merge(
            InteractionRow(
                id=owned.link.hub_id,
                customer_hub_id=customer_hub_id,
                source=ctx.connection,
                **fields,
            )
        )
        _remember(session, owned)


def _apply_campaigns(session: Session, ctx: StreamContext, records: list[SourceRecord]) -> None:
    """Campaigns and their reported figures, for conversion and acquisition cost by channel."""
    for owned in _changed(session, ctx, "campaign", records):
        campaign = owned.source.record
        assert isinstance(campaign, Campaign)
        session.merge(
            CampaignRow(id=owned.link.hub_id, source=ctx.connection, **campaign.model_dump())
        )
        _remember(session, owned)


def _customer_by_email(session: Session, email: str | None) -> str | None:
    """The customer an order or interaction names only by e-mail: the one it identifies.

    Looked up in the identifier table, as identity resolution finds people:
    any of the customer's linking e-mails counts, and an address that links
    nobody (shared by two people, a role address such as ``info@``, one of
    ``identity.never_link``) names no one rather than whoever had it first.
    Its unique index serves the look-up, so the customer table needs no
    e-mail index, which every pull would have to write (migration 0009).
    Both sides are normalised by the same ``Email`` type.
    """
    if not email:
        return None
    return session.exec(
        select(Identifier.hub_id).where(
            Identifier.kind == "email",
            Identifier.value == email,
            col(Identifier.shared).is_(False),
        )
    ).first()


def _order_row(order_id: str, source: str, order: Order, customer_hub_id: str | None) -> OrderRow:
    fields = order.model_dump(
        exclude={"lines", "customer_ref", "customer_email", "customer_hub_id"}
    )
    return OrderRow(id=order_id, customer_hub_id=customer_hub_id, source=source, **fields)
