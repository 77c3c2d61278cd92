"""`crmhub demo`: the sample shop's spreadsheet imported into a fresh store.

The demo must work on a fresh clone with nothing running, so it uses the file
connector and an embedded SQLite store; the demo config lives in config/.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from hub.cli.context import load
from hub.cli.output import ConfigOption, console, print_table, reports_errors
from hub.cli.sync_cmd import run_sync
from hub.store.database import open_store, relative_to
from hub.store.queries import count_customers, iter_customers, list_dead_letters

__all__ = ["demo"]


@reports_errors
def demo(config: ConfigOption = Path("config/demo.yaml")) -> None:
    """Import the sample customers and orders into a fresh store and show them."""
    hub_config, plugins = load(config)
    url = relative_to(hub_config.store, config.parent)
    database = make_url(url).database
    if url.startswith("sqlite") and database:
        for suffix in ("", "-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)
    store = open_store(url)
    console.rule("crmhub demo: a shop's spreadsheet into the hub")
    results = run_sync(store, hub_config, plugins)
    print_table(
        "What the sync did",
        ["stream", "read", "created", "dead letters"],
        [
            [
                f"{r.connection}/{r.stream}",
                r.counts["read"],
                r.counts["created"],
                r.counts["dead_letters"],
            ]
            for r in results
        ],
    )
    with store.session() as session:
        total = count_customers(session)
        sample = list(iter_customers(session, limit=5))
        letters = list_dead_letters(session, limit=5)
    print_table(
        f"{total} customers in the hub (first 5)",
        ["hub id", "name", "e-mail", "phone", "country"],
        [
            [
                c.hub_id,
                f"{c.first_name} {c.last_name}",
                c.primary_email,
                (c.data.get("phones") or [""])[0],
                (c.data.get("addresses") or [{}])[0].get("country"),
            ]
            for c in sample
        ],
    )
    print_table(
        "Rows that went to dead letters",
        ["id", "record", "error"],
        [[d.id, d.external_id, d.error] for d in letters],
    )
    console.print(
        f"\nLook further with:\n  crmhub customers list -c {config}\n"
        f"  crmhub customers show {sample[0].hub_id if sample else 'HUB_ID'} -c {config}\n"
        f"  crmhub deadletters list -c {config}\n  crmhub runs list -c {config}",
        highlight=False,
    )
