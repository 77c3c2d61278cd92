"""`crmhub status` for people and scripts: healthy connections exit 0, a failed last run exits 1."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app


def _config(tmp_path: Path, sheet: str) -> Path:
    config = tmp_path / "crmhub.yaml"
    config.write_text(
        f"store: sqlite:///{tmp_path / 'hub.db'}\n"
        "connections:\n"
        "  sheet:\n"
        "    connector: files\n"
        "    streams: [customers]\n"
        f"    config: {{path: {sheet}, columns: {{id: external_id, mail: email}}}}\n"
    )
    return config


def test_status_shows_a_healthy_sync_then_exits_1_after_a_failed_one(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("id,mail\n1,ann@example.com\n2,bob@@example.com\n")
    runner = CliRunner()
    config = _config(tmp_path, "people.csv")
    assert runner.invoke(app, ["sync", "-c", str(config)]).exit_code == 0

    healthy = runner.invoke(app, ["status", "-c", str(config), "--json"])
    assert healthy.exit_code == 0, healthy.output
    [sheet] = json.loads(healthy.stdout)["connections"]
    assert (sheet["last_status"], sheet["dead_letters"], sheet["healthy"]) == ("succeeded", 1, True)
    assert sheet["lag_seconds"] is not None and sheet["lag_seconds"] >= 0

    (tmp_path / "people.csv").unlink()  # the export the sheet is read from went missing
    runner.invoke(app, ["sync", "-c", str(config)])
    failed = runner.invoke(app, ["status", "-c", str(config)])
    assert failed.exit_code == 1
    assert "failed" in failed.output and "sheet" in failed.output
