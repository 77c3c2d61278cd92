"""One measured process: its wall time, its own CPU time and peak RSS, and what it printed.

Every loader of the comparison runs in a fresh process so that these figures
are its own and nothing of an earlier loader (imports, caches, heap) counts.
CPU time (user + system, from ``wait4``) is kept beside wall time because the
benchmark machine is shared: on a busy machine wall time is mostly waiting,
CPU time is the work.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Measurement", "measure"]


@dataclass
class Measurement:
    workload: str
    records: int
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def cpu_rate(self) -> float:
        return self.records / self.cpu_seconds if self.cpu_seconds else 0.0


def measure(
    workload: str, command: Sequence[str], *, env: dict[str, str] | None = None
) -> tuple[Measurement, str]:
    """Run ``command`` in a fresh process; its wall and CPU time, its peak RSS and its stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{workload}: {' '.join(command)} failed:\n{err.read()[-2000:]}")
        out.seek(0)
        output = out.read()
    cpu = usage.ru_utime + usage.ru_stime
    measurement = Measurement(
        workload, 0, round(seconds, 2), round(usage.ru_maxrss / 1024, 1), round(cpu, 2)
    )
    return measurement, output
