"""The loaders of the pull comparison, each timed in a process of its own on the same sandbox.

- ``crmhub sync`` into SQLite: mapping, normalisation, identity and merge included;
  then 1% of the contacts are edited at the sandbox and ``crmhub sync`` runs again
  (the incremental pull), and once more with nothing changed, which is the
  fixed cost of a run (process start, migrations check, cursor reads);
- dlt's ``rest_api`` source into SQLite (its ``sqlalchemy`` destination) and into
  DuckDB, from a virtualenv of its own (bench/.peers-venv, pinned versions) that
  this module makes: dlt is never a crmhub dependency;
- the raw limit: httpx fetching and parsing the pages and nothing else, and the
  same plus a bare ``executemany`` of flat rows into SQLite (bench/raw.py).

The example sandbox serves the contacts on loopback in a process of its own
(bench/sandbox_server.py, rate limit off), pages of 100 for every loader.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

from bench.measure import Measurement, measure, sample_sync
from connectors.example.sandbox import TOKEN

__all__ = [
    "crmhub_first_pull",
    "crmhub_pulls",
    "ensure_peers",
    "peer_pulls",
    "peer_versions",
    "raw_pulls",
    "served",
]

ROOT = Path(__file__).resolve().parent.parent
PEERS_VENV = ROOT / "bench" / ".peers-venv"
PEERS = ("dlt[duckdb,sqlalchemy]==1.31.0",)
PEER_VERSIONS = ("dlt", "duckdb", "sqlalchemy", "requests")
CHANGED_EVERY = 100  # 1%
CRMHUB = str(Path(sys.executable).with_name("crmhub"))


@contextmanager
def served(vendor: str, customers: int, *options: str) -> Iterator[str]:
    """A sandbox of ``vendor`` with ``customers`` people on loopback, in a process of its own."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.sandbox_server",
            vendor,
            "--customers",
            str(customers),
            *options,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("READY "):
            raise SystemExit(f"the {vendor} sandbox did not start: {line!r}")
        url = line.split()[1]
        _wait_until_serving(url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_serving(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"the sandbox at {url} did not answer")


def ensure_peers() -> Path:
    """The peers' virtualenv, made (or remade when the pins change) by this module."""
    python = PEERS_VENV / "bin" / "python"
    stamp = PEERS_VENV / "pins.txt"
    wanted = "\n".join(PEERS)
    if not python.exists() or not stamp.exists() or stamp.read_text() != wanted:
        print(f"installing {', '.join(PEERS)} into {PEERS_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEERS_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEERS], check=True)
        stamp.write_text(wanted)
    return python


def peer_versions(python: Path) -> dict[str, str]:
    script = (
        "import json, importlib.metadata as m;"
        f"print(json.dumps({{n: m.version(n) for n in {list(PEER_VERSIONS)!r}}}))"
    )
    found: dict[str, str] = json.loads(subprocess.check_output([str(python), "-c", script]))
    return found


def _records(output: str) -> int:
    return int(json.loads(output.strip().splitlines()[-1])["records"])


def _example_config(url: str, folder: Path) -> Path:
    config = folder / "crmhub.yaml"
    settings = {"base_url": url, "api_token": "${EXAMPLE_SANDBOX_TOKEN}", "page_size": 100}
    connection = {"connector": "example", "direction": "pull", "streams": ["customers"]}
    document = {
        "store": "sqlite:///crmhub.db",
        "connections": {"crm": connection | {"config": settings}},
    }
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    return config


def _sync(config: Path) -> list[str]:
    return [CRMHUB, "sync", "-c", str(config), "--json"]


_ENV = os.environ | {"EXAMPLE_SANDBOX_TOKEN": TOKEN}


def crmhub_first_pull(url: str, folder: Path, label: str, *, every: float = 0) -> Measurement:
    """``crmhub sync`` of every contact into an empty SQLite store.

    With ``every``, its RSS and the customers stored so far are sampled that often.
    """
    command = _sync(_example_config(url, folder))
    watch = sample_sync(folder / "crmhub.db") if every else None
    first, output = measure(label, command, env=_ENV, watch=watch, every=every or 30.0)
    first.records = _count_customers(folder / "crmhub.db")
    first.counts = _sync_counts(output)
    return first


def crmhub_pulls(url: str, folder: Path, customers: int) -> list[Measurement]:
    """The first pull, the pull after 1% changed, and a pull with nothing changed."""
    first = crmhub_first_pull(url, folder, "crmhub sync, first (SQLite)")
    command = _sync(folder / "crmhub.yaml")
    changed = _edit_one_percent(url, customers)
    again, _ = measure("crmhub sync, 1% changed", command, env=_ENV)
    again.records = changed
    idle, _ = measure("crmhub sync, nothing changed", command, env=_ENV)
    return [first, again, idle]


def _sync_counts(output: str) -> dict[str, int]:
    """The counts ``crmhub sync --json`` reports (read, created, merged, dead letters...),
    summed over its runs: they tell where records went when the store holds fewer."""
    totals: dict[str, int] = {}
    for run in json.loads(output or "[]"):
        for key, value in (run.get("counts") or {}).items():
            totals[key] = totals.get(key, 0) + int(value)
    return totals


def _count_customers(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        count: int = connection.execute("SELECT count(*) FROM customer").fetchone()[0]
    return count


def _edit_one_percent(url: str, customers: int) -> int:
    """Edit every 100th contact through the API, as a CRM user would."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        edited = 0
        for number in range(CHANGED_EVERY, customers + 1, CHANGED_EVERY):
            path = f"/api/v1/contacts/ct_{number:06d}"
            contact = client.get(path).raise_for_status().json()
            body = {key: contact[key] for key in ("email", "first_name", "phone", "tags")}
            body["last_name"] = f"{contact['last_name']}-Changed"
            client.put(path, json=body).raise_for_status()
            edited += 1
    return edited


def peer_pulls(url: str, folder: Path, python: Path) -> list[Measurement]:
    script = str(ROOT / "bench" / "peers" / "dlt_pull.py")
    found = []
    for target in ("sqlite", "duckdb"):
        where = folder / f"dlt-{target}"
        where.mkdir()
        label = f"dlt rest_api -> {'SQLite (sqlalchemy)' if target == 'sqlite' else 'DuckDB'}"
        measurement, output = measure(label, [str(python), script, url, TOKEN, target, str(where)])
        measurement.records = _records(output)
        found.append(measurement)
    return found


def raw_pulls(url: str, folder: Path) -> list[Measurement]:
    found = []
    for mode, label in (("fetch", "raw: httpx fetch + parse"), ("sqlite", "raw: + executemany")):
        command = [sys.executable, "-m", "bench.raw", mode, url, TOKEN, str(folder / "raw.db")]
        measurement, output = measure(label, command)
        measurement.records = _records(output)
        found.append(measurement)
    return found
