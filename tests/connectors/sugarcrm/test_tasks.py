"""Tasks for the call centre, written to the Sugar sandbox's Tasks module."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from connectors.sugarcrm.sandbox import SugarSandbox
from connectors.sugarcrm.tasks import task_to_sugar
from hub.connector import Change
from hub.http import VirtualClock
from hub.model import Customer, Task
from tests.connectors.sugarcrm.test_kit import sugar_connector

TASK = Task(
    key="k1",
    subject="Bike service reminder: call the customer to book the 6-month check",
    description="crmhub trigger service: purchase_followup (purchase:o1)",
    due_at=datetime(2026, 12, 3, 9, 30, 15, 123, tzinfo=UTC),
    priority="low",
    customer_ref="c-1",
    customer=Customer(first_name="Ana", emails=["ana@example.es"], phones=["+34612345678"]),
)


def test_a_task_maps_to_sugar_fields_with_the_contact_as_parent() -> None:
    assert task_to_sugar(TASK) == {
        "name": "Bike service reminder: call the customer to book t",  # 50: Sugar's limit
        "status": "Not Started",
        "priority": "Low",
        "date_due": "2026-12-03T09:30:15+00:00",
        "description": "Customer: Ana\nE-mail: ana@example.es\nPhone: +34612345678\n"
        "crmhub trigger service: purchase_followup (purchase:o1)",
        "parent_type": "Contacts",
        "parent_id": "c-1",
        "contact_id": "c-1",
    }


def test_a_task_without_a_known_contact_has_no_parent() -> None:
    body = task_to_sugar(TASK.model_copy(update={"customer_ref": None, "customer": None}))
    assert "parent_id" not in body and body["description"] == TASK.description


def test_a_task_resent_lands_on_the_same_sugar_task_and_a_plain_create_posts() -> None:
    sandbox = SugarSandbox(clock=VirtualClock())

    async def write(**options: object) -> list[str | None]:
        connector = sugar_connector(sandbox, **options)
        try:
            results = await connector.write("tasks", [Change("h1", TASK)])
        finally:
            await connector.aclose()
        return [r.external_id for r in results]

    first = asyncio.run(write())
    again = asyncio.run(write())
    assert first == again and list(sandbox.modules["Tasks"]) == first
    posted = asyncio.run(write(upsert_by_sync_key=False))
    assert len(sandbox.modules["Tasks"]) == 2 and posted[0] in sandbox.modules["Tasks"]
