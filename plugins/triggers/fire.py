"""Firing triggers: record each new occasion, put the customer in the segment, queue the push.

The firing row is inserted in the same transaction as the membership and
its outbox entry, and its primary key is (trigger, customer, occasion): an
occasion already recorded is never fired again, across any number of runs
and restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, insert, select, update
from sqlmodel import Session

from hub.config import TriggerConfig
from hub.store.tables import TriggerFiring, table_of
from plugins.segments.membership import MEMBERS, join, leave, queue_push
from plugins.triggers.occasions import occasions

__all__ = ["FIRINGS", "Firing", "fire_trigger", "summary"]

FIRINGS = table_of(TriggerFiring)


@dataclass(frozen=True)
class Firing:
    trigger: str
    fired: int
    released: int


def fire_trigger(session: Session, name: str, trigger: TriggerConfig, as_of: datetime) -> Firing:
    candidates = occasions(trigger, as_of).subquery("occasions")
    taken = exists().where(
        and_(
            FIRINGS.c.trigger == name,
            FIRINGS.c.hub_id == candidates.c.hub_id,
            FIRINGS.c.occasion == candidates.c.occasion,
        )
    )
    new = session.execute(select(candidates.c.hub_id, candidates.c.occasion).where(~taken)).all()
    actions, outcomes = _actions(trigger)
    if new:
        session.execute(
            insert(FIRINGS),
            [
                {
                    "trigger": name,
                    "hub_id": hub_id,
                    "occasion": occasion,
                    "fired_at": as_of,
                    "action": actions,
                    "result": summary(outcomes),
                    "pending": trigger.webhook is not None or trigger.task is not None,
                    "attempts": 0,
                    "outcomes": outcomes,
                }
                for hub_id, occasion in new
            ],
        )
    fired = sorted({hub_id for hub_id, _ in new})
    if trigger.segment is None:
        return Firing(name, len(new), 0)
    released = _release(session, trigger, as_of, exclude=set(fired))
    current = set(
        session.execute(
            select(MEMBERS.c.hub_id).where(
                MEMBERS.c.segment == trigger.segment, MEMBERS.c.hub_id.in_(fired)
            )
        ).scalars()
    )
    join(session, trigger.segment, [h for h in fired if h not in current], as_of)
    if current:  # fired again while still in: the hold starts over
        session.execute(
            update(MEMBERS)
            .where(MEMBERS.c.segment == trigger.segment, MEMBERS.c.hub_id.in_(current))
            .values(joined_at=as_of)
        )
    queue_push(session, trigger.segment, trigger.channel, fired + released, trigger.push_to)
    return Firing(name, len(new), len(released))


def _actions(trigger: TriggerConfig) -> tuple[str, dict[str, str]]:
    """The firing's actions, as listed in its history, and what each has done so far."""
    names, outcomes = [], {}
    if trigger.segment is not None:
        names.append(f"segment:{trigger.segment}")
        pushed = f"queued for {', '.join(trigger.push_to)}" if trigger.push_to else "member"
        outcomes["segment"] = pushed
    if trigger.webhook is not None:
        names.append("webhook")
        outcomes["webhook"] = "pending"
    if trigger.task is not None:
        names.append(f"task:{trigger.task.connection}")
        outcomes["task"] = "pending"
    return ", ".join(names)[:64], outcomes


def summary(outcomes: dict[str, str]) -> str:
    """One line for ``crmhub triggers history``: each action and its outcome."""
    return "; ".join(f"{action}: {outcome}" for action, outcome in outcomes.items())[:255]


def _release(
    session: Session, trigger: TriggerConfig, as_of: datetime, exclude: set[str]
) -> list[str]:
    """Members whose hold is over leave, so the tool's automation can start again next time."""
    assert trigger.segment is not None  # only called for triggers with a segment
    expired = [
        hub_id
        for hub_id in session.execute(
            select(MEMBERS.c.hub_id).where(
                MEMBERS.c.segment == trigger.segment,
                MEMBERS.c.joined_at < as_of - trigger.hold,
            )
        ).scalars()
        if hub_id not in exclude
    ]
    leave(session, trigger.segment, expired)
    return expired
