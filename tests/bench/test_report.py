"""Rendering the comparison's results: tables, blocks between markers, reproduce commands."""

from __future__ import annotations

from typing import Any

from bench.report import render_block, replace_block, table


def _m(workload: str, records: int, seconds: float, **extra: Any) -> dict[str, Any]:
    return {
        "workload": workload,
        "records": records,
        "seconds": seconds,
        "peak_rss_mb": 150.0,
        "cpu_seconds": seconds / 2,
    } | extra


def _result() -> dict[str, Any]:
    pull = {
        "customers": 1000,
        "measurements": [
            _m("crmhub sync, first (SQLite)", 1000, 10.0),
            _m("crmhub sync, 1% changed", 10, 0.5),
            _m("dlt rest_api -> DuckDB", 1000, 5.0),
        ],
        "load_average": [6.5, 4.0, 2.0],
    }
    return {
        "date": "2026-12-02",
        "host": "vm",
        "cpus": 2,
        "python": "3.11.7",
        "versions": {"crmhub": "0.1.0", "dlt": "1.31.0"},
        "workloads": {"pull": pull},
    }


def test_the_pull_table_gives_crmhubs_speed_relative_to_each_peer_by_wall_and_cpu() -> None:
    workload = _result()["workloads"]["pull"]
    workload["measurements"][2]["cpu_seconds"] = 1.25
    rows = table("pull", workload).splitlines()
    changed = "| crmhub sync, 1% changed | 10 | 0.5 | 0.2 | 20 | 40 | 150 MB | 5.0% of the first"
    assert rows[3].startswith(changed)
    # crmhub: 100 records/s of wall time, 200 per CPU second; DuckDB: 200 and 800
    assert rows[4].endswith("| 0.50x | 0.25x |")


def test_a_block_names_the_versions_the_shared_machine_and_the_command() -> None:
    block = render_block("pull", _result())
    assert block.startswith("<!-- compare:pull:start -->\n") and block.endswith("pull:end -->")
    assert "dlt 1.31.0" in block and "load average 6.5 at the start on 2 cores" in block
    assert "Reproduce: `python -m bench.compare --only pull --customers 1000`" in block


def test_a_block_is_replaced_in_place_and_the_rest_of_the_page_kept() -> None:
    page = "intro\n<!-- compare:pull:start -->\nold\n<!-- compare:pull:end -->\noutro\n"
    new = "<!-- compare:pull:start -->\nnew\n<!-- compare:pull:end -->"
    assert replace_block(page, "pull", new) == f"intro\n{new}\noutro\n"


def test_a_missing_block_is_appended_under_its_heading() -> None:
    block = "<!-- compare:push:start -->\nx\n<!-- compare:push:end -->"
    page = replace_block("# Performance\n", "push", block)
    heading = "### Push: Mailchimp member upserts, single calls and batch operations"
    assert page == f"# Performance\n\n{heading}\n\n{block}\n"


def test_the_rate_table_reports_share_and_throttles_per_run() -> None:
    run = {
        "customers": 3000,
        "page_size": 10,
        "bucket": {"maximum": 2000, "restore_rate": 100},
        "how": "sync",
        "run": {"workload": "crmhub sync", "seconds": 150.0, "cpu_seconds": 12.0},
        "budget": {
            "requests": 300,
            "throttled": 1,
            "throttles_per_10k": 33.3,
            "seconds": 140.0,
            "charged": 15000,
            "allowed": 16000,
            "share_used": 0.9375,
        },
    }
    text = table("rate", {"runs": [run]})
    assert (
        "| 3,000 | 10 | 300 | 1 | 33.3 | 140.0 | 15,000 | 16,000 | 93.8% | 150.0 | 12.0 |" in text
    )
    assert "Bucket: 2,000 points, restoring 100 a second." in text


def test_the_memory_table_shows_the_rss_curve_of_the_largest_run_sampled() -> None:
    samples = [
        {"records": n * 1000, "cpu_seconds": n, "rss_mb": 150.0 + n, "peak_rss_mb": 160.0}
        for n in range(1, 21)
    ]
    memory = {
        "measurements": [
            _m("crmhub sync, 1,000", 1000, 10.0),
            _m("crmhub sync, 20,000", 20_000, 100.0, samples=samples),
        ]
    }
    text = table("memory", memory)
    assert "During the 20,000-customer sync, sampled every minute:" in text
    curve = [line for line in text.splitlines() if line.endswith("| 160 MB |")]
    assert len(curve) == 8  # evenly picked from 20
    assert curve[0].startswith("| 1,000 |") and curve[-1].startswith("| 20,000 |")


def test_a_stopped_run_says_how_far_it_got() -> None:
    stopped = _m("crmhub sync, 1,000,000", 400_000, 3000.0, target=1_000_000)
    result = _result() | {"workloads": {"memory": {"measurements": [stopped]}}}
    block = render_block("memory", result)
    assert "| 400,000 of 1,000,000 (stopped) |" in block
    assert "--only memory --memory-sizes 1000000`" in block


def test_a_run_that_stored_fewer_customers_than_served_says_so() -> None:
    short = _m("crmhub sync, 1,000,000", 900_000, 3000.0, served=1_000_000)
    assert "| 900,000 stored of 1,000,000 served |" in table("memory", {"measurements": [short]})


def test_the_memory_table_says_where_the_served_contacts_went() -> None:
    counts = {"read": 1_000_000, "created": 900_000, "merged": 0, "dead_letters": 100_000}
    short = _m("crmhub sync, 1,000,000", 900_000, 3000.0, served=1_000_000, counts=counts)
    rows = table("memory", {"measurements": [short]}).splitlines()
    assert rows[0].endswith("| read | created | merged | dead letters |")
    assert rows[2].endswith("| 1,000,000 | 900,000 | 0 | 100,000 |")


def pull_run(cpu: float, *peers: tuple[str, float], load: float = 2.0) -> dict[str, Any]:
    rows = [_m("crmhub sync, first (SQLite)", 1000, 10.0, cpu_seconds=cpu)]
    rows += [_m("crmhub sync, 1% changed", 10, 1.0, cpu_seconds=cpu / 20)]
    rows += [_m(name, 1000, 5.0, cpu_seconds=peer_cpu) for name, peer_cpu in peers]
    return {"load_average": [load, 1.0, 1.0], "measurements": rows}


def test_crmhub_before_and_after_are_each_compared_with_the_peers_of_their_own_run() -> None:
    before = pull_run(4.0, ("dlt rest_api -> DuckDB", 2.0), load=9.0) | {"label": "before"}
    now = pull_run(2.0, ("dlt rest_api -> DuckDB", 4.0), ("raw: + executemany", 0.5))
    text = table("pull", {"customers": 1000, **now, "history": [before]})
    rows = [line for line in text.splitlines() if line.startswith(("| before", "| this run"))]
    # before: 250 records per CPU s against DuckDB's 500, that run's own; after: 500 vs 250
    assert rows[0].startswith("| before | 9.0 | 10.0 | 4.0 | 250 | 150 MB | 5.0% |")
    assert "| - | 0.50x (0.50x) | - | - |" in rows[0]
    assert rows[1].endswith("| - | 2.00x (0.50x) | - | 0.25x (0.50x) |")
