"""crmhub beside its peers and the raw limits: the same data, the same local servers, one run.

    python -m bench.compare                          # every workload (make bench)
    python -m bench.compare --only pull --customers 100000
    python -m bench.compare --only memory --memory-sizes 100000 1000000
    python -m bench.compare --only push --push-records 100000
    python -m bench.compare --only push-engine --push-engine-records 20000
    python -m bench.compare --only rate --rate-runs 3000:10:sync 10000:10:read 5000:1:virtual
    python -m bench.compare --render bench/results/2026-12-02-vm.json

Workloads, each against a sandbox served on loopback in a process of its own,
each loader timed in a fresh process (wall time, CPU time and peak RSS from
``wait4``):

- ``pull``: crmhub sync (identity and merge included), dlt's rest_api source
  into SQLite and DuckDB, and the raw fetch / executemany limit, on the same
  pages of the example sandbox (:mod:`bench.loaders`); then crmhub's
  incremental pull after 1% changed. ``crmhub`` is the same without the peers:
  it joins the pull's ``history`` (named by ``--label``) and keeps the peers'
  rows, so the table shows crmhub before and after a change against them.
- ``memory``: peak RSS of crmhub's first sync at each of ``--memory-sizes``,
  with the contacts served and the sync's counts (read, created, merged,
  dead letters); the rows of sizes not run are kept.
- ``push``: member upserts to the Mailchimp sandbox through the connector's
  writer, single PUTs against batch operations; ``push-engine``: the same
  through the engine's whole push, with its default batches and larger ones
  (:mod:`bench.mailchimp_push`).
- ``rate``: sustained reads of the Shopify sandbox under its cost bucket (a
  crmhub sync, the connector's read alone, and that read in virtual time),
  the share of the budget used and the THROTTLED answers (:mod:`bench.rate_budget`).

Results go to bench/results/<date>-<host>.json (one file a day and host;
a later run of some workloads replaces theirs and keeps the rest) with the
exact versions of every peer, and each workload's table to its block of
docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench import loaders
from bench.measure import Measurement, measure
from bench.rate_budget import rate_budget
from bench.report import render_block, replace_block

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"
WORKLOADS = ("pull", "crmhub", "memory", "push", "push-engine", "rate")


def _row(m: Measurement) -> dict[str, Any]:
    return asdict(m) | {"records_per_s": round(m.rate), "records_per_cpu_s": round(m.cpu_rate)}


def pull(customers: int, with_peers: bool, versions: dict[str, str]) -> dict[str, Any]:
    python = loaders.ensure_peers() if with_peers else None
    with tempfile.TemporaryDirectory() as tmp, loaders.served("example", customers) as url:
        folder = Path(tmp)
        found = loaders.crmhub_pulls(url, folder, customers)
        if python is not None:
            found += loaders.peer_pulls(url, folder, python) + loaders.raw_pulls(url, folder)
    if python is not None:
        versions |= loaders.peer_versions(python)
    return {"customers": customers, "measurements": [_row(m) for m in found]}


def memory(sizes: list[int], earlier: dict[str, Any] | None) -> dict[str, Any]:
    """crmhub's first sync at each size; a size the pull workload just ran is taken from it."""
    found = []
    for size in sizes:
        if earlier is not None and earlier["customers"] == size:
            first = earlier["measurements"][0]
            found.append(first | {"workload": f"crmhub sync, {size:,}", "served": size})
            continue
        with tempfile.TemporaryDirectory() as tmp, loaders.served("example", size) as url:
            label = f"crmhub sync, {size:,}"
            measured = loaders.crmhub_first_pull(url, Path(tmp), label, every=60)
            found.append(_row(measured) | {"served": size})
        print(f"  memory: {found[-1]}", flush=True)
    return {"measurements": found}


PUSH_MODES = {
    "push": (
        ("single", "writer: single PUT per member"),
        ("batch", "writer: POST /batches of 500"),
    ),
    "push-engine": (
        ("engine-100", "engine push, batches of 100 (default): single PUTs"),
        ("engine-500", "engine push, batches of 500: POST /batches"),
    ),
}


def push(
    workload: str, records: int, batch_seconds: float, poll: float, modes: list[str]
) -> dict[str, Any]:
    """Each mode against a fresh Mailchimp sandbox; times are the push's own, taken in process."""
    found = []
    for mode, label in PUSH_MODES[workload]:
        if mode not in modes:
            continue
        with loaders.served("mailchimp", 0, "--batch-seconds", str(batch_seconds)) as url:
            command = [sys.executable, "-m", "bench.mailchimp_push", url, mode, str(records)]
            measurement, output = measure(label, [*command, str(poll)])
        counts = json.loads(output.strip().splitlines()[-1])
        measurement.records = counts["records"]
        measurement.seconds, measurement.cpu_seconds = counts["seconds"], counts["cpu_seconds"]
        found.append(_row(measurement) | {k: counts[k] for k in ("written", "errors")})
        print(f"  {workload}: {found[-1]}", flush=True)
    return {"batch_seconds": batch_seconds, "poll_seconds": poll, "measurements": found}


