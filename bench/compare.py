"""crmhub beside dlt and beside the raw limit: the same data, the same local server, one run.

    python -m bench.compare --customers 100000
    python -m bench.compare --customers 1000000 --only crmhub     # the memory curve

The example sandbox serves N contacts on loopback in a process of its own
(bench/sandbox_server.py, rate limit off). Every loader then reads the same
pages of 100 from it, each in a fresh process so that its wall time and peak
RSS (from ``wait4``) are its own:

- ``crmhub sync`` into SQLite: mapping, normalisation, identity and merge included;
  then 1% of the contacts are edited at the sandbox and ``crmhub sync`` runs again
  (the incremental pull), and once more with nothing changed, which is the
  fixed cost of a run (process start, migrations check, cursor reads);
- dlt's ``rest_api`` source into SQLite (its ``sqlalchemy`` destination) and into
  DuckDB, from a virtualenv of its own (bench/.peers-venv, pinned versions) that
  this script makes: dlt is never a crmhub dependency;
- the raw limit: httpx fetching and parsing the pages and nothing else, and the
  same plus a bare ``executemany`` of flat rows into SQLite (bench/raw.py).

Writes bench/results/<date>-<host>.json (raw figures, every version) and the
table between the ``compare`` markers in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import httpx
import yaml

from connectors.example.sandbox import TOKEN

ROOT = Path(__file__).resolve().parent.parent
PEERS_VENV = ROOT / "bench" / ".peers-venv"
PEERS = ("dlt[duckdb,sqlalchemy]==1.31.0",)
PEER_VERSIONS = ("dlt", "duckdb", "sqlalchemy", "requests")
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"
MARKERS = ("<!-- compare:start -->", "<!-- compare:end -->")
CHANGED_EVERY = 100  # 1%


@dataclass
class Measurement:
    workload: str
    records: int
    seconds: float
    peak_rss_mb: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def measure(
    workload: str, command: Sequence[str], *, env: dict[str, str] | None = None
) -> tuple[Measurement, str]:
    """Run ``command`` in a fresh process; its wall time, its own peak RSS and its stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, text=True, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr = process.stderr.read() if process.stderr else ""
        if process.returncode != 0:
            raise SystemExit(f"{workload}: {' '.join(command)} failed:\n{stderr[-2000:]}")
        out.seek(0)
        output = out.read()
    return Measurement(workload, 0, round(seconds, 2), round(usage.ru_maxrss / 1024, 1)), output


@contextmanager
def sandbox(customers: int) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.sandbox_server", "--customers", str(customers)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("READY "):
            raise SystemExit(f"the sandbox did not start: {line!r}")
        url = line.split()[1]
        _wait_until_serving(url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_serving(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/api/v1/contacts", params={"limit": 1}, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"the sandbox at {url} did not answer")


def ensure_peers() -> Path:
    """The peers' virtualenv, made (or remade when the pins change) by this script."""
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


def crmhub_pulls(url: str, folder: Path, customers: int) -> list[Measurement]:
    config = folder / "crmhub.yaml"
    settings = {"base_url": url, "api_token": "${EXAMPLE_SANDBOX_TOKEN}", "page_size": 100}
    connection = {"connector": "example", "direction": "pull", "streams": ["customers"]}
    document = {
        "store": "sqlite:///crmhub.db",
        "connections": {"crm": connection | {"config": settings}},
    }
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    env = os.environ | {"EXAMPLE_SANDBOX_TOKEN": TOKEN}
    command = [str(Path(sys.executable).with_name("crmhub")), "sync", "-c", str(config), "--json"]
    first, _ = measure("crmhub sync, first (SQLite)", command, env=env)
    first.records = _count_customers(folder / "crmhub.db")
    changed = _edit_one_percent(url, customers)
    again, _ = measure("crmhub sync, 1% changed", command, env=env)
    again.records = changed
    idle, _ = measure("crmhub sync, nothing changed", command, env=env)
    return [first, again, idle]


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


def table(measurements: list[Measurement]) -> str:
    crmhub = measurements[0]
    rows = [
        "| workload | records | seconds | records/s | peak RSS | crmhub's speed relative to it |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m in measurements:
        if "changed" in m.workload:
            ratio = f"{m.seconds / crmhub.seconds:.1%} of the first pull's time"
        else:
            ratio = "" if m is crmhub else f"{crmhub.rate / m.rate:.2f}x"
        rows.append(
            f"| {m.workload} | {m.records:,} | {m.seconds:.1f} | {m.rate:,.0f} | "
            f"{m.peak_rss_mb:.0f} MB | {ratio} |"
        )
    return "\n".join(rows)


def write_doc(result: dict[str, object], markdown: str) -> None:
    text = DOC.read_text()
    start, end = MARKERS
    block = (
        f"{start}\n{result['customers']:,} contacts, measured {result['date']} on {result['host']} "
        f"(Python {result['python']}, dlt {result['versions'].get('dlt', '-')}):"  # type: ignore[attr-defined]
        f"\n\n{markdown}\n\nReproduce: `{result['command']}`\n{end}"
    )
    if start in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text += f"\n## Side by side (issue 14)\n\n{block}\n"
    DOC.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--only", choices=["crmhub"], help="skip the peers and the raw limit")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/performance.md")
    parser.add_argument(
        "--render", type=Path, help="rewrite the table from a results file instead of measuring"
    )
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(args.render.read_text())
        fields = ("workload", "records", "seconds", "peak_rss_mb")
        markdown = table([Measurement(*(m[f] for f in fields)) for m in saved["measurements"]])
        print(markdown)
        write_doc(saved, markdown)
        return
    python = None if args.only else ensure_peers()
    with tempfile.TemporaryDirectory() as tmp, sandbox(args.customers) as url:
        folder = Path(tmp)
        measurements = crmhub_pulls(url, folder, args.customers)
        if python is not None:
            measurements += peer_pulls(url, folder, python) + raw_pulls(url, folder)
    versions = {"crmhub": version("crmhub"), "httpx": version("httpx")}
    versions |= peer_versions(python) if python else {}
    result: dict[str, object] = {
        "date": datetime.now(UTC).date().isoformat(),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "customers": args.customers,
        "command": "python -m bench.compare " + " ".join(argv or sys.argv[1:]),
        "versions": versions,
        "measurements": [asdict(m) | {"records_per_s": round(m.rate)} for m in measurements],
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{result['date']}-{result['host']}-{args.customers}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    markdown = table(measurements)
    print(markdown)
    print(f"\nwrote {out}")
    if not args.no_doc and not args.only:
        write_doc(result, markdown)
        print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
