"""Pull throughput, memory and re-sync cost, through the real engine path.

    python -m bench.pull --customers 100000
    python -m bench.pull --customers 1000000 --json

An in-memory connector serves synthetic shop customers in pages of 250:
Faker people from :mod:`hub.testing.fake`, made unique by number, as a shop's
API would send them (mixed-case e-mail, E.164 phone, address, consent, tags).
Every record goes through ``to_canonical`` and the canonical model's
validation (email-validator, phonenumbers, pycountry), identity resolution,
the merge and the batched writes into a SQLite file, via ``pull_stream`` like
a real sync.

Three pulls are timed:

1. the first, full pull into an empty store;
2. a full re-read in which 1% of the records changed (a changed surname and
   tag), the case of a connector without an incremental cursor;
3. an incremental pull that reads only the changed 1% (the usual case).

A pull that has mapped 2,000 records maps the rest in a worker process, as
any pull of a connector with pure mapping does (hub/engine/mapworker.py);
``--no-worker`` maps every page in this process, to compare. CPU is reported
for this process and, apart, for the worker.

Peak RSS is the process's maximum resident set (``getrusage``), so run one
size per process to compare sizes. The connector's own cost (building the
dicts) is measured apart and reported, since a real connector's is different.

Two floors are measured after the pulls, so the figures can be read against
what no engine could beat on this machine:

- mapping alone: the connector's dicts built and put through
  ``to_canonical`` (the canonical model's validation, normalisation caches
  cleared first), nothing else;
- storage alone: the rows the first pull wrote (customers, links,
  identifiers) inserted again into an empty store of the same schema with
  the sqlite3 module's ``executemany``, with the store's SQLite settings and
  one transaction per ``StreamContext.commit_records`` records as the
  engine commits them, nothing else (the rows are read beforehand, outside
  the timing). Until 2026-12-02 this floor committed every page alone with
  SQLite's default cache and checkpoint settings, as the engine then did.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import resource
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.shop import SyntheticShop
from hub.engine.context import StreamContext
from hub.engine.pull import pull_stream
from hub.normalize import forget_people
from hub.store.database import SQLITE_PRAGMAS, open_store

COMMIT_RECORDS = StreamContext.commit_records  # the engine's default group commit


@dataclass
class Timing:
    label: str
    records: int
    seconds: float
    cpu_seconds: float  # this process's
    worker_cpu_seconds: float  # the mapping worker's (hub/engine/mapworker.py), if it ran
    worker_peak_rss_mb: float
    counts: dict[str, int]

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


async def _pull(
    store: Any, shop: SyntheticShop, label: str, *, full: bool, run: int, worker: bool
) -> Timing:
    ctx = StreamContext(store, shop, "customers", run_id=run)
    if not worker:
        ctx.worker_after = None
    gc.collect()
    usage = _WorkerUsage()
    logging.getLogger("hub.engine.mapping").addHandler(usage)
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        await pull_stream(ctx, full=full)
    finally:
        logging.getLogger("hub.engine.mapping").removeHandler(usage)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return Timing(
        label, ctx.counts["read"], seconds, cpu, usage.cpu, usage.peak_mb, dict(ctx.counts)
    )


class _WorkerUsage(logging.Handler):
    """What the mapping worker reports it used when it stops (hub/engine/mapping.py)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.cpu, self.peak_mb = 0.0, 0.0

    def emit(self, record: logging.LogRecord) -> None:
        self.cpu += getattr(record, "worker_cpu_seconds", 0.0)
        self.peak_mb = max(self.peak_mb, getattr(record, "worker_peak_rss_mb", 0.0))


def _connector_cost(shop: SyntheticShop) -> float:
    """Seconds the connector alone spends building the raw records."""
    started = time.perf_counter()
    for number in range(1, shop.count + 1):
        shop.raw(number)
    return time.perf_counter() - started


def _mapping_cost(shop: SyntheticShop) -> tuple[float, float]:
    """Wall and CPU seconds to build and map every record (``connector_seconds`` of it
    building), normalisation caches cold."""
    forget_people()
    raws = (shop.raw(number) for number in range(1, shop.count + 1))
    started, cpu_started = time.perf_counter(), time.process_time()
    for raw in raws:
        shop.to_canonical("customers", raw)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return seconds, cpu


