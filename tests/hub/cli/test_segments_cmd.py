"""`crmhub segments ...`, `crmhub triggers history` and `crmhub report` over a real store."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.store.database import Store, open_store
from tests.plugins.seed import customer, order

SUBSCRIBED = {"email": {"status": "subscribed", "recorded_at": "2025-01-01T00:00:00+00:00"}}
CONFIG = """\
store: sqlite:///hub.db
connections:
  mail: {connector: files, config: {path: out.jsonl}, direction: push}
segments:
  lapsed:
    channel: email
    push_to: [mail]
    rules:
      - {field: last_order_at, older_than: 730d}
triggers:
  big_spender:
    event: order_over
    amount: 100
    within: 30d
    segment: big-spenders
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "crmhub.yaml"
    path.write_text(CONFIG)
    store: Store = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
    customer(store, "ann", emails=["ann@example.com"], consents=SUBSCRIBED)
    customer(store, "bob", emails=["bob@example.com"])
    order(store, "ann", "2023-01-05", "40")
    order(store, "bob", "2026-11-28", "180")
    store.close()
    return path


def _run(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_evaluate_then_list_show_and_history(runner: CliRunner, config: Path) -> None:
    c = ["-c", str(config)]
    counts = json.loads(_run(runner, "segments", "evaluate", *c, "--json", "--as-of", "2026-12-01"))
    assert counts["segments"]["joined"] == 1 and counts["triggers"]["fired"] == 1
    listed = json.loads(_run(runner, "segments", "list", *c, "--json"))
    assert {(s["segment"], s["members"]) for s in listed} == {("lapsed", 1), ("big-spenders", 1)}
    shown = json.loads(_run(runner, "segments", "show", "lapsed", *c, "--json"))
    assert [m["email"] for m in shown] == ["ann@example.com"]
    fired = json.loads(_run(runner, "triggers", "history", *c, "--json"))
    assert [(f["trigger"], f["hub_id"]) for f in fired] == [("big_spender", "bob")]


def test_show_of_an_unknown_segment_names_the_defined_ones(runner: CliRunner, config: Path) -> None:
    result = runner.invoke(app, ["segments", "show", "lapsd", "-c", str(config)])
    assert result.exit_code == 1
    assert "no segment named 'lapsd'" in result.output and "lapsed" in result.output


def test_report_prints_kpis_and_writes_a_self_contained_html_file(
    runner: CliRunner, config: Path, tmp_path: Path
) -> None:
    c = ["-c", str(config)]
    _run(runner, "segments", "evaluate", *c, "--as-of", "2026-12-01")
    out = tmp_path / "report.html"
    sections = json.loads(_run(runner, "report", *c, "--json", "--html", str(out)))
    titles = [s["title"] for s in sections]
    assert titles[0] == "Portfolio KPIs" and "Segment sizes" in titles
    kpis = dict(sections[0]["rows"])
    assert (kpis["customers"], kpis["revenue"]) == (2, "220.00")
    page = out.read_text()
    charts = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(charts) == 4  # RFM grid, CLV distribution, cohorts, acquisition
    for chart in charts:
        ElementTree.fromstring(chart)  # well-formed, or a browser shows nothing
    assert not re.search(r"<script|<link|src=|url\(", page), "the report must need nothing else"
    assert "Revenue by acquisition channel" in page
