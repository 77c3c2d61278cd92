"""The comparison's results file: crmhub's earlier first pulls kept beside the latest."""

from __future__ import annotations

from typing import Any

from bench.compare import _keep_rows, _with_history
from bench.report import history_table


def pull_run(cpu: float, *peers: tuple[str, float]) -> dict[str, Any]:
    names = ["crmhub sync, first (SQLite)", *(name for name, _ in peers)]
    cpus = [cpu, *(peer_cpu for _, peer_cpu in peers)]
    rows = [
        {"workload": name, "records": 1000, "seconds": 10.0, "peak_rss_mb": 150.0, "cpu_seconds": c}
        for name, c in zip(names, cpus, strict=True)
    ]
    return {"load_average": [2.0, 1.0, 1.0], "measurements": rows}


def test_a_crmhub_only_run_joins_the_history_and_keeps_the_peers() -> None:
    earlier = pull_run(4.0, ("dlt rest_api -> DuckDB", 2.0)) | {"measured_at": "2026-12-02T15:00"}
    crmhub_only = pull_run(3.0) | {"label": "fixed", "measured_at": "2026-12-02T15:30"}
    after = _with_history(earlier, crmhub_only, with_peers=False)
    assert after["measurements"] == earlier["measurements"]
    assert [run["label"] for run in after["history"]] == ["fixed"]
    rows = history_table(after | {"label": "full run"}).splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == ["| full run", "| fixed"]  # by time
    again = _with_history(after, pull_run(2.5, ("dlt rest_api -> DuckDB", 2.0)), with_peers=True)
    assert again["history"] == after["history"]


def test_a_memory_run_of_one_size_keeps_the_rows_of_the_other_sizes() -> None:
    def row(size: int) -> dict[str, Any]:
        return {"workload": f"crmhub sync, {size:,}", "records": size, "served": size}

    earlier = {"measurements": [row(100_000), row(1_000_000)]}
    now = _keep_rows(earlier, {"measurements": [row(250_000)]})
    assert [m["served"] for m in now["measurements"]] == [100_000, 250_000, 1_000_000]
