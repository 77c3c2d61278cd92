"""Serve the example sandbox on loopback for the comparison benchmark, without its rate limit.

    python -m bench.sandbox_server --customers 100000

It prints ``READY <base url>`` once serving, then serves until killed. It runs
in a process of its own so that serving the pages never competes for the GIL
with the loader being measured. The rate limit is off: every loader is measured
on the same unthrottled pages, and rate-budget use is a workload of its own.
"""

from __future__ import annotations

import argparse
import socket

from connectors.example.sandbox import ExampleSandbox
from hub.testing.serve import LOOPBACK, serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sandbox_server")
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sandbox = ExampleSandbox()
    sandbox.limit = None
    sandbox.populate(args.customers, seed=args.seed)
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]
    print(f"READY http://{LOOPBACK}:{port}", flush=True)
    serve(sandbox, port=port)


if __name__ == "__main__":
    main()
