"""A measured process: its own CPU time and peak RSS, samples while it runs, failures told."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from bench.measure import measure, sample_sync

BUSY = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"


def test_cpu_time_and_peak_rss_are_the_child_process_own() -> None:
    grow = "block = bytearray(80 * 2**20); block[::4096] = b'x' * len(block[::4096])\n"
    measurement, output = measure("busy", [sys.executable, "-c", BUSY + grow + "print('done')"])
    assert output == "done\n"
    assert measurement.cpu_seconds >= 0.3
    assert measurement.peak_rss_mb >= 80
    assert measurement.seconds >= measurement.cpu_seconds * 0.5


def test_a_failing_command_stops_the_benchmark_with_its_error() -> None:
    with pytest.raises(SystemExit, match="ZeroDivisionError"):
        measure("broken", [sys.executable, "-c", "1 / 0"])


def test_a_watched_process_is_sampled_while_it_runs(tmp_path: Path) -> None:
    database = tmp_path / "crmhub.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE customer (hub_id TEXT)")
        db.executemany("INSERT INTO customer VALUES (?)", [("a",), ("b",)])
    slow = "import time; time.sleep(2.5)"
    measurement, _ = measure(
        "slow", [sys.executable, "-c", slow], watch=sample_sync(database), every=1
    )
    assert measurement.samples
    assert {s["records"] for s in measurement.samples} == {2}
    assert all(s["rss_mb"] > 0 and s["peak_rss_mb"] >= s["rss_mb"] for s in measurement.samples)
