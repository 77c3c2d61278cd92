"""The comparison's results as markdown: one table per workload, each between its own markers.

A results file (bench/results/<date>-<host>.json) holds every workload that
ran; each renders to a block of docs/performance.md between
``<!-- compare:NAME:start -->`` and ``<!-- compare:NAME:end -->``, so re-running
one workload (``--only push``) rewrites its block and leaves the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["history_table", "render_block", "replace_block", "table"]

Result = Mapping[str, Any]
TITLES = {
    "pull": "Full pull: crmhub, dlt and the raw limit",
    "memory": "Memory: peak RSS of crmhub sync by size",
    "push": "Push: Mailchimp member upserts, single calls and batch operations",
    "push-engine": "Push through the engine: crmhub's whole push to Mailchimp",
    "rate": "Rate budget: Shopify's query-cost bucket",
}
REPRODUCE = {
    "pull": "python -m bench.compare --only pull --customers {customers}",
    "memory": "python -m bench.compare --only memory --memory-sizes {sizes}",
    "push": "python -m bench.compare --only push --push-records {records}",
    "push-engine": "python -m bench.compare --only push-engine --push-engine-records {records}",
    "rate": "python -m bench.compare --only rate --rate-runs {runs}",
}


def _rate(records: int, seconds: float) -> float:
    return records / seconds if seconds else 0.0


def _timing(m: Result) -> str:
    cpu = m.get("cpu_seconds")  # not measured before 2026-12-02
    return f"{m['seconds']:,.1f} | " + (f"{cpu:,.1f}" if cpu is not None else "-")


def pull_table(workload: Result) -> str:
    """Ratios by wall time and by CPU time: on a shared machine the second is the fair one
    between loaders that do their work in their own process (the sandbox's is not counted)."""
    rows = [
        "| loader | records | wall s | CPU s | records/s (wall) | records per CPU s | peak RSS "
        "| crmhub's speed relative to it, wall | by CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    measurements = workload["measurements"]
    crmhub = measurements[0]
    for m in measurements:
        if m is crmhub:
            ratios = ["", ""]
        elif m["workload"].startswith("crmhub"):
            ratios = [
                f"{m[key] / crmhub[key]:.1%} of the first pull's" if crmhub.get(key) else ""
                for key in ("seconds", "cpu_seconds")
            ]
        else:
            ratios = [
                f"{_ratio(crmhub, m, key)}" if m.get(key) else ""
                for key in ("seconds", "cpu_seconds")
            ]
        rows.append(
            f"| {m['workload']} | {m['records']:,} | {_timing(m)} | "
            f"{_rate(m['records'], m['seconds']):,.0f} | "
            f"{_rate(m['records'], m.get('cpu_seconds', 0)):,.0f} | "
            f"{m['peak_rss_mb']:.0f} MB | {ratios[0]} | {ratios[1]} |"
        )
    return "\n".join(rows)


PEERS = (
    ("dlt rest_api -> SQLite (sqlalchemy)", "dlt -> SQLite"),
    ("dlt rest_api -> DuckDB", "dlt -> DuckDB"),
    ("raw: httpx fetch + parse", "raw fetch + parse"),
    ("raw: + executemany", "raw + executemany"),
)


def history_table(workload: Result) -> str:
    """crmhub's first pull in earlier runs (``history``) and in this one, each against peers.

    A run of the history that measured the peers too is compared with its
    own (same load, same hour); a crmhub-only run with this run's peers.
    Ratios are crmhub's records per CPU second over the peer's, then by
    wall time in brackets: CPU is the fair one on a shared machine.
    """
    current = {
        "label": workload.get("label", "this run"),
        "load_average": workload.get("load_average"),
        "measurements": workload["measurements"],
    }
    rows = [
        "| crmhub | load | wall s | CPU s | records per CPU s | peak RSS | 1% changed, "
        "CPU of the first | " + " | ".join(f"vs {short}, CPU (wall)" for _, short in PEERS) + " |",
        "|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(PEERS),
    ]
    runs = [*workload.get("history", []), current | {"measured_at": workload.get("measured_at")}]
    for run in sorted(runs, key=lambda run: run.get("measured_at") or ""):
        by_name = {m["workload"]: m for m in run["measurements"]}
        peers = {m["workload"]: m for m in (run if _has_peers(run) else current)["measurements"]}
        first = by_name["crmhub sync, first (SQLite)"]
        changed = by_name.get("crmhub sync, 1% changed")
        share = (
            f"{changed['cpu_seconds'] / first['cpu_seconds']:.1%}"
            if changed and first.get("cpu_seconds")
            else "-"
        )
        ratios = [
            f"{_ratio(first, peers[name], 'cpu_seconds')} ({_ratio(first, peers[name], 'seconds')})"
            if name in peers
            else "-"
            for name, _ in PEERS
        ]
        load = run.get("load_average")
        rows.append(f"| {run['label']} | {load[0]:.1f} | " if load else f"| {run['label']} | - | ")
        rows[-1] += (
            f"{_timing(first)} | {_rate(first['records'], first.get('cpu_seconds', 0)):,.0f} | "
            f"{first['peak_rss_mb']:.0f} MB | {share} | " + " | ".join(ratios) + " |"
        )
    return "\n".join(rows)


def _has_peers(run: Result) -> bool:
    return any(not m["workload"].startswith("crmhub") for m in run["measurements"])


def _ratio(crmhub: Result, peer: Result, key: str) -> str:
    """crmhub's records per second (of ``key``) over the peer's."""
    mine = _rate(crmhub["records"], crmhub[key])
    theirs = _rate(peer["records"], peer[key])
    return f"{mine / theirs:.2f}x" if theirs else ""


COUNTS = ("read", "created", "merged", "dead_letters")
"""What ``crmhub sync`` reported: where the contacts served went, when fewer were stored."""


def memory_table(workload: Result) -> str:
    counted = any(m.get("counts") for m in workload["measurements"])
    extra = " | read | created | merged | dead letters" if counted else ""
    rows = [
        f"| customers | wall s | CPU s | records/s (wall) | records per CPU s | peak RSS{extra} |",
        "|---:|---:|---:|---:|---:|---:|" + "---:|" * (len(COUNTS) if counted else 0),
    ]
    for m in workload["measurements"]:
        size = f"{m['records']:,}"
        if m.get("target"):  # a run stopped before the end: how far it got
            size += f" of {m['target']:,} (stopped)"
        elif m.get("served") and m["served"] != m["records"]:  # what the sandbox held
            size += f" stored of {m['served']:,} served"
        counts = m.get("counts") or {}
        tail = "".join(
            f" {counts[key]:,} |" if key in counts else " - |" for key in COUNTS if counted
        )
        rows.append(
            f"| {size} | {_timing(m)} | {_rate(m['records'], m['seconds']):,.0f} | "
            f"{_rate(m['records'], m.get('cpu_seconds', 0)):,.0f} | {m['peak_rss_mb']:.0f} MB |"
            + tail
        )
    sampled = [m for m in workload["measurements"] if m.get("samples")]
    if sampled:
        largest = max(sampled, key=lambda m: m["records"])
        rows += ["", f"During the {_size(largest):,}-customer sync, sampled every minute:", ""]
        rows += [
            "| customers stored | CPU s so far | RSS | peak RSS so far |",
            "|---:|---:|---:|---:|",
        ]
        rows += [
            f"| {s['records']:,} | {s['cpu_seconds']:,.0f} | {s['rss_mb']:.0f} MB | "
            f"{s['peak_rss_mb']:.0f} MB |"
            for s in _spread(largest["samples"], 8)
        ]
    return "\n".join(rows)


def _size(m: Result) -> int:
    """The size a memory run was asked for: the sandbox's contacts, not what was stored."""
    return int(m.get("target") or m.get("served") or m["records"])


def _spread(samples: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """At most ``count`` samples, evenly spaced, the last one always included."""
    if len(samples) <= count:
        return samples
    step = (len(samples) - 1) / (count - 1)
    return [samples[round(i * step)] for i in range(count)]


def push_table(workload: Result) -> str:
    rows = [
        "| path | members | written | errors | wall s | CPU s | records/s (wall) "
        "| records per CPU s | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in workload["measurements"]:
        rows.append(
            f"| {m['workload']} | {m['records']:,} | {m['written']:,} | {m['errors']:,} | "
            f"{_timing(m)} | {_rate(m['records'], m['seconds']):,.0f} | "
            f"{_rate(m['records'], m.get('cpu_seconds', 0)):,.0f} | {m['peak_rss_mb']:.0f} MB |"
        )
    return "\n".join(rows)


def rate_table(workload: Result) -> str:
    rows = [
        "| reader | customers | page size | requests | THROTTLED | per 10,000 requests "
        "| span s | points charged | points allowed | budget used | wall s | CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for entry in workload["runs"]:
        budget, run = entry["budget"], entry["run"]
        rows.append(
            f"| {entry['run']['workload']} | {entry['customers']:,} | {entry['page_size']} | "
            f"{budget['requests']:,} | "
            f"{budget['throttled']} | {budget['throttles_per_10k']:.1f} | "
            f"{budget['seconds']:,.1f} | {budget['charged']:,.0f} | {budget['allowed']:,.0f} | "
            f"{budget['share_used']:.1%} | {run['seconds']:,.1f} | {run['cpu_seconds']:,.1f} |"
        )
    buckets = {(e["bucket"]["maximum"], e["bucket"]["restore_rate"]) for e in workload["runs"]}
    for maximum, restore in sorted(buckets):
        rows += ["", f"Bucket: {maximum:,.0f} points, restoring {restore:g} a second."]
    return "\n".join(rows)


TABLES: dict[str, Callable[[Result], str]] = {
    "pull": pull_table,
    "memory": memory_table,
    "push": push_table,
    "push-engine": push_table,
    "rate": rate_table,
}


def table(name: str, workload: Result) -> str:
    text = TABLES[name](workload)
    if name == "pull" and workload.get("history"):
        text += "\n\ncrmhub's first pull before and after, each against the peers:\n\n"
        text += history_table(workload)
    return text


def _reproduce(name: str, workload: Result) -> str:
    values = {
        "customers": workload.get("customers", 0),
        "sizes": " ".join(
            str(size) for size in dict.fromkeys(_size(m) for m in workload.get("measurements", []))
        ),
        "records": max((m["records"] for m in workload.get("measurements", [])), default=0),
        "runs": " ".join(
            f"{r['customers']}:{r['page_size']}:{r['how']}" for r in workload.get("runs", [])
        ),
    }
    return REPRODUCE[name].format(**values)


def render_block(name: str, result: Result) -> str:
    """The markdown of one workload of ``result``, markers included."""
    workload = result["workloads"][name]
    versions = result["versions"]
    peers = ", ".join(f"{k} {v}" for k, v in versions.items() if k != "crmhub")
    load = workload.get("load_average")
    shared = (
        f"; the machine was shared with other engineers' work (load average {load[0]:.1f} "
        f"at the start on {result['cpus']} cores), so CPU seconds are given beside wall time"
        if load
        else ""
    )
    return (
        f"<!-- compare:{name}:start -->\n"
        f"Measured {result['date']} on {result['host']} (crmhub {versions.get('crmhub', '-')}, "
        f"Python {result['python']}; {peers}){shared}.\n\n"
        f"{table(name, workload)}\n\n"
        f"Reproduce: `{_reproduce(name, workload)}`\n"
        f"<!-- compare:{name}:end -->"
    )


def replace_block(document: str, name: str, block: str) -> str:
    """``document`` with the block of ``name`` replaced, or appended under its own heading."""
    start, end = f"<!-- compare:{name}:start -->", f"<!-- compare:{name}:end -->"
    if start in document and end in document:
        return (
            document[: document.index(start)] + block + document[document.index(end) + len(end) :]
        )
    return document.rstrip("\n") + f"\n\n### {TITLES[name]}\n\n{block}\n"
