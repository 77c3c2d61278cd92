"""Serve one vendor sandbox on loopback for the comparison benchmark, in a process of its own.

    python -m bench.sandbox_server example --customers 100000
    python -m bench.sandbox_server mailchimp --customers 0 --batch-seconds 1
    python -m bench.sandbox_server shopify --customers 2000

It prints ``READY <base url>`` once its data is made, then serves until killed.
A process of its own keeps serving the pages from competing for the GIL with
the loader being measured.

- ``example``: the rate limit is off, so every loader of the pull comparison is
  measured on the same unthrottled pages (rate-budget use is a workload of its own).
- ``mailchimp``: the audience as given, its cap of 10 connections in force;
  ``--batch-seconds`` is how long a batch waits before it runs.
- ``shopify``: the Standard plan's bucket of query cost in force, and a ledger
  of every GraphQL answer (see :mod:`bench.rate_budget`); no orders, since the
  rate-budget workload reads customers.
"""

from __future__ import annotations

import argparse
import socket

from bench.rate_budget import LedgerShopify
from connectors.example.sandbox import ExampleSandbox
from connectors.mailchimp.sandbox import MailchimpSandbox
from hub.testing.sandbox import Sandbox
from hub.testing.serve import LOOPBACK, serve


def _sandbox(vendor: str, customers: int, seed: int, batch_seconds: float) -> Sandbox:
    if vendor == "example":
        example = ExampleSandbox()
        example.limit = None
        example.populate(customers, seed=seed)
        return example
    if vendor == "mailchimp":
        audience = MailchimpSandbox(batch_seconds=batch_seconds)
        audience.populate(customers, seed=seed)
        return audience
    shop = LedgerShopify()
    shop.populate(customers, seed=seed, orders=0)
    return shop


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sandbox_server")
    parser.add_argument("vendor", choices=["example", "mailchimp", "shopify"])
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-seconds", type=float, default=1.0)
    args = parser.parse_args()
    sandbox = _sandbox(args.vendor, args.customers, args.seed, args.batch_seconds)
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]
    print(f"READY http://{LOOPBACK}:{port}", flush=True)
    serve(sandbox, port=port)


if __name__ == "__main__":
    main()
