"""A trigger's task action: a task for the call centre, created in a CRM connection.

The task goes through the connection's connector (stream ``tasks``, e.g.
SugarCRM's Tasks module), as any write does; the plugin only says what the
task is and, from the hub's links, which record in that CRM it is about. Its
``key`` is derived from the firing, so a create resent after a failure lands
on the same task.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from hub.config import HubConfig, TaskAction, TriggerConfig
from hub.connector import Change
from hub.engine.runner import build_connector
from hub.errors import CrmhubError
from hub.model import Customer, Task
from hub.plugins import Plugins
from plugins.triggers.webhook import Call

__all__ = ["TASK_STREAM", "create_tasks", "task_of"]

TASK_STREAM = "tasks"
Answers = dict[str, tuple[bool, str, bool]]  # delivery -> (done, what happened, worth retrying)


def task_of(call: Call, trigger: TriggerConfig, customer_ref: str | None) -> Task:
    action = trigger.task
    assert action is not None  # only triggers with a task action have task calls
    customer = Customer.model_validate(call.customer) if call.customer is not None else None
    return Task(
        key=hashlib.sha256(call.delivery.encode()).hexdigest()[:32],
        subject=action.subject,
        description=f"crmhub trigger {call.trigger}: {trigger.event} ({call.occasion})",
        due_at=_due(call.fired_at, action),
        priority=action.priority,
        customer_ref=customer_ref,
        customer=customer,
    )


def _due(fired_at: datetime, action: TaskAction) -> datetime:
    return fired_at + action.due_in


async def create_tasks(
    calls: list[Call],
    triggers: Mapping[str, TriggerConfig],
    config: HubConfig,
    plugins: Plugins,
    refs: Mapping[tuple[str, str], str],
) -> Answers:
    """Create each call's task in its trigger's connection; refs: (connection, hub id) -> id."""
    answers: Answers = {}
    by_connection: dict[str, list[Call]] = {}
    for call in calls:
        action = triggers[call.trigger].task
        assert action is not None
        by_connection.setdefault(action.connection, []).append(call)
    for connection, batch in sorted(by_connection.items()):
        if connection not in config.connections:
            answers |= {
                c.delivery: (False, f"no connection named {connection!r}", False) for c in batch
            }
            continue
        connector = build_connector(config, plugins, connection)
        if connector.writes.get(TASK_STREAM) is not Task:
            await connector.aclose()
            said = f"connection {connection!r} ({connector.name}) cannot create tasks"
            answers |= {c.delivery: (False, said, False) for c in batch}
            continue
        changes = [
            Change(
                c.hub_id,
                task_of(c, triggers[c.trigger], refs.get((connection, c.hub_id))),
            )
            for c in batch
        ]
        try:
            results = await connector.write(TASK_STREAM, changes)
        except CrmhubError as exc:
            answers |= {c.delivery: (False, str(exc), True) for c in batch}
            continue
        finally:
            await connector.aclose()
        for call, result in zip(batch, results, strict=True):
            if result.ok:
                answers[call.delivery] = (
                    True,
                    f"created {result.external_id} at {connection}",
                    False,
                )
            else:
                answers[call.delivery] = (False, str(result.error), True)
    return answers
