"""One measured process: its wall time, its own CPU time and peak RSS, and what it printed.

Every loader of the comparison runs in a fresh process so that these figures
are its own and nothing of an earlier loader (imports, caches, heap) counts.
CPU time (user + system, from ``wait4``) is kept beside wall time because the
benchmark machine is shared: on a busy machine wall time is mostly waiting,
CPU time is the work.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Measurement", "measure", "sample_sync"]

Sample = dict[str, Any]


@dataclass
class Measurement:
    workload: str
    records: int
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # what the run reported, if it does

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def cpu_rate(self) -> float:
        return self.records / self.cpu_seconds if self.cpu_seconds else 0.0


def measure(
    workload: str,
    command: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    watch: Callable[[int], Sample] | None = None,
    every: float = 30.0,
) -> tuple[Measurement, str]:
    """Run ``command`` in a fresh process; its wall and CPU time, its peak RSS and its stdout.

    With ``watch``, ``watch(pid)`` is also recorded every ``every`` seconds
    while it runs (see :func:`sample_sync`).
    """
    started = time.perf_counter()
    samples: list[Sample] = []
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True, env=env)
        due = started + every
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG if watch else 0)
            if pid:
                break
            if watch is not None and time.perf_counter() >= due:
                samples.append(watch(process.pid) | {"at": round(time.perf_counter() - started)})
                due += every
            time.sleep(0.5)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{workload}: {' '.join(command)} failed:\n{err.read()[-2000:]}")
        out.seek(0)
        output = out.read()
    cpu = usage.ru_utime + usage.ru_stime
    measurement = Measurement(
        workload, 0, round(seconds, 2), round(usage.ru_maxrss / 1024, 1), round(cpu, 2), samples
    )
    return measurement, output


def sample_sync(database: Path) -> Callable[[int], Sample]:
    """A ``watch`` for a running ``crmhub sync``: customers stored so far, its RSS and CPU.

    Read from /proc (Linux) and from the SQLite store, which another reader
    may open while the sync writes (WAL). It shows whether memory grows with
    the records synced, within one run.
    """

    def sample(pid: int) -> Sample:
        status = Path(f"/proc/{pid}/status").read_text()
        kb = {
            line.split(":")[0]: int(line.split()[1])
            for line in status.splitlines()
            if line.startswith(("VmRSS", "VmHWM"))
        }
        ticks = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13]
        try:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
                stored = int(db.execute("SELECT count(*) FROM customer").fetchone()[0])
        except sqlite3.Error:
            stored = 0  # the store is not made yet
        return {
            "records": stored,
            "rss_mb": round(kb.get("VmRSS", 0) / 1024, 1),
            "peak_rss_mb": round(kb.get("VmHWM", 0) / 1024, 1),
            "cpu_seconds": round(sum(int(t) for t in ticks) / os.sysconf("SC_CLK_TCK"), 1),
        }

    return sample
