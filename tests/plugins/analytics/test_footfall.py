"""Conversion by channel from visits a door counter and web analytics exported as CSV.

The file connector imports the touch points as interactions through the real
engine; the report's conversion table is then checked against a hand count.
"""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import yaml

from hub.config import load_config
from hub.engine.runner import sync
from hub.plugins import load_plugins
from hub.store.database import Store
from tests.plugins.seed import day

VISITS = [
    ("id", "when", "email", "kind", "channel", "visitors"),
    ("V1", "2026-11-05T10:00:00+01:00", "ann@example.com", "web_visit", "web", ""),
    ("V2", "2026-11-03T10:00:00+01:00", "bob@example.com", "web_visit", "web", ""),
    ("V3", "2026-11-04T10:00:00+01:00", "cris@example.com", "web_visit", "web", ""),
    ("V4", "2026-11-04T10:00:00+01:00", "", "store_visit", "madrid", "120"),  # counter, hourly
    ("V5", "2026-11-05T10:00:00+01:00", "", "store_visit", "madrid", "80"),
    ("V6", "2026-11-06T10:00:00+01:00", "", "web_visit", "web", ""),  # not signed in
]


def _write(path: Path, rows: list[tuple[str, ...]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def test_conversion_by_channel_counts_imported_visits_and_the_buyers_after_them(
    store: Store, tmp_path: Path
) -> None:
    _write(
        tmp_path / "people.csv",
        [
            ("id", "email"),
            ("C1", "ann@example.com"),
            ("C2", "bob@example.com"),
            ("C3", "cris@example.com"),
        ],
    )
    _write(
        tmp_path / "orders.csv",
        [
            ("id", "customer", "placed_at", "currency", "total"),
            ("O1", "C1", "2026-11-10T12:00:00+01:00", "EUR", "60.00"),  # after Ann's visit
            ("O2", "C2", "2026-11-01T12:00:00+01:00", "EUR", "30.00"),  # before Bob's
        ],
    )
    _write(tmp_path / "visits.csv", VISITS)
    shop = {
        "connector": "files",
        "direction": "pull",
        "streams": ["customers", "orders", "interactions"],
        "config": {
            "path": "people.csv",
            "columns": {"id": "external_id", "email": "email"},
            "orders": {
                "path": "orders.csv",
                "columns": {
                    "id": "external_id",
                    "customer": "customer_ref",
                    "placed_at": "placed_at",
                    "currency": "currency",
                    "total": "total",
                },
            },
            "interactions": {
                "path": "visits.csv",
                "columns": {
                    "id": "external_id",
                    "when": "occurred_at",
                    "email": "customer_email",
                    "kind": "kind",
                    "channel": "channel",
                    "visitors": "visits",
                },
            },
        },
    }
    path = tmp_path / "crmhub.yaml"
    path.write_text(yaml.safe_dump({"connections": {"shop": shop}}), encoding="utf-8")
    plugins = load_plugins()
    config = load_config(path, plugins)

    results = asyncio.run(sync(store, config, plugins))

    assert all(r.status == "succeeded" for r in results), [r.error for r in results]
    sections = {s.title: s for s in plugins.report_sections(store, config, day("2026-12-01"))}
    conversion = sections["Conversion by channel (footfall to buyers)"].rows
    # web: 4 visits, 3 identified visitors, Ann bought after hers (Bob only before): 1/3.
    # madrid: the counter's 120 + 80 anonymous visits, nobody identified.
    assert conversion == [("madrid", 200, 0, 0, None), ("web", 4, 3, 1, 0.3333)]


def test_a_counter_row_whose_visits_is_not_a_number_goes_to_dead_letters(
    store: Store, tmp_path: Path
) -> None:
    _write(tmp_path / "people.csv", [("id", "email")])
    _write(
        tmp_path / "visits.csv",
        [
            ("id", "when", "visitors"),
            ("V1", "2026-11-04T10:00:00+01:00", "about 40"),
            ("V2", "2026-11-04T11:00:00+01:00", "35"),
        ],
    )
    shop = {
        "connector": "files",
        "direction": "pull",
        "streams": ["interactions"],
        "config": {
            "path": "people.csv",
            "columns": {"id": "external_id", "email": "email"},
            "interactions": {
                "path": "visits.csv",
                "kind": "store_visit",
                "channel": "madrid",
                "columns": {"id": "external_id", "when": "occurred_at", "visitors": "visits"},
            },
        },
    }
    path = tmp_path / "crmhub.yaml"
    path.write_text(yaml.safe_dump({"connections": {"shop": shop}}), encoding="utf-8")
    plugins = load_plugins()
    config = load_config(path, plugins)

    [result] = asyncio.run(sync(store, config, plugins))

    assert result.status == "succeeded" and result.counts["dead_letters"] == 1
    sections = {s.title: s for s in plugins.report_sections(store, config, day("2026-12-01"))}
    assert sections["Conversion by channel (footfall to buyers)"].rows == [
        ("madrid", 35, 0, 0, None)
    ]
