"""Push throughput and memory, and the cost of an idle round, through the real engine path.

    python -m bench.push changes --count 100000
    python -m bench.push idle --customers 100000
    python -m bench.push idle --customers 1000000

``changes``: a store of ``count`` customers, each with a pending outbox row for
one connection, is drained by ``push_stream`` into an in-memory connector that
keeps what it is sent and hands out ids, like a vendor's upsert. Every record
is read from the store, projected, checked for consent, compared with its link
(none yet: all are creates), validated into the canonical model, written, and
linked with its shadow, in the engine's batches.

``idle``: a store of ``customers`` customers, each linked to a shop and pushed
long ago (one link, one outbox row marked done), and three connections whose
cursors are at the end. An idle round is what `crmhub sync` does when nothing
changed anywhere: each connection is pulled (its API answers "nothing after
this cursor") and pushed (nothing pending). Its cost should be reading three
cursors and the outbox's pending index, whatever the size of the store; run it
at 100,000 and at 1,000,000 to see that.

The stores are built by bulk SQL inserts, not by syncing: building is not
what is measured. Peak RSS is the process's maximum resident set, so run one
measurement per process. CPU seconds (all threads of the process) are reported
beside wall time, since on a shared machine the wall time is mostly waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import insert

from hub.connector import Change, Connector, Page, RawRecord, SourceRecord, WriteResult
from hub.engine.context import StreamContext
from hub.engine.pull import pull_stream
from hub.engine.push import push_stream
from hub.model import Customer
from hub.store.database import Store, open_store
from hub.store.tables import CustomerRow, Link, Outbox, SyncState, table_of

CHUNK = 20_000
CONNECTIONS = ("shop", "crm", "news")


class _Settings(BaseModel):
    pass


class Memory(Connector):
    """A vendor in memory: keeps what it is sent, reports no changes after any cursor."""

    name = "bench_memory"
    config_model: ClassVar[type[BaseModel]] = _Settings
    reads = {"customers": Customer}
    writes = {"customers": Customer}

    def __init__(self, connection: str) -> None:
        super().__init__(_Settings(), connection=connection)
        self.rows: dict[str, dict[str, Any]] = {}

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        return
        yield  # an async generator that yields nothing: no changes after the cursor

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        raise AssertionError("an idle source sends nothing")

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        results = []
        for change in changes:
            external_id = change.external_id or f"m{len(self.rows) + 1}"
            self.rows[external_id] = change.record.canonical_dict()
            results.append(WriteResult(change.hub_id, external_id))
        return results


def _customers(count: int) -> Iterator[list[dict[str, Any]]]:
    now = datetime.now(UTC)
    for start in range(0, count, CHUNK):
        yield [
            {
                "hub_id": f"{n:032x}",
                "data": {
                    "first_name": f"Name{n % 997}",
                    "last_name": f"Family{n % 1009}",
                    "emails": [f"person{n}@example.com"],
                    "tags": ["vip"] if n % 7 == 0 else [],
                },
                "provenance": {"*": ["shop", now.isoformat()]},
                "first_name": f"Name{n % 997}",
                "last_name": f"Family{n % 1009}",
                "primary_email": f"person{n}@example.com",
                "created_at": now,
                "updated_at": now,
            }
            for n in range(start, min(start + CHUNK, count))
        ]


def _build(store: Store, count: int, *, outbox_status: str, linked: bool) -> float:
    """Bulk-insert ``count`` customers, one outbox row each and (``linked``) one link each."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    with store.session() as session:
        for chunk in _customers(count):
            session.execute(insert(table_of(CustomerRow)), chunk)
            session.execute(
                insert(table_of(Outbox)),
                [
                    {
                        "connection": "crm",
                        "stream": "customers",
                        "hub_id": row["hub_id"],
                        "op": "upsert",
                        "payload": {},
                        "origin": "shop",
                        "status": outbox_status,
                        "attempts": 0,
                        "created_at": now,
                    }
                    for row in chunk
                ],
            )
            if linked:
                session.execute(
                    insert(table_of(Link)),
                    [
                        {
                            "connection": "shop",
                            "object": "customer",
                            "external_id": row["hub_id"][-8:],
                            "hub_id": row["hub_id"],
                            "base": row["data"],
                            "deleted": False,
                            "updated_at": now,
                        }
                        for row in chunk
                    ],
                )
        session.add_all(
            SyncState(connection=name, stream=stream, cursor="end")
            for name in CONNECTIONS
            for stream in ("customers", "customers:push")
        )
        session.commit()
    return time.perf_counter() - started


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def changes(count: int, batch: int, folder: Path) -> dict[str, Any]:
    store = open_store(f"sqlite:///{folder / 'bench.db'}")
    built = _build(store, count, outbox_status="pending", linked=False)
    rss_built = peak_rss_mb()
    target = Memory("crm")
    ctx = StreamContext(store, target, "customers", run_id=1)
    started, cpu = time.perf_counter(), time.process_time()
    await push_stream(ctx, batch_size=batch)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    store.close()
    assert len(target.rows) == count == ctx.counts["pushed"], (len(target.rows), ctx.counts)
    return {
        "changes": count,
        "batch": batch,
        "build_seconds": round(built, 1),
        "seconds": round(seconds, 1),
        "records_per_s": round(count / seconds),
        "cpu_seconds": round(cpu, 1),
        "records_per_cpu_s": round(count / cpu),
        "peak_rss_mb": round(peak_rss_mb()),
        "peak_rss_mb_before_push": round(rss_built),
    }


async def idle(count: int, rounds: int, folder: Path) -> dict[str, Any]:
    store = open_store(f"sqlite:///{folder / 'bench.db'}")
    built = _build(store, count, outbox_status="done", linked=True)
    connectors = [Memory(name) for name in CONNECTIONS]
    times = []
    cpu_times = []
    for number in range(rounds):
        started, cpu = time.perf_counter(), time.process_time()
        for connector in connectors:
            await pull_stream(StreamContext(store, connector, "customers", run_id=number))
            await push_stream(StreamContext(store, connector, "customers", run_id=number))
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu)
    store.close()
    db = folder / "bench.db"
    return {
        "customers": count,
        "build_seconds": round(built, 1),
        "rounds": rounds,
        "median_ms": round(statistics.median(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "median_cpu_ms": round(statistics.median(cpu_times) * 1000, 1),
        "db_mb": round(db.stat().st_size / 2**20),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.push", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("changes", help="push N pending changes to an in-memory connector")
    one.add_argument("--count", type=int, default=100_000)
    one.add_argument("--batch", type=int, default=100, help="push batch size (engine default)")
    two = sub.add_parser("idle", help="an idle round on a store of N customers")
    two.add_argument("--customers", type=int, default=1_000_000)
    two.add_argument("--rounds", type=int, default=5)
    for command in (one, two):
        command.add_argument("--dir", type=Path, help="where the SQLite file goes")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        if args.what == "changes":
            result = asyncio.run(changes(args.count, args.batch, Path(folder)))
        else:
            result = asyncio.run(idle(args.customers, args.rounds, Path(folder)))
    result["python"] = sys.version.split()[0]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
