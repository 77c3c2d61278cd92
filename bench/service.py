"""The long-running modes: webhook-to-target latency, and worker throughput on PostgreSQL.

    python -m bench.service latency --updates 1000 [--store postgresql://...]
    python -m bench.service workers --store postgresql://postgres@127.0.0.1/test --counts 1 2 4

``latency``: the Shopify and Mailchimp sandboxes on loopback, ``shop`` (pulled,
sends HMAC-signed webhooks) and ``newsletter`` (the target audience), and
``crmhub run`` in-process with its webhook endpoint on loopback. After the
first sync has put every customer in both, each update is one customer's last
name changed in the shop, the shop's ``customers/update`` webhook delivered to
the endpoint, and the clock stopped when the Mailchimp member's ``LNAME``
holds the new value: HMAC check, inbox write, inbox drain through the pull
pipeline, outbox, the member's PUT. Updates are sent one at a time, so each
figure is one change's full trip. CPU time is this process's (sandboxes and
the service share it).

``workers``: ``crmhub worker`` processes on a PostgreSQL store; the workload is
four example connections of ``--contacts`` contacts each, pulled into the hub
from their first page; the time runs from the workers' start to the last link
stored. A connection runs on one worker at a time, so four connections give up
to four workers something to do.

For ``workers`` the example sandboxes' rate limits are lifted (the example API
allows 100 requests per 10 s), so the figures measure crmhub, not a vendor's
budget; Shopify's and Mailchimp's limits are kept (one update at a time stays
well inside them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import yaml

from connectors.example.sandbox import ExampleSandbox
from connectors.mailchimp.mapping import subscriber_hash
from connectors.mailchimp.sandbox import MailchimpSandbox
from connectors.shopify.sandbox import ShopifySandbox
from hub.config import load_config
from hub.plugins import load_plugins
from hub.service.embedded import EmbeddedService
from hub.store.database import Store, open_store, sqlalchemy_url
from hub.store.tables import Link, Outbox
from hub.testing.limits import FixedWindow
from hub.testing.serve import running

CRMHUB = str(Path(sys.executable).with_name("crmhub"))


def _sandbox(contacts: int, seed: int) -> ExampleSandbox:
    sandbox = ExampleSandbox()
    sandbox.limit = FixedWindow(10**9, 10, clock=sandbox.clock)
    sandbox.populate(contacts, seed=seed)
    return sandbox


def _write_config(
    path: Path, store: str, connections: dict[str, Any], service: dict[str, Any]
) -> Path:
    path.write_text(
        yaml.safe_dump({"store": store, "connections": connections, "service": service})
    )
    return path


def _connection(sandbox: ExampleSandbox, url: str, **extra: Any) -> dict[str, Any]:
    return {"connector": "example", "config": sandbox.config_for(url), **extra}


async def _latency(updates: int, store_url: str, folder: Path) -> dict[str, Any]:
    """Shopify ``customers/update`` webhooks, each timed until Mailchimp holds the change."""
    shop, audience = ShopifySandbox(bulk_seconds=0.2), MailchimpSandbox(batch_seconds=0.2)
    shop.populate(updates, seed=11, orders=0)
    os.environ.update({**shop.environment(), **audience.environment()})
    with running(shop) as shop_url, running(audience) as audience_url:
        connections = {
            "shop": {
                "connector": "shopify",
                "direction": "pull",
                "streams": ["customers"],
                "config": {**shop.config_for(shop_url), "bulk_poll": 0.2},
            },
            "newsletter": {
                "connector": "mailchimp",
                "direction": "push",
                "streams": ["customers"],
                "config": {**audience.config_for(audience_url), "batch_poll_seconds": 0.2},
            },
        }
        service = {"port": 0, "poll": "1s"}
        plugins = load_plugins()
        config = load_config(
            _write_config(folder / "crmhub.yaml", store_url, connections, service), plugins
        )
        store = open_store(store_url)
        hub = EmbeddedService(store, config, plugins)
        serving = asyncio.create_task(hub.run())
        while not hub.ready:
            await asyncio.sleep(0.01)
        await hub._exclusive("shop", hub._pull)  # the first sync: every customer in both systems
        while _waiting(store):
            await asyncio.sleep(0.1)
        held = {str(m["email_address"]).lower() for m in audience.members.values()}
        customers = [
            gid
            for gid, customer in shop.state.customers.items()
            if str(customer.get("email") or "").lower() in held
        ]
        hook = f"http://127.0.0.1:{hub.port}/webhooks/shop"
        shop.webhooks.url = hook
        seconds: list[float] = []
        cpu = time.process_time()
        async with httpx.AsyncClient() as vendor:  # Shopify keeps its connections: so do we
            for gid in customers[:updates]:
                member = subscriber_hash(str(shop.state.customers[gid]["email"]))
                shop.touch("customers", gid)
                [delivery] = shop.webhooks.pending
                shop.webhooks.pending.clear()
                started = time.perf_counter()
                sent = await vendor.post(hook, content=delivery.body, headers=delivery.headers)
                assert sent.status_code == 200, sent.text
                while not str(audience.members[member]["merge_fields"]["LNAME"]).endswith(
                    "-Edited"
                ):
                    await asyncio.sleep(0.0005)
                seconds.append(time.perf_counter() - started)
        cpu = time.process_time() - cpu
        hub.stop()
        await serving
        store.close()
    seconds.sort()
    return {
        "updates": len(seconds),
        "store": store_url.split(":", 1)[0],
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "p99_ms": round(statistics.quantiles(seconds, n=100, method="inclusive")[98] * 1000, 1),
        "max_ms": round(seconds[-1] * 1000, 1),
        "wall_s": round(sum(seconds), 1),
        "cpu_s": round(cpu, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _waiting(store: Store) -> bool:
    """Pushes still queued (the first sync's, before the updates start)."""
    with store.session() as session:
        return bool(
            session.scalar(
                sa.select(sa.func.count()).select_from(Outbox).where(Outbox.status == "pending")
            )
        )


@contextmanager
def _pg_schema(url: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(sqlalchemy_url(url))
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _workers(count: int, contacts: int, pg_url: str, folder: Path) -> dict[str, Any]:
    sources = [_sandbox(contacts, seed=20 + n) for n in range(4)]
    with ExitStack() as stack, _pg_schema(pg_url) as store_url:
        urls = [stack.enter_context(running(sandbox)) for sandbox in sources]
        connections = {
            f"crm{n}": _connection(s, url, direction="pull", schedule={"every": "1h"})
            for n, (s, url) in enumerate(zip(sources, urls, strict=True))
        }
        service = {"poll": "1s", "port": 0}
        path = _write_config(folder / f"workers-{count}.yaml", store_url, connections, service)
        open_store(store_url).close()  # migrate once, outside the timing
        env = {**os.environ, **ExampleSandbox().environment()}
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = time.process_time()
        started = time.perf_counter()
        processes = [
            subprocess.Popen(
                [CRMHUB, "worker", "-c", str(path)], env=env, stderr=subprocess.DEVNULL
            )
            for _ in range(count)
        ]
        store = open_store(store_url, migrate=False)
        total = 4 * contacts
        try:
            while True:
                with store.session() as session:
                    linked = session.scalar(sa.select(sa.func.count()).select_from(Link))
                if linked == total:
                    break
                time.sleep(0.1)
            elapsed = time.perf_counter() - started
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)
            store.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    return {
        "workers": count,
        "records": total,
        "seconds": round(elapsed, 1),
        "records_per_s": round(total / elapsed),
        "workers_cpu_s": round(worker_cpu, 1),
        "bench_cpu_s": round(time.process_time() - own, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="bench", required=True)
    latency = sub.add_parser("latency")
    latency.add_argument("--updates", type=int, default=1000)
    latency.add_argument("--store", default=None, help="default: a SQLite file in a temp folder")
    workers = sub.add_parser("workers")
    workers.add_argument(
        "--store", required=True, help="postgresql://... (a schema is made per run)"
    )
    workers.add_argument("--counts", type=int, nargs="+", default=[1, 2, 4])
    workers.add_argument("--contacts", type=int, default=1000, help="per connection (4 of them)")
    args = parser.parse_args()
    for key, value in ExampleSandbox().environment().items():
        os.environ.setdefault(key, value)
    with tempfile.TemporaryDirectory() as folder:
        if args.bench == "latency":
            store = args.store or f"sqlite:///{folder}/hub.db"
            if store.startswith("postgresql"):
                with _pg_schema(store) as schema_url:
                    results = [asyncio.run(_latency(args.updates, schema_url, Path(folder)))]
            else:
                results = [asyncio.run(_latency(args.updates, store, Path(folder)))]
            print(json.dumps(results[0]))
        else:
            for count in args.counts:
                print(
                    json.dumps(_workers(count, args.contacts, args.store, Path(folder))), flush=True
                )


if __name__ == "__main__":
    main()
