"""CPU of the write path alone: pages already mapped, applied and committed as a pull does.

    python -m bench.writer --customers 10000 --runs 3

``bench.pull`` times the whole pull, where the commit thread and the event loop
share one core through the GIL, so a change to one of them shows only blurred
by the other and by whatever else the machine runs. Here the same synthetic
customers are mapped beforehand, outside the timing, and each page goes through
the engine's own writer (identity, merge, the batched writes, a commit per
``commit_records`` records as in a pull) in this thread: the figure is the
write path's CPU per record, for a first pull into an empty SQLite store and
for a full re-read whose unchanged records were skipped before mapping (only
the 1% changed ones reach the writer, as in ``bench.pull``). The garbage-
collection setting of a real pull applies. Report the least of several runs: on
a shared machine the others only add.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.shop import CHANGE_EVERY, SyntheticShop
from hub.connector import Page
from hub.engine.context import StreamContext
from hub.engine.gcbatch import fewer_collections
from hub.engine.mapped import Mapped
from hub.engine.mapping import MappedPage
from hub.engine.pull import _Writer
from hub.engine.rawskip import RawHasher
from hub.store.database import open_store


def mapped_pages(shop: SyntheticShop, *, only_changed: bool = False) -> list[MappedPage]:
    """The shop's pages mapped as the pull would hand them to the writer, with payload hashes."""
    hasher = RawHasher(shop, "customers")
    pages: list[MappedPage] = []
    for start in range(1, shop.count + 1, shop.page_size):
        numbers = range(start, min(start + shop.page_size, shop.count + 1))
        raws = [shop.raw(n) for n in numbers if not only_changed or n % CHANGE_EVERY == 0]
        mapped: list[Mapped] = [shop.to_canonical("customers", raw) for raw in raws]
        hashes: dict[str, str | None] = {
            m.external_id: hasher.digest(raw) for m, raw in zip(mapped, raws, strict=True)
        }
        pages.append(MappedPage(Page(records=raws, cursor=str(numbers[-1])), mapped, [], hashes))
    return pages


def _apply(ctx: StreamContext, pages: list[MappedPage]) -> float:
    """CPU seconds to apply and commit ``pages``, grouped into transactions as a pull does."""
    writer = _Writer(ctx)
    started = time.process_time()
    for page in pages:
        writer.stage(page)
    writer.commit()
    return time.process_time() - started


def run(count: int, page_size: int, runs: int) -> dict[str, Any]:
    shop = SyntheticShop.of(count, page_size)
    first = mapped_pages(shop)
    shop.version = 2
    changed = mapped_pages(shop, only_changed=True)
    firsts, rereads = [], []
    with fewer_collections():
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as folder:
                store = open_store(f"sqlite:///{Path(folder) / 'writer.db'}")
                ctx = StreamContext(store, shop, "customers", run_id=1)
                firsts.append(_apply(ctx, first))
                rereads.append(_apply(ctx, changed))
                store.close()
    return {
        "customers": count,
        "page_size": page_size,
        "runs": runs,
        "first_pull_us_per_record": [round(1e6 * s / count, 1) for s in firsts],
        "reread_us_per_record": [round(1e6 * s / count, 1) for s in rereads],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.writer", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=250)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.customers, args.page_size, args.runs)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.customers:,} customers, pages of {args.page_size}: CPU per record, each run")
    for label, key in (("first pull", "first_pull"), ("full re-read, 1% changed", "reread")):
        runs = result[f"{key}_us_per_record"]
        print(f"  {label}: least {min(runs)} us (runs: {', '.join(map(str, runs))})")


if __name__ == "__main__":
    main()
