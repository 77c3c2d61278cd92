"""The analytics plugin arrives through its entry point and works through the hooks."""

from __future__ import annotations

from hub.config import HubConfig
from hub.plugins import load_plugins
from hub.store.database import Store
from tests.plugins.seed import customer, day, interaction, order


def test_analytics_is_registered_through_the_crmhub_plugins_entry_point() -> None:
    plugins = load_plugins()
    assert plugins.manager.has_plugin("analytics")
    assert not plugins.failures


def test_refresh_hook_stores_metrics_and_report_hook_reads_them(store: Store) -> None:
    customer(store, "A")
    customer(store, "B")
    order(store, "A", "2026-11-01", "80")
    interaction(store, "A", "web_visit", "2026-10-30", channel="web")
    interaction(store, "B", "web_visit", "2026-10-30", channel="web")
    interaction(store, None, "web_visit", "2026-10-30", channel="web")
    plugins, config, as_of = load_plugins(), HubConfig(), day("2026-12-01")

    results = plugins.refresh(store, config, as_of)

    assert results[0].plugin == "analytics"
    assert results[0].counts["customers"] == 2
    sections = {s.title: s for s in plugins.report_sections(store, config, as_of)}
    kpis = dict(sections["Portfolio KPIs"].rows)
    assert kpis["customers"] == 2 and str(kpis["ARPU (revenue per customer)"]) == "40.00"
    assert str(kpis["average historical CLV"]) == "80.00"  # A's 80, no costs; B bought nothing
    conversion = sections["Conversion by channel (footfall to buyers)"].rows
    assert conversion == [("web", 3, 2, 1, 0.5)]
    assert all(s.chart is None or s.chart.startswith("<svg") for s in sections.values())
