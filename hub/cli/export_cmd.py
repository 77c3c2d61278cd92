"""`crmhub export`: hub customers or orders to a CSV or JSON Lines file.

The export goes through the file connector's own write path, so an exported
file has the same shape a `files` connection reads back.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Literal

import typer

from hub.cli.context import store_for
from hub.cli.output import ConfigOption, JsonOption, console, print_json, reports_errors
from hub.connector import Change
from hub.model import Customer
from hub.store.queries import iter_customers, iter_orders

__all__ = ["export"]


@reports_errors
def export(
    stream: Annotated[Literal["customers", "orders"], typer.Argument(help="What to export")],
    to: Annotated[Path, typer.Option("--to", help="Target file: .csv or .jsonl")],
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
) -> None:
    """Write every customer or order in the hub to a file, keyed by hub id."""
    _, plugins, store = store_for(config)
    files = plugins.connector("files")
    target = to.resolve()
    settings = (
        {"path": target} if stream == "customers" else {"path": target, "orders": {"path": target}}
    )
    connector = files(files.config_model.model_validate(settings), connection="export")
    with store.session() as session:
        if stream == "customers":
            changes = [
                Change(
                    hub_id=row.hub_id,
                    external_id=row.hub_id,
                    record=Customer.model_validate(row.data),
                )
                for row in iter_customers(session)
            ]
        else:
            changes = [
                Change(hub_id=oid, external_id=oid, record=order)
                for oid, order in iter_orders(session)
            ]
    target.unlink(missing_ok=True)
    results = asyncio.run(connector.write(stream, changes))
    if as_json:
        print_json({"stream": stream, "file": str(target), "records": len(results)})
    else:
        console.print(f"wrote {len(results)} {stream} to {target}", highlight=False)
