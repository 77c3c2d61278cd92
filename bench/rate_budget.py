"""Rate budget: how much of Shopify's query-cost budget a sustained ``crmhub sync`` uses.

The Shopify sandbox (Standard plan: a bucket of 2,000 points restoring 100 a
second, Shopify's calculated query cost) is served on loopback with a ledger
of every GraphQL answer it gives: when, the requested cost, the cost charged,
and whether it was refused as ``THROTTLED``. Its customers are then read with
paged queries (``bulk_initial: false``) either by ``crmhub sync`` into a
store, or by the connector's read alone (:mod:`bench.shopify_read`), whose
small pages make many requests a second without the store's per-page work,
so that the bucket, not the CPU of a shared machine, sets the pace.

The budget the vendor allows over the run is the full bucket at the first
request plus what it restores until the last one; the share used is the cost
charged over that. A client that waits exactly as long as it must ends near
100% (short of it by at most what the last query left in the bucket); one that
waits too long leaves the bucket full and restoring nothing; one that waits
too little is refused (``THROTTLED``) and pays a round trip for nothing.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bench.loaders import CRMHUB, served
from bench.measure import measure
from bench.shopify_read import count_customers, paged_config
from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.sandbox import SHOP, TOKEN, ShopifySandbox
from hub.http import Clock, VirtualClock
from hub.testing.sandbox import BASE_URL

__all__ = [
    "LEDGER_PATH",
    "Answer",
    "Budget",
    "LedgerShopify",
    "account",
    "in_virtual_time",
    "rate_budget",
]

LEDGER_PATH = "/__bench__/ledger"


@dataclass(frozen=True, slots=True)
class Answer:
    """One GraphQL answer of the sandbox, as its ledger keeps it."""

    at: float  # the sandbox's monotonic clock, seconds
    requested: int
    charged: int | None  # None: nothing charged (refused)
    throttled: bool


@dataclass(frozen=True, slots=True)
class Budget:
    requests: int
    throttled: int
    seconds: float
    charged: float
    allowed: float

    @property
    def share_used(self) -> float:
        return self.charged / self.allowed if self.allowed else 0.0

    @property
    def throttles_per_10k(self) -> float:
        return self.throttled * 10_000 / self.requests if self.requests else 0.0

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {
            "share_used": round(self.share_used, 4),
            "throttles_per_10k": round(self.throttles_per_10k, 2),
        }


def account(answers: Sequence[Answer], *, maximum: float, restore_rate: float) -> Budget:
    """What the vendor allowed from the first answer to the last, and what was spent of it.

    The bucket is taken as full at the first request (the sandbox starts full
    and nothing else spends from it), so the allowance is ``maximum`` plus
    ``restore_rate`` for every second until the last request.
    """
    if not answers:
        return Budget(0, 0, 0.0, 0.0, 0.0)
    seconds = max(a.at for a in answers) - min(a.at for a in answers)
    return Budget(
        requests=len(answers),
        throttled=sum(1 for a in answers if a.throttled),
        seconds=round(seconds, 3),
        charged=float(sum(a.charged or 0 for a in answers)),
        allowed=maximum + restore_rate * seconds,
    )


class LedgerShopify(ShopifySandbox):
    """The Shopify sandbox, unchanged, plus a ledger of its answers at :data:`LEDGER_PATH`."""

    def __init__(self, *, clock: Clock | None = None) -> None:
        super().__init__(clock=clock)
        self.ledger: list[Answer] = []

    def routes(self) -> list[BaseRoute]:
        return [*super().routes(), Route(LEDGER_PATH, self._ledger, methods=["GET"])]

    def execute(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        answer = super().execute(document, variables)
        cost = answer["extensions"]["cost"]
        codes = [(e.get("extensions") or {}).get("code") for e in answer.get("errors") or []]
        self.ledger.append(
            Answer(
                self.clock.monotonic(),
                int(cost["requestedQueryCost"]),
                cost["actualQueryCost"],
                "THROTTLED" in codes,
            )
        )
        return answer

    async def _ledger(self, request: Request) -> Response:
        return JSONResponse(
            {
                "maximum": self.bucket.maximum,
                "restore_rate": self.bucket.restore_rate,
                "answers": [asdict(a) for a in self.ledger],
            }
        )


def _sync_command(url: str, page_size: int, folder: Path) -> list[str]:
    settings = {
        "shop": SHOP,
        "base_url": url,
        "access_token": "${SHOPIFY_SANDBOX_TOKEN}",
        "bulk_initial": False,
        "page_size": page_size,
    }
    connection = {"connector": "shopify", "direction": "pull", "streams": ["customers"]}
    document = {
        "store": "sqlite:///crmhub.db",
        "connections": {"shop": connection | {"config": settings}},
    }
    config = folder / "crmhub.yaml"
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    return [CRMHUB, "sync", "-c", str(config), "--json"]


def rate_budget(customers: int, page_size: int, how: str) -> dict[str, Any]:
    """``customers`` Shopify customers read in pages of ``page_size``; the sandbox's ledger.

    ``how`` is ``sync`` (``crmhub sync`` into a store), ``read`` (the
    connector's read alone, :mod:`bench.shopify_read`) or ``virtual``
    (:func:`in_virtual_time`).
    """
    if how == "virtual":
        return _virtual(customers, page_size)
    with tempfile.TemporaryDirectory() as tmp, served("shopify", customers) as url:
        if how == "sync":
            command = _sync_command(url, page_size, Path(tmp))
            label = "crmhub sync"
        else:
            command = [sys.executable, "-m", "bench.shopify_read", url, str(page_size)]
            label = "connector read, no store"
        env = os.environ | {"SHOPIFY_SANDBOX_TOKEN": TOKEN}
        run, _ = measure(label, command, env=env)
        run.records = customers
        headers = {"X-Shopify-Access-Token": TOKEN}
        ledger = httpx.get(url + LEDGER_PATH, headers=headers, timeout=30).json()
    answers = [Answer(**a) for a in ledger["answers"]]
    budget = account(answers, maximum=ledger["maximum"], restore_rate=ledger["restore_rate"])
    return {
        "customers": customers,
        "page_size": page_size,
        "how": how,
        "bucket": {"maximum": ledger["maximum"], "restore_rate": ledger["restore_rate"]},
        "run": asdict(run),
        "budget": budget.as_json(),
    }


async def in_virtual_time(customers: int, page_size: int) -> tuple[LedgerShopify, int]:
    """The same read against the sandbox in process, on a virtual clock shared by both.

    No network and no scheduler between them: the bucket and the limiter
    alone decide when each request goes, and an hour of budget takes
    seconds of CPU, so a run can make tens of thousands of requests.
    """
    clock = VirtualClock()
    shop = LedgerShopify(clock=clock)
    shop.populate(customers, orders=0)
    config = paged_config(BASE_URL, page_size)
    connector = ShopifyConnector(config, connection="shop", transport=shop.transport(), clock=clock)
    return shop, await count_customers(connector)


def _virtual(customers: int, page_size: int) -> dict[str, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    shop, records = asyncio.run(in_virtual_time(customers, page_size))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    bucket = shop.bucket
    budget = account(shop.ledger, maximum=bucket.maximum, restore_rate=bucket.restore_rate)
    run = {"workload": "connector read, in process, virtual time", "records": records}
    return {
        "customers": customers,
        "page_size": page_size,
        "how": "virtual",
        "bucket": {"maximum": bucket.maximum, "restore_rate": bucket.restore_rate},
        "run": run | {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2)},
        "budget": budget.as_json(),
    }
