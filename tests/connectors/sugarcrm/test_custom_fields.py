"""Recommendations reach a Sugar contact's custom field for the call centre, and stay put.

The Sugar sandbox runs on loopback; contacts are pulled, orders seeded in the
hub, and every sync refreshes the analytics after its pulls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from sqlmodel import select

from connectors.sugarcrm.config import SugarConfig
from connectors.sugarcrm.sandbox import SugarSandbox
from hub.config import HubConfig, load_config
from hub.engine.runner import sync
from hub.plugins import load_plugins
from hub.store.database import Store
from hub.store.tables import CustomerRow
from hub.testing.serve import running
from tests.plugins.seed import order

BASKETS = {  # (category, quantity, price, cost); the seeded item is "<category> item"
    "ann": [("tent", 1, "100", None), ("stove", 1, "40", None)],
    "bob": [("tent", 1, "100", None), ("stove", 1, "40", None)],
    "cat": [("tent", 1, "100", None)],
    "dan": [("socks", 1, "10", None)],
}


@pytest.fixture
def sugar(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SugarSandbox, str]]:
    sandbox = SugarSandbox()
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    with running(sandbox) as url:
        yield sandbox, url


def _config(tmp_path: Path, url: str, sandbox: SugarSandbox) -> HubConfig:
    crm = {
        "connector": "sugarcrm",
        "direction": "both",
        "streams": ["customers"],
        "config": {
            **sandbox.config_for(url),
            "custom_fields": {"crmhub_next_product_c": "recommendations.next_best_product"},
        },
    }
    config = {
        "connections": {"crm": crm},
        "analytics": {"refresh_after_sync": True, "refresh_every": "0s", "min_support": 0.3},
    }
    path = tmp_path / "crmhub.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return load_config(path, load_plugins())


def test_the_next_best_product_reaches_the_contact_and_a_second_sync_writes_nothing(
    store: Store, tmp_path: Path, sugar: tuple[SugarSandbox, str]
) -> None:
    sandbox, url = sugar
    contacts = {
        name: sandbox.add(
            "customers",
            {
                "first_name": name.title(),
                "email": [{"email_address": f"{name}@example.com", "primary_address": True}],
            },
        )["id"]
        for name in BASKETS
    }
    config, plugins = _config(tmp_path, url, sandbox), load_plugins()

    def run() -> None:
        results = asyncio.run(sync(store, config, plugins))
        assert all(r.status == "succeeded" for r in results), [r.error for r in results]

    run()
    with store.session() as session:
        hub_ids = {
            str(row.primary_email).split("@")[0]: row.hub_id
            for row in session.exec(select(CustomerRow))
        }
    for name, lines in BASKETS.items():
        order(store, hub_ids[name], "2026-11-01", "100", lines=lines)

    run()  # the refresh finds cat's cross-sell; the same pass pushes it
    held = sandbox.records("customers")
    assert held[contacts["cat"]]["crmhub_next_product_c"] == "stove item"
    assert not held[contacts["ann"]].get("crmhub_next_product_c")  # ann has it all already
    modified = {key: record["date_modified"] for key, record in held.items()}

    run()
    run()
    assert {k: r["date_modified"] for k, r in sandbox.records("customers").items()} == modified


def test_a_custom_field_must_be_a_studio_field_holding_a_recommendation() -> None:
    base = {"base_url": "https://acme.example.com", "username": "hub", "password": "x"}
    with pytest.raises(ValidationError, match="end in _c"):
        SugarConfig.model_validate(
            base | {"custom_fields": {"next_product": "recommendations.up_sell"}}
        )
    with pytest.raises(ValidationError, match="is not one of"):
        SugarConfig.model_validate(base | {"custom_fields": {"nbp_c": "first_name"}})