def _storage_cost(
    source: Path, target: Path, page_size: int, commit_records: int
) -> tuple[float, float]:
    """Wall and CPU seconds to write the first pull's rows again with bare executemany.

    Written the way the engine writes them: the store's SQLite settings, and
    one transaction per ``commit_records`` records staged (the engine's
    group commit), each page its own set of statements.
    """
    open_store(f"sqlite:///{target}").close()  # the same schema, indexes and all
    into = sqlite3.connect(target)
    for pragma in SQLITE_PRAGMAS:
        into.execute(f"PRAGMA {pragma}")
    read = sqlite3.connect(source)
    seconds = cpu = 0.0
    staged = 0
    customers = read.execute("SELECT * FROM customer ORDER BY rowid")
    while rows := customers.fetchmany(page_size):
        ids = [row[0] for row in rows]
        marks = ",".join("?" * len(ids))
        links = read.execute(f"SELECT * FROM link WHERE hub_id IN ({marks})", ids).fetchall()
        idents = read.execute(f"SELECT * FROM identifier WHERE hub_id IN ({marks})", ids).fetchall()
        started, cpu_started = time.perf_counter(), time.process_time()
        for table, batch in (("customer", rows), ("link", links), ("identifier", idents)):
            if batch:
                values = ",".join("?" * len(batch[0]))
                into.executemany(f"INSERT INTO {table} VALUES ({values})", batch)
        staged += len(rows)
        if staged >= commit_records:
            into.commit()
            staged = 0
        seconds += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    started, cpu_started = time.perf_counter(), time.process_time()
    into.commit()
    seconds += time.perf_counter() - started
    cpu += time.process_time() - cpu_started
    read.close()
    into.close()
    return seconds, cpu


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(
    count: int, page_size: int, folder: Path, *, floors: bool = True, worker: bool = True
) -> dict[str, Any]:
    store = open_store(f"sqlite:///{folder / 'bench.db'}")
    shop = SyntheticShop.of(count, page_size)
    first = await _pull(store, shop, "first pull", full=True, run=1, worker=worker)
    rss_first = peak_rss_mb()
    shop.version = 2
    reread = await _pull(store, shop, "full re-read, 1% changed", full=True, run=2, worker=worker)
    shop.version, shop.only_changed = 3, True
    incremental = await _pull(
        store, shop, "incremental, 1% changed", full=True, run=3, worker=worker
    )
    store.close()
    pulls = (first, reread, incremental)
    mapping = _mapping_cost(shop) if floors else (0.0, 0.0)
    storage = (
        _storage_cost(folder / "bench.db", folder / "floor.db", page_size, COMMIT_RECORDS)
        if floors
        else (0.0, 0.0)
    )
    return {
        "customers": count,
        "page_size": page_size,
        "pulls": [
            {
                "label": t.label,
                "records": t.records,
                "seconds": round(t.seconds, 2),
                "records_per_s": round(t.rate),
                "cpu_seconds": round(t.cpu_seconds, 2),
                "worker_cpu_seconds": round(t.worker_cpu_seconds, 2),
                "worker_peak_rss_mb": round(t.worker_peak_rss_mb, 1),
                "fraction_of_first": round(t.seconds / first.seconds, 4),
                "counts": t.counts,
            }
            for t in pulls
        ],
        "connector_seconds": round(_connector_cost(shop), 2),
        "floors": {}
        if not floors
        else {
            "mapping_alone": {"seconds": round(mapping[0], 2), "cpu_seconds": round(mapping[1], 2)},
            "storage_alone": {"seconds": round(storage[0], 2), "cpu_seconds": round(storage[1], 2)},
        },
        "peak_rss_mb_first_pull": round(rss_first, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "peak_rss_mb_worker": round(
            max(t.worker_peak_rss_mb for t in (first, reread, incremental)), 1
        ),
        "db_mb": round((folder / "bench.db").stat().st_size / 2**20, 1),
        "python": sys.version.split()[0],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pull", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=250)
    parser.add_argument("--dir", type=Path, help="where the SQLite file goes (default: a temp dir)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--no-floors", action="store_true", help="skip the mapping and storage floors (1,000,000)"
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="map every page in this process, never in a worker process (to compare)",
    )
    args = parser.parse_args(argv)
    logging.getLogger("hub.engine.mapping").setLevel(logging.INFO)  # the worker's usage
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        result = asyncio.run(
            run(
                args.customers,
                args.page_size,
                Path(folder),
                floors=not args.no_floors,
                worker=not args.no_worker,
            )
        )
    result["worker"] = not args.no_worker
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['customers']:,} customers, pages of {result['page_size']}, "
        f"Python {result['python']}"
    )
    for pull in result["pulls"]:
        print(
            f"  {pull['label']:<26} {pull['records']:>9,} records {pull['seconds']:>8.1f} s "
            f"{pull['records_per_s']:>8,}/s  {pull['fraction_of_first']:>7.2%} of the first  "
            f"(CPU {pull['cpu_seconds']:.1f} s, worker {pull['worker_cpu_seconds']:.1f} s)"
        )
    print(f"  connector alone: {result['connector_seconds']} s for {result['customers']:,} records")
    for name, floor in result["floors"].items():
        print(
            f"  {name.replace('_', ' ')}: {floor['seconds']} s "
            f"({result['customers'] / floor['seconds']:,.0f}/s; CPU {floor['cpu_seconds']} s)"
        )
    print(
        f"  peak RSS {result['peak_rss_mb']} MB "
        f"(after the first pull {result['peak_rss_mb_first_pull']} MB), "
        f"mapping worker {result['peak_rss_mb_worker']} MB; database {result['db_mb']} MB"
    )


if __name__ == "__main__":
    main()
