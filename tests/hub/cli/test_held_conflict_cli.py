"""A field edited in two systems at once, as a person meets it: listed, held, then settled."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app


def _write(path: Path, last_name: str, at: str) -> None:
    row = {"external_id": path.stem, "first_name": "Ann", "last_name": last_name}
    path.write_text(json.dumps({**row, "emails": ["ann@example.com"], "updated_at": at}) + "\n")


def _last_name(path: Path) -> str:
    [row] = [json.loads(line) for line in path.read_text().splitlines()]
    return str(row["last_name"])


def test_a_concurrent_edit_waits_for_conflicts_resolve(runner: CliRunner, tmp_path: Path) -> None:
    shop, crm = tmp_path / "shop.jsonl", tmp_path / "crm.jsonl"
    _write(shop, "Lee", "2024-03-01T10:00:00+00:00")
    _write(crm, "Lee", "2024-03-01T10:00:00+00:00")
    config = tmp_path / "crmhub.yaml"
    config.write_text(
        f"store: sqlite:///{tmp_path / 'hub.db'}\n"
        "connections:\n"
        "  shop: {connector: files, direction: both, config: {path: shop.jsonl}}\n"
        "  crm: {connector: files, direction: both, config: {path: crm.jsonl}}\n"
        "merge: {skew: 5m}\n"
    )
    assert runner.invoke(app, ["sync", "-c", str(config)]).exit_code == 0
    _write(shop, "Lee-Ray", "2024-03-02T10:00:00+00:00")
    _write(crm, "Ray", "2024-03-02T10:01:00+00:00")  # a minute apart: inside the skew window
    assert runner.invoke(app, ["sync", "-c", str(config)]).exit_code == 0

    listed = runner.invoke(app, ["conflicts", "list", "-c", str(config)])
    as_json = runner.invoke(app, ["conflicts", "list", "-c", str(config), "--json"])
    [conflict] = json.loads(as_json.output)
    assert (conflict["kind"], conflict["field"]) == ("field", "last_name")
    assert "conflicts are held: no sync writes their field" in listed.output
    assert runner.invoke(app, ["sync", "-c", str(config)]).exit_code == 0
    assert (_last_name(shop), _last_name(crm)) == ("Lee-Ray", "Ray")

    resolved = runner.invoke(
        app, ["conflicts", "resolve", str(conflict["id"]), "--take", "shop", "-c", str(config)]
    )
    assert resolved.exit_code == 0, resolved.output
    assert runner.invoke(app, ["sync", "-c", str(config)]).exit_code == 0
    assert (_last_name(shop), _last_name(crm)) == ("Lee-Ray", "Lee-Ray")
