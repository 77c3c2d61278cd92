"""A trigger's task action: a task for the call centre lands in SugarCRM, once per firing.

The Sugar sandbox runs on loopback; the contact is pulled by a real sync, so
the task is linked to it through the hub's own link table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from connectors.sugarcrm.sandbox import SugarSandbox
from hub.config import HubConfig, load_config
from hub.engine.runner import sync
from hub.plugins import load_plugins
from hub.store.database import Store
from hub.store.tables import CustomerRow, TriggerFiring
from hub.testing.serve import running
from tests.plugins.seed import customer, day, order

AS_OF = day("2026-12-01")


@pytest.fixture
def sugar(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SugarSandbox, str]]:
    sandbox = SugarSandbox()
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    with running(sandbox) as url:
        yield sandbox, url


def _config(tmp_path: Path, url: str, sandbox: SugarSandbox, connection: str = "crm") -> HubConfig:
    config = {
        "connections": {
            "crm": {
                "connector": "sugarcrm",
                "direction": "both",
                "streams": ["customers"],
                "config": sandbox.config_for(url),
            }
        },
        "triggers": {
            "big-order": {
                "event": "order_over",
                "amount": 500,
                "task": {
                    "connection": connection,
                    "subject": "Call to thank for a big order",
                    "due_in": "2d",
                    "priority": "high",
                },
            }
        },
    }
    path = tmp_path / "crmhub.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return load_config(path, load_plugins())


def _ann(store: Store) -> str:
    with store.session() as session:
        row = session.exec(
            select(CustomerRow).where(CustomerRow.primary_email == "ann@example.com")
        ).one()
    return row.hub_id


def test_a_firing_creates_one_task_on_the_contact_and_records_it(
    store: Store, tmp_path: Path, sugar: tuple[SugarSandbox, str]
) -> None:
    sandbox, url = sugar
    contact = sandbox.add(
        "customers",
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "phone_mobile": "+34612345678",
            "email": [{"email_address": "ann@example.com", "primary_address": True}],
        },
    )
    config = _config(tmp_path, url, sandbox)
    plugins = load_plugins()
    asyncio.run(sync(store, config, plugins, phases=("pull",)))
    order(store, _ann(store), "2026-11-30", "800")

    plugins.refresh(store, config, AS_OF)
    plugins.refresh(store, config, AS_OF + timedelta(days=1))  # a restart, a later refresh

    [task] = sandbox.modules["Tasks"].values()
    assert task["name"] == "Call to thank for a big order"
    assert task["parent_type"] == "Contacts" and task["parent_id"] == contact["id"]
    assert task["contact_id"] == contact["id"]
    assert (task["status"], task["priority"]) == ("Not Started", "High")
    assert task["date_due"] == "2026-12-03T00:00:00+00:00"
    assert "Ann Lee" in task["description"] and "+34612345678" in task["description"]
    with store.session() as session:
        [firing] = session.exec(select(TriggerFiring)).all()
    assert not firing.pending and firing.action == "task:crm"
    assert firing.result == f"task: created {task['id']} at crm"


def test_a_connection_that_cannot_take_tasks_is_given_up_at_once(
    store: Store, tmp_path: Path, sugar: tuple[SugarSandbox, str]
) -> None:
    sandbox, url = sugar
    (tmp_path / "people.csv").write_text("id,email\nC1,bob@example.com\n", encoding="utf-8")
    config = _config(tmp_path, url, sandbox)
    config.triggers["big-order"].task.connection = "sheet"  # type: ignore[union-attr]
    config.connections["sheet"] = config.connections["crm"].model_copy(
        update={"connector": "files"}
    )
    customer(store, "bob")
    order(store, "bob", "2026-11-30", "800")

    load_plugins().refresh(store, config, AS_OF)

    with store.session() as session:
        [firing] = session.exec(select(TriggerFiring)).all()
    assert not firing.pending and firing.attempts == 1
    assert firing.result == (
        "task: gave up after 1 attempts: connection 'sheet' (files) cannot create tasks"
    )
    assert sandbox.modules["Tasks"] == {}
