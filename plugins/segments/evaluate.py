"""Evaluating a segment: who matches now, against who was in it, differences only.

Matching is one query per segment; only customers whose membership changed
are written and queued, so a re-evaluation with nothing changed writes
nothing and pushes nothing.
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

__all__ = ["Evaluation", "evaluate_segment", "matching"]


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


def evaluate_segment(
    session: Session, name: str, segment: SegmentConfig, as_of: datetime
) -> Evaluation:
    """Bring ``name``'s stored membership in line with its rules as of ``as_of``."""
    match = matching(segment, as_of).subquery("match")
    current = select(MEMBERS.c.hub_id).where(MEMBERS.c.segment == name)
    joined = list(
        session.execute(select(match.c.hub_id).where(match.c.hub_id.not_in(current))).scalars()
    )
    left = list(
        session.execute(current.where(MEMBERS.c.hub_id.not_in(select(match.c.hub_id)))).scalars()
    )
    join(session, name, joined, as_of)
    leave(session, name, left)
    queued = queue_push(session, name, segment.channel, joined + left, segment.push_to, as_of)
    return Evaluation(name, len(joined), len(left), queued)
