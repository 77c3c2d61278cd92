"""What the demo shows at the end, read from the store: people unified, consent kept, review.

Every figure is a query over links and customers, so it reports what the
engine did, not what the demo expected it to do.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from hub.store.tables import Conflict, CustomerRow, Link

__all__ = ["DemoFacts", "demo_facts"]


@dataclass
class DemoFacts:
    customers: int = 0
    unified: list[str] = field(default_factory=list)
    """Hub ids linked to both systems: one customer where there would have been two."""
    opt_outs: list[str] = field(default_factory=list)
    """Hub ids the shop lists as subscribed but who unsubscribed in the e-mail tool."""
    refused: list[str] = field(default_factory=list)
    """Hub ids the shop lists as opted out that are in the e-mail tool."""
    refused_but_subscribed: list[str] = field(default_factory=list)
    """Of those, the ones the e-mail tool holds as subscribed: must stay empty."""
    conflicts: Counter[str] = field(default_factory=Counter)
    first_conflict: int | None = None


def _email_status(data: dict[str, Any] | None) -> str | None:
    consent = ((data or {}).get("consents") or {}).get("email") or {}
    return consent.get("status")


def demo_facts(session: Session, shop: str, newsletter: str) -> DemoFacts:
    facts = DemoFacts()
    bases: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for link in session.exec(
        select(Link).where(
            col(Link.connection).in_([shop, newsletter]),
            Link.object == "customer",
            col(Link.deleted).is_(False),
        )
    ):
        bases[link.hub_id][link.connection] = link.base or {}
    customers = {row.hub_id: row.data for row in session.exec(select(CustomerRow))}
    facts.customers = len(customers)
    for hub_id, held in sorted(bases.items()):
        if hub_id not in customers:
            continue
        hub, mail = _email_status(customers[hub_id]), _email_status(held.get(newsletter))
        if shop in held and newsletter in held:
            facts.unified.append(hub_id)
        if _email_status(held.get(shop)) == "subscribed" and hub == "unsubscribed":
            facts.opt_outs.append(hub_id)
        if shop in held and newsletter in held and _email_status(held[shop]) != "subscribed":
            facts.refused.append(hub_id)
            if mail == "subscribed":
                facts.refused_but_subscribed.append(hub_id)
    for conflict in session.exec(select(Conflict).where(Conflict.status == "open")):
        facts.conflicts[conflict.kind] += 1
        if facts.first_conflict is None or (conflict.id or 0) < facts.first_conflict:
            facts.first_conflict = conflict.id
    return facts