def _keep_rows(earlier: dict[str, Any] | None, now: dict[str, Any]) -> dict[str, Any]:
    """``now``, plus the push rows of ``earlier`` whose mode did not run this time, and the
    memory rows of sizes it did not run (each row is a run of its own)."""
    if earlier is None or "measurements" not in now:
        return now
    labels = {m["workload"] for m in now["measurements"]}
    kept = [m for m in earlier.get("measurements", []) if m["workload"] not in labels]
    pushes = all("written" in m for m in kept)
    sizes = all(m["workload"].startswith("crmhub sync, ") and "served" in m for m in kept)
    if kept and pushes:
        now["measurements"] = kept + now["measurements"]
    elif kept and sizes:
        now["measurements"] = sorted(kept + now["measurements"], key=lambda m: m["served"])
    return now


def _with_history(
    earlier: dict[str, Any] | None, now: dict[str, Any], with_peers: bool
) -> dict[str, Any]:
    """The pull workload after ``now``: a run with the peers replaces the last one; a
    crmhub-only run (``--only crmhub``) joins its ``history`` and keeps the peers' rows.

    The history keeps crmhub's earlier first pulls, so the table shows before and after.
    """
    if earlier is None:
        return now
    history = list(earlier.get("history", []))
    if with_peers:
        return now | {"history": history}
    keys = ("label", "measured_at", "load_average", "command", "measurements")
    return earlier | {"history": [*history, {key: now.get(key) for key in keys}]}


def _upgraded(result: dict[str, Any]) -> dict[str, Any]:
    """A results file of the first version (one pull, measurements at the top) as a current one."""
    if "workloads" in result:
        return result
    pull = {"customers": result["customers"], "measurements": result["measurements"]}
    return result | {"workloads": {"pull": pull}}


def _results_file(date: str, host: str) -> Path:
    return RESULTS / f"{date}-{host}.json"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, help="run these workloads only")
    parser.add_argument("--customers", type=int, default=100_000, help="pull workload's size")
    parser.add_argument("--memory-sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--push-records", type=int, default=100_000)
    parser.add_argument("--push-engine-records", type=int, default=20_000)
    parser.add_argument(
        "--push-modes",
        nargs="+",
        default=[mode for modes in PUSH_MODES.values() for mode, _ in modes],
        help="which pushes to run (single batch engine-100 engine-500); the rows of the "
        "others are kept from an earlier run of the day",
    )
    parser.add_argument("--push-batch-seconds", type=float, default=1.0)
    parser.add_argument("--push-poll", type=float, default=0.2)
    parser.add_argument(
        "--rate-runs",
        nargs="+",
        default=["3000:10:sync", "10000:10:read", "5000:1:virtual"],
        metavar="CUSTOMERS:PAGE_SIZE:sync|read|virtual",
        help="rate-budget runs: crmhub sync, the connector's read alone (no store), "
        "or that read in process in virtual time",
    )
    parser.add_argument(
        "--label",
        default="",
        help="name of this crmhub in the pull's before/after table (default: the time)",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/performance.md")
    parser.add_argument("--render", type=Path, help="rewrite the tables from a results file")
    args = parser.parse_args(argv)
    if args.render:
        write_doc(_upgraded(json.loads(args.render.read_text())))
        return
    chosen = args.only or ["pull", "memory", "push", "push-engine", "rate"]
    now = datetime.now(UTC)
    date, host = now.date().isoformat(), platform.node()
    measured_at = now.isoformat(timespec="minutes")
    load = [round(x, 2) for x in os.getloadavg()]
    versions = {"crmhub": version("crmhub"), "httpx": version("httpx")}
    ran: dict[str, Any] = {}
    if "pull" in chosen or "crmhub" in chosen:
        ran["pull"] = pull(args.customers, "pull" in chosen, versions)
    if "memory" in chosen:
        ran["memory"] = memory(args.memory_sizes, ran.get("pull"))
    if "push" in chosen:
        ran["push"] = push(
            "push", args.push_records, args.push_batch_seconds, args.push_poll, args.push_modes
        )
    if "push-engine" in chosen:
        ran["push-engine"] = push(
            "push-engine",
            args.push_engine_records,
            args.push_batch_seconds,
            args.push_poll,
            args.push_modes,
        )
    if "rate" in chosen:
        runs = [run.split(":") for run in args.rate_runs]
        ran["rate"] = {"runs": [rate_budget(int(n), int(size), how) for n, size, how in runs]}
    out = _results_file(date, host)  # read only now: another run may have written it meanwhile
    result: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {"workloads": {}}
    result |= {
        "date": date,
        "host": host,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    command = "python -m bench.compare " + " ".join(argv or sys.argv[1:])
    label = args.label or f"{measured_at.replace('T', ' ')} UTC"
    for name, workload in ran.items():
        workload |= {"load_average": load, "command": command, "measured_at": measured_at}
        earlier = result["workloads"].get(name)
        if name == "pull":
            workload = _with_history(earlier, workload | {"label": label}, "pull" in chosen)
        result["workloads"][name] = _keep_rows(earlier, workload)
    result["versions"] = result.get("versions", {}) | versions
    RESULTS.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    if not args.no_doc:
        write_doc(result, only=list(ran))


def write_doc(result: dict[str, Any], only: list[str] | None = None) -> None:
    text = DOC.read_text()
    for name in only or list(result["workloads"]):
        block = render_block(name, result)
        print(block)
        text = replace_block(text, name, block)
    DOC.write_text(text)
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
