"""Segment evaluation and analytics on a large synthetic store, in SQLite.

    python -m bench.segments --customers 1000000
    python -m bench.segments --customers 100000 --json

The store is filled directly with SQL (executemany on the DB-API connection),
not through the sync engine: this measures analytics, not pulls. Each
customer gets 0-4 orders over three years with one line each in one of five
categories, a birth date, an e-mail consent (70% subscribed) and an
acquisition channel. Then, timed one by one:

1. ``compute_metrics``: the per-customer INSERT ... SELECT (RFM, profit ...);
2. ``predict_clv``: the BG/NBD and Gamma-Gamma fit and the predictions;
3. recommendations (co-purchase cross-sell, affinity, up-sell) written onto
   the customer records, then the first evaluation of four segments
   (everyone who matches joins);
4. both again with nothing changed (writes nothing).

Each step reports wall time and this process's CPU time (``*_cpu_s``).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from hub.config import SegmentConfig
from hub.store.database import Store, open_store
from plugins.analytics.affinity import next_best_products
from plugins.analytics.metrics import MetricsSettings, compute_metrics
from plugins.analytics.predict import predict_clv
from plugins.analytics.publish import publish_recommendations
from plugins.analytics.recommend import recommendations
from plugins.segments.evaluate import evaluate_segment

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)
CATEGORIES = ("shoes", "socks", "shirts", "hats", "bags")
CHANNELS = ("ads", "organic", "email", "referral")
PAIRED = {"shoes": "socks", "socks": "shoes", "shirts": "hats", "hats": "bags", "bags": "shirts"}
SEGMENTS = {
    "lapsed": {"rules": [{"field": "last_order_at", "older_than": "730d"}]},
    "at_risk_email": {
        "channel": "email",
        "rules": [{"field": "rfm_segment", "in": ["at_risk", "cant_lose"]}, {"consent": "email"}],
    },
    "birthday_week": {"rules": [{"field": "birth_date", "within_next": "7d"}]},
    "shoes_reminder": {"rules": [{"bought_category": "shoes", "older_than": "180d"}]},
}
T = TypeVar("T")


def _stamp(moment: datetime) -> str:
    return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _rows(count: int, seed: int) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    rng = random.Random(seed)
    now = _stamp(AS_OF)
    for n in range(count):
        hub_id = f"h{n:09d}"
        birth = f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        status = "subscribed" if rng.random() < 0.7 else "unsubscribed"
        data = {
            "hub_id": hub_id,
            "emails": [f"c{n}@example.com"],
            "birth_date": birth,
            "consents": {"email": {"status": status, "recorded_at": "2024-01-01T00:00:00+00:00"}},
            "acquisition": {"channel": rng.choice(CHANNELS)},
        }
        customer = (hub_id, json.dumps(data), "{}", f"c{n}@example.com", now, now)
        orders = []
        first = rng.choice(CATEGORIES)
        for k in range(rng.choice((0, 1, 1, 2, 3, 4))):
            placed = AS_OF - timedelta(days=rng.randint(0, 3 * 365), seconds=rng.randint(0, 86399))
            price = rng.randint(5, 300) * 10_000
            # half the later orders buy what goes with the first: co-purchase rules to find
            category = PAIRED[first] if k and rng.random() < 0.5 else rng.choice(CATEGORIES)
            first = category if not k else first
            orders.append((f"o{n}-{k}", hub_id, _stamp(placed), price, category))
        yield customer, orders


def fill(store: Store, count: int, seed: int = 7, batch: int = 20_000) -> None:
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        customers: list[tuple[Any, ...]] = []
        orders: list[tuple[Any, ...]] = []
        lines: list[tuple[Any, ...]] = []

        def flush() -> None:
            cursor.executemany(
                "INSERT INTO customer (hub_id, data, provenance, primary_email, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                customers,
            )
            cursor.executemany(
                'INSERT INTO "order" (id, customer_hub_id, source, placed_at, currency, total, '
                "status) VALUES (?, ?, 'bench', ?, 'EUR', ?, 'closed')",
                orders,
            )
            cursor.executemany(
                "INSERT INTO order_line (order_id, position, name, category, quantity, "
                "unit_price, total, cost) VALUES (?, 0, ?, ?, 1, ?, ?, ?)",
                lines,
            )
            for pending in (customers, orders, lines):
                pending.clear()

        for customer, placed in _rows(count, seed):
            customers.append(customer)
            for order_id, hub_id, at, price, category in placed:
                orders.append((order_id, hub_id, at, price))
                product = f"{category}-{price // 500_000}"  # 7 products a category, by price
                lines.append((order_id, product, category, price, price, price * 6 // 10))
            if len(customers) >= batch:
                flush()
        flush()
        raw.commit()
    finally:
        raw.close()


def _timed(label: str, figures: dict[str, Any], work: Callable[[], T]) -> T:
    """Wall time under ``label``, CPU time of this process under ``label`` + ``_cpu``.

    The machine may be shared: CPU time tells what the step itself cost.
    """
    start, cpu = time.perf_counter(), time.process_time()
    result = work()
    figures[label] = round(time.perf_counter() - start, 2)
    figures[label.removesuffix("_s") + "_cpu_s"] = round(time.process_time() - cpu, 2)
    return result


def _recommend(store: Store) -> int:
    """Cross-sell, affinity and up-sell onto the customer records (nothing pushed: no targets)."""
    with store.session() as session:
        next_best_products(session, min_support=0.01, min_lift=1.2)
        changed = publish_recommendations(session, recommendations(session), AS_OF, ())
        session.commit()
    return changed


def run(count: int, folder: Path) -> dict[str, Any]:
    store = open_store(f"sqlite:///{folder / 'bench.db'}")
    figures: dict[str, Any] = {"customers": count}
    _timed("fill_s", figures, lambda: fill(store, count))
    segments = {name: SegmentConfig.model_validate(body) for name, body in SEGMENTS.items()}
    with store.session() as session:
        _timed("metrics_s", figures, lambda: compute_metrics(session, AS_OF, MetricsSettings()))
        figures["predicted"] = _timed(
            "predict_s", figures, lambda: predict_clv(session, horizon_days=365)
        )
        session.commit()
    for round_name in ("first", "again"):
        figures[f"recommendations_{round_name}"] = _timed(
            f"recommendations_{round_name}_s", figures, lambda: _recommend(store)
        )
        sizes: dict[str, int] = {}

        def evaluate_all(sizes: dict[str, int] = sizes) -> None:
            with store.session() as session:
                for name, segment in segments.items():
                    sizes[name] = evaluate_segment(session, name, segment, AS_OF).joined
                session.commit()

        _timed(f"segments_{round_name}_s", figures, evaluate_all)
        figures[f"joined_{round_name}"] = sizes
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    store.close()
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        figures = run(args.customers, Path(folder))
    if args.json:
        json.dump(figures, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for key, value in figures.items():
            print(f"{key:>20}: {value}")


if __name__ == "__main__":
    main()
