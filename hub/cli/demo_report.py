"""What the demo shows at the end, read from the store: people unified, conflicts for review.

Every figure is a query over links and customers, so it reports what the
engine did, not what the demo expected it to do.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from hub.store.tables import Conflict, CustomerRow, Link

__all__ = ["DemoFacts", "demo_facts"]


@dataclass
class DemoFacts:
    customers: int = 0
    unified: list[str] = field(default_factory=list)
    """Hub ids linked to both systems: one customer where there would have been two."""
    conflicts: Counter[str] = field(default_factory=Counter)
    first_conflict: int | None = None


def demo_facts(session: Session, shop: str, newsletter: str) -> DemoFacts:
    facts = DemoFacts()
    systems: dict[str, set[str]] = defaultdict(set)
    for link in session.exec(
        select(Link).where(
            col(Link.connection).in_([shop, newsletter]),
            Link.object == "customer",
            col(Link.deleted).is_(False),
        )
    ):
        systems[link.hub_id].add(link.connection)
    customers = {row.hub_id: row.data for row in session.exec(select(CustomerRow))}
    facts.customers = len(customers)
    facts.unified = [
        hub_id
        for hub_id, held in sorted(systems.items())
        if hub_id in customers and {shop, newsletter} <= held
    ]
    for conflict in session.exec(select(Conflict).where(Conflict.status == "open")):
        facts.conflicts[conflict.kind] += 1
        if facts.first_conflict is None or (conflict.id or 0) < facts.first_conflict:
            facts.first_conflict = conflict.id
    return facts
