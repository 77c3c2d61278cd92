"""`crmhub erase`: the right to erasure, carried to every connected system."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.context import store_for
from hub.cli.output import ConfigOption, JsonOption, console, fail, print_json, reports_errors
from hub.engine.erase import erase

__all__ = ["erase_command"]


@reports_errors
def erase_command(
    email: Annotated[str | None, typer.Option("--email", help="The person's e-mail")] = None,
    hub_id: Annotated[str | None, typer.Option("--hub-id", help="The person's hub id")] = None,
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
) -> None:
    """Erase a person from the hub and queue deletes to every system that supports them.

    The deletes go out on the next `crmhub sync`. A salted hash of each of the
    person's identifiers stays, so no later pull brings them back.
    """
    if (email is None) == (hub_id is None):
        raise fail("say exactly one of --email or --hub-id", 2)
    hub_config, plugins, store = store_for(config)
    targets = [
        name
        for name, connection in hub_config.connections.items()
        if connection.direction != "pull"
        and "customers" in connection.streams
        and "customers" in plugins.connector(connection.connector).deletes
    ]
    with store.session() as session:
        done = erase(session, email or hub_id or "", delete_targets=targets)
    if as_json:
        print_json(
            {"erased": True, "tombstones": done.tombstones, "deletes_queued": done.deletes_queued}
        )
        return
    where = ", ".join(done.deletes_queued) or "no connected system that supports deletes"
    console.print(
        f"erased; deletes queued for {where} (sent on the next `crmhub sync`)", highlight=False
    )
