"""Metrics, segments and triggers follow a sync by themselves, when the config says so."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from hub.config import HubConfig
from hub.engine.runner import sync
from hub.plugins import load_plugins
from hub.store.database import Store
from hub.store.tables import CustomerMetrics, HubSetting, SegmentMember
from plugins.analytics.auto import LAST_REFRESH

BUYERS = {"rules": [{"field": "frequency", "above": 0}]}


def _files(tmp_path: Path, orders: list[tuple[str, str]]) -> dict[str, Any]:
    with (tmp_path / "people.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(
            [["id", "email"], ["C1", "ann@example.com"], ["C2", "bob@example.com"]]
        )
    with (tmp_path / "orders.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "email", "placed_at", "currency", "total"])
        writer.writerows(
            [order_id, email, "2026-11-02T10:00:00+00:00", "EUR", "25.00"]
            for order_id, email in orders
        )
    return {
        "connector": "files",
        "direction": "pull",
        "streams": ["customers", "orders"],
        "config": {
            "path": str(tmp_path / "people.csv"),
            "columns": {"id": "external_id", "email": "email"},
            "orders": {
                "path": str(tmp_path / "orders.csv"),
                "columns": {
                    "id": "external_id",
                    "email": "customer_email",
                    "placed_at": "placed_at",
                    "currency": "currency",
                    "total": "total",
                },
            },
        },
    }


PLUGINS = load_plugins()


def _config(data: dict[str, Any]) -> HubConfig:
    return HubConfig.model_validate(data, context={"plugins": PLUGINS})


def _sync(store: Store, config: HubConfig) -> None:
    results = asyncio.run(sync(store, config, PLUGINS))
    assert all(r.status == "succeeded" for r in results), [r.error for r in results]


def _members(store: Store) -> set[str]:
    with store.session() as session:
        return set(session.exec(select(SegmentMember.hub_id)).all())


def _last_refresh(store: Store) -> str | None:
    with store.session() as session:
        setting = session.get(HubSetting, LAST_REFRESH)
        return None if setting is None else setting.value


def test_a_config_with_segments_refreshes_them_after_each_pull_that_changed_something(
    store: Store, tmp_path: Path
) -> None:
    shop = _files(tmp_path, [("O1", "ann@example.com")])
    config = _config({"connections": {"shop": shop}, "segments": {"buyers": BUYERS}})

    _sync(store, config)
    assert len(_members(store)) == 1  # Ann bought, Bob did not
    first = _last_refresh(store)
    assert first is not None

    _sync(store, config)  # nothing changed, and a refresh ran less than a day ago
    assert _last_refresh(store) == first

    _files(tmp_path, [("O1", "ann@example.com"), ("O2", "bob@example.com")])
    _sync(store, config)
    assert len(_members(store)) == 2
    assert _last_refresh(store) != first


def test_a_pull_that_changed_nothing_refreshes_once_the_last_refresh_is_old(
    store: Store, tmp_path: Path
) -> None:
    shop = _files(tmp_path, [("O1", "ann@example.com")])
    config = _config(
        {
            "connections": {"shop": shop},
            "segments": {"buyers": BUYERS},
            "analytics": {"refresh_every": "0s"},
        }
    )
    _sync(store, config)
    first = _last_refresh(store)

    _sync(store, config)

    assert _last_refresh(store) not in (None, first)


def test_the_switch_turns_refreshing_after_a_sync_off(store: Store, tmp_path: Path) -> None:
    shop = _files(tmp_path, [("O1", "ann@example.com")])
    config = _config(
        {
            "connections": {"shop": shop},
            "segments": {"buyers": BUYERS},
            "analytics": {"refresh_after_sync": False},
        }
    )

    _sync(store, config)

    assert _members(store) == set() and _last_refresh(store) is None


def test_without_segments_or_triggers_a_sync_computes_nothing_unless_switched_on(
    store: Store, tmp_path: Path
) -> None:
    shop = _files(tmp_path, [("O1", "ann@example.com")])
    _sync(store, _config({"connections": {"shop": shop}}))
    with store.session() as session:
        assert session.exec(select(func.count()).select_from(CustomerMetrics)).one() == 0

    config = {"connections": {"shop": shop}, "analytics": {"refresh_after_sync": True}}
    _files(tmp_path, [("O1", "ann@example.com"), ("O2", "bob@example.com")])
    _sync(store, _config(config))
    with store.session() as session:
        assert session.exec(select(func.count()).select_from(CustomerMetrics)).one() == 2
