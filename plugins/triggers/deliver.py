"""Delivering the actions of firings that call out, after the firings are committed.

Reads the pending firings of triggers with a webhook or a task action, runs
each action still open (plugins/triggers/webhook.py, plugins/triggers/task.py)
and records on each row what was answered: done, failed and to be tried again
by the next refresh, or given up after the action's ``max_attempts``
refreshes (or at once, when retrying cannot help). A trigger removed from the
config leaves its pending rows alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import bindparam, select, update

from hub.config import TriggerConfig
from hub.plugins import Refresh
from hub.store.tables import CustomerRow, Link, table_of
from plugins.triggers.fire import FIRINGS, summary
from plugins.triggers.task import Answers, create_tasks
from plugins.triggers.webhook import Call, run_coroutine, send_all

__all__ = ["deliver_pending"]

CUSTOMERS = table_of(CustomerRow)
LINKS = table_of(Link)
_MESSAGE = 160
PENDING = "pending"


def is_open(outcome: str | None) -> bool:
    """An action not yet done: never tried, or failed and still to be tried again."""
    return outcome is not None and (outcome == PENDING or outcome.startswith("failed"))


def deliver_pending(refresh: Refresh) -> dict[str, int]:
    """Run every open action of every pending firing; return how many were done and failed."""
    triggers = {
        name: trigger
        for name, trigger in refresh.config.triggers.items()
        if trigger.webhook is not None or trigger.task is not None
    }
    if not triggers:
        return {}
    rows, customers, refs = _load(refresh, triggers)
    if not rows:
        return {}
    calls = [
        Call(row.trigger, row.hub_id, row.occasion, row.fired_at, customers.get(row.hub_id))
        for row in rows
    ]
    opened = {
        action: [
            call
            for row, call in zip(rows, calls, strict=True)
            if is_open((row.outcomes or {}).get(action))
        ]
        for action in ("webhook", "task")
    }

    async def run() -> tuple[dict[str, tuple[bool, str]], Answers]:
        hooks, tasks = await asyncio.gather(
            send_all(opened["webhook"], triggers),
            create_tasks(opened["task"], triggers, refresh.config, refresh.plugins, refs),
        )
        return hooks, tasks

    hooks, tasks = run_coroutine(run())
    answers = {
        "webhook": {key: (ok, said, True) for key, (ok, said) in hooks.items()},
        "task": tasks,
    }
    counts = {"actions done": 0, "actions failed": 0}
    updates = []
    for row, call in zip(rows, calls, strict=True):
        outcomes, still_open, attempts = dict(row.outcomes or {}), False, row.attempts + 1
        for action, answered in answers.items():
            if call.delivery not in answered:
                continue
            done, said, retry = answered[call.delivery]
            limit = _max_attempts(triggers[row.trigger], action)
            counts["actions done" if done else "actions failed"] += 1
            if done:
                outcomes[action] = said
            elif retry and attempts < limit:
                outcomes[action] = f"failed {attempts}x, will retry: {said[:_MESSAGE]}"
                still_open = True
            else:
                outcomes[action] = f"gave up after {attempts} attempts: {said[:_MESSAGE]}"
        updates.append(
            {
                "b_trigger": row.trigger,
                "b_hub_id": row.hub_id,
                "b_occasion": row.occasion,
                "pending": still_open,
                "attempts": attempts,
                "outcomes": outcomes,
                "result": summary(outcomes),
            }
        )
    with refresh.store.session() as session:
        session.execute(
            update(FIRINGS).where(
                FIRINGS.c.trigger == bindparam("b_trigger"),
                FIRINGS.c.hub_id == bindparam("b_hub_id"),
                FIRINGS.c.occasion == bindparam("b_occasion"),
            ),
            updates,
        )
        session.commit()
    return counts


def _max_attempts(trigger: TriggerConfig, action: str) -> int:
    settings = trigger.webhook if action == "webhook" else trigger.task
    return settings.max_attempts if settings is not None else 1


def _load(
    refresh: Refresh, triggers: dict[str, TriggerConfig]
) -> tuple[list[Any], dict[str, Any], dict[tuple[str, str], str]]:
    """Pending rows, their customers' records and their ids in the task connections."""
    connections = sorted({t.task.connection for t in triggers.values() if t.task is not None})
    with refresh.store.session() as session:
        rows = session.execute(
            select(
                FIRINGS.c.trigger,
                FIRINGS.c.hub_id,
                FIRINGS.c.occasion,
                FIRINGS.c.fired_at,
                FIRINGS.c.attempts,
                FIRINGS.c.outcomes,
            ).where(FIRINGS.c.pending, FIRINGS.c.trigger.in_(sorted(triggers)))
        ).all()
        ids = sorted({row.hub_id for row in rows})
        customers = dict(
            session.execute(
                select(CUSTOMERS.c.hub_id, CUSTOMERS.c.data).where(CUSTOMERS.c.hub_id.in_(ids))
            ).all()
        )
        refs = {
            (connection, hub_id): external_id
            for connection, hub_id, external_id in session.execute(
                select(LINKS.c.connection, LINKS.c.hub_id, LINKS.c.external_id).where(
                    LINKS.c.connection.in_(connections),
                    LINKS.c.object == "customer",
                    LINKS.c.deleted.is_(False),
                    LINKS.c.hub_id.in_(ids),
                )
            )
        }
    return list(rows), customers, refs
