"""A first sync's differences, as a person sees them: the sync says so, conflicts list them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app


def test_the_first_sync_of_a_connection_reports_what_differs(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "shop.jsonl").write_text(
        json.dumps({"external_id": "s1", "first_name": "Ann", "emails": ["ann@example.com"]}) + "\n"
    )
    crm = {"external_id": "c1", "first_name": "ANN", "emails": ["ann@example.com"]}
    crm["updated_at"] = "2020-01-01T00:00:00+00:00"  # older: the hub keeps the shop's spelling
    (tmp_path / "crm.jsonl").write_text(json.dumps(crm) + "\n")
    config = tmp_path / "crmhub.yaml"
    config.write_text(
        f"store: sqlite:///{tmp_path / 'hub.db'}\n"
        "connections:\n"
        "  shop: {connector: files, direction: both, config: {path: shop.jsonl}}\n"
        "  crm:\n"
        "    connector: files\n"
        "    direction: both\n"
        "    config: {path: crm.jsonl}\n"
        "    initial_sync: {prefer: review}\n"
    )
    synced = runner.invoke(app, ["sync", "-c", str(config)])
    assert synced.exit_code == 0, synced.output
    assert "first sync of crm/customers: it holds 1 value(s) that differ" in synced.output
    assert "crmhub conflicts list --kind initial" in synced.output
    listed = runner.invoke(
        app, ["conflicts", "list", "-c", str(config), "--kind", "initial", "--json"]
    )
    [difference] = json.loads(listed.output)
    assert (difference["field"], difference["status"]) == ("first_name", "open")
    assert difference["candidates"]["other"] == {"value": "ANN", "source": "crm"}
    [row] = [json.loads(line) for line in (tmp_path / "crm.jsonl").read_text().splitlines()]
    assert row["first_name"] == "ANN"  # held for review: not overwritten
