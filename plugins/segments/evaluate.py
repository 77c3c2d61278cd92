"""Evaluating a segment: who matches now, against who was in it, differences only.

Matching is one query per segment; only customers whose membership changed
are written and queued, so a re-evaluation with nothing changed writes
nothing and pushes nothing. A segment whose rules read only the customer
record (consent, tags, names, language ...) is evaluated incrementally: only
customers changed since the last evaluation are looked at. Rules over
metrics, orders or dates change with time and are evaluated in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import Session

from hub.config import SegmentConfig
from plugins.segments.membership import MEMBERS, join, leave, queue_push
from plugins.segments.rules import CUSTOMERS, METRICS, condition

__all__ = ["Evaluation", "evaluate_segment", "is_static", "matching"]

_RECORD_FIELDS = frozenset({"first_name", "last_name", "gender", "language", "birth_date"})


@dataclass(frozen=True)
class Evaluation:
    segment: str
    joined: int
    left: int
    queued: int


def matching(segment: SegmentConfig, as_of: datetime) -> Select[Any]:
    """Customers the rules select as of ``as_of``."""
    return (
        select(CUSTOMERS.c.hub_id)
        .select_from(CUSTOMERS.outerjoin(METRICS, METRICS.c.hub_id == CUSTOMERS.c.hub_id))
        .where(condition(segment.rules, as_of))
    )


def is_static(segment: SegmentConfig) -> bool:
    """True when the rules read only the customer record, so time alone changes nothing."""
    return all(
        rule.consent is not None
        or rule.tag is not None
        or (
            rule.field in _RECORD_FIELDS
            and rule.older_than is None
            and rule.within_last is None
            and rule.within_next is None
        )
        for rule in segment.rules
    )


def evaluate_segment(
    session: Session,
    name: str,
    segment: SegmentConfig,
    as_of: datetime,
    *,
    changed_since: datetime | None = None,
) -> Evaluation:
    """Bring ``name``'s stored membership in line with its rules as of ``as_of``.

    With ``changed_since`` only customers updated after it are looked at.
    """
    query = matching(segment, as_of)
    current = select(MEMBERS.c.hub_id).where(MEMBERS.c.segment == name)
    if changed_since is not None:
        changed = select(CUSTOMERS.c.hub_id).where(CUSTOMERS.c.updated_at > changed_since)
        query = query.where(CUSTOMERS.c.updated_at > changed_since)
        current = current.where(MEMBERS.c.hub_id.in_(changed))
    match = query.subquery("match")
    joined = list(
        session.execute(select(match.c.hub_id).where(match.c.hub_id.not_in(current))).scalars()
    )
    left = list(
        session.execute(current.where(MEMBERS.c.hub_id.not_in(select(match.c.hub_id)))).scalars()
    )
    join(session, name, joined, as_of)
    leave(session, name, left)
    queued = queue_push(session, name, segment.channel, joined + left, segment.push_to)
    return Evaluation(name, len(joined), len(left), queued)
