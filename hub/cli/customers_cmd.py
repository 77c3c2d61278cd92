"""`crmhub customers list|show`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from hub.cli.context import store_for
from hub.cli.output import (
    ConfigOption,
    JsonOption,
    console,
    fail,
    json_default,
    print_json,
    print_table,
    reports_errors,
)
from hub.store.queries import (
    count_customers,
    customer_dict,
    find_customer,
    history_of,
    iter_customers,
    links_of,
)
from hub.store.tables import CustomerRow

__all__ = ["customers_app"]

customers_app = typer.Typer(help="Look at unified customers.", no_args_is_help=True)
HUMAN_LIMIT = 50


@customers_app.command("list")
@reports_errors
def list_customers(
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
    limit: Annotated[
        int | None, typer.Option(help="At most this many (JSON: all by default)")
    ] = None,
    offset: Annotated[int, typer.Option(help="Skip this many")] = 0,
    search: Annotated[str | None, typer.Option(help="Match name or e-mail")] = None,
) -> None:
    """List customers; JSON output streams every one of them."""
    _, _, store = store_for(config)
    with store.session() as session:
        if as_json:
            _stream_json(iter_customers(session, limit=limit, offset=offset, search=search))
            return
        shown = limit if limit is not None else HUMAN_LIMIT
        total = count_customers(session, search)
        rows = [
            [
                c.hub_id,
                " ".join(filter(None, [c.first_name, c.last_name])),
                c.primary_email,
                ", ".join(c.data.get("phones", [])),
                ", ".join(c.data.get("tags", [])),
            ]
            for c in iter_customers(session, limit=shown, offset=offset, search=search)
        ]
    print_table(f"Customers ({total})", ["hub id", "name", "e-mail", "phones", "tags"], rows)
    if total > offset + len(rows):
        console.print(f"showing {len(rows)} of {total}; use --limit/--offset or --json")


def _stream_json(rows: Iterable[CustomerRow]) -> None:
    """Write a JSON array one customer at a time: memory stays flat for big stores."""
    out = sys.stdout
    out.write("[")
    for index, row in enumerate(rows):
        out.write(("," if index else "") + "\n  ")
        out.write(json.dumps(customer_dict(row), default=json_default, ensure_ascii=False))
    out.write("\n]\n")


@customers_app.command("show")
@reports_errors
def show_customer(
    key: Annotated[str, typer.Argument(help="Hub id or e-mail")],
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
    history: Annotated[
        int, typer.Option(min=0, help="Newest orders and interactions to show of each")
    ] = 20,
) -> None:
    """Show one customer: the record, where they live in each system, orders and touch points."""
    _, _, store = store_for(config)
    with store.session() as session:
        row = find_customer(session, key)
        if row is None:
            raise fail(f"no customer with hub id or e-mail {key!r}")
        links = [
            {
                "connection": link.connection,
                "external_id": link.external_id,
                "updated_at": link.updated_at,
            }
            for link in links_of(session, row.hub_id)
        ]
        past = history_of(session, row.hub_id, limit=history)
    if as_json:
        print_json({**customer_dict(row), "links": links, **past})
        return
    console.print_json(
        json.dumps({**customer_dict(row), "links": links}, default=json_default, ensure_ascii=False)
    )
    _print_history(past)


def _print_history(past: dict[str, Any]) -> None:
    orders, touches = past["orders"], past["interactions"]
    print_table(
        f"Orders ({len(orders)} of {past['order_count']})",
        ["placed", "source", "number", "total", "status"],
        [
            [o["placed_at"], o["source"], o["number"], f"{o['total']} {o['currency']}", o["status"]]
            for o in orders
        ],
    )
    print_table(
        f"Interactions ({len(touches)} of {past['interaction_count']})",
        ["when", "source", "kind", "subject or campaign", "status"],
        [
            [i["occurred_at"], i["source"], i["kind"], i["subject"] or i["campaign"], i["status"]]
            for i in touches
        ],
    )
