"""Tasks for the call centre: the hub's ``Task`` as a Sugar Tasks record, and its write.

A Sugar task (module ``Tasks``) has a ``name`` (a varchar of 50), a
``description``, a ``status`` from the ``task_status_dom`` list (``Not
Started`` for a new one), a ``priority`` from ``task_priority_dom`` (``High``,
``Medium``, ``Low``), ``date_due`` as ISO 8601 with a UTC offset like every
Sugar datetime, and the record it is about as ``parent_type``/``parent_id``;
a task about a contact also sets ``contact_id`` so it shows under the
contact's activities. The material in shared/vendor/sugarcrm lists the
module CRUD endpoints but no Tasks fields; these follow Sugar's public
Tasks module reference.

Like contacts, a task is created with ``PATCH /Tasks/sync_key/<key>`` (Sugar
11.2+), so a create resent after a timeout lands on the same task; with
``upsert_by_sync_key: false`` it is a plain ``POST /Tasks``.
"""

from __future__ import annotations

from hub.model import Customer, Task

__all__ = ["TASKS", "customer_lines", "task_to_sugar"]

TASKS = "Tasks"
_NAME_LENGTH = 50


def task_to_sugar(task: Task) -> dict[str, str]:
    body = {
        "name": task.subject[:_NAME_LENGTH],
        "status": "Not Started",
        "priority": task.priority.title(),
        "description": "\n".join(
            [*customer_lines(task.customer), *([task.description] if task.description else [])]
        ),
    }
    if task.due_at is not None:
        body["date_due"] = task.due_at.replace(microsecond=0).isoformat()
    if task.customer_ref:
        body |= {"parent_type": "Contacts", "parent_id": task.customer_ref}
        body["contact_id"] = task.customer_ref
    return body


def customer_lines(customer: Customer | None) -> list[str]:
    """Who to call, for the person reading the task: name, e-mail, phone."""
    if customer is None:
        return []
    name = " ".join(p for p in (customer.first_name, customer.last_name) if p)
    lines = [f"Customer: {name}"] if name else []
    if customer.primary_email:
        lines.append(f"E-mail: {customer.primary_email}")
    if customer.phones:
        lines.append(f"Phone: {customer.phones[0]}")
    return lines
