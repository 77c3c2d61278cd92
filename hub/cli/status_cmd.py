"""`crmhub status`: is every connection in step, and what waits for someone?"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import typer

from hub.cli.context import store_for
from hub.cli.output import (
    ConfigOption,
    JsonOption,
    console,
    print_json,
    print_table,
    reports_errors,
)
from hub.store.status import ConnectionStatus, hub_status

__all__ = ["status_command"]


@reports_errors
def status_command(config: ConfigOption = Path("crmhub.yaml"), as_json: JsonOption = False) -> None:
    """Each connection's last run, lag since its last success, failures, queued pushes and
    dead letters, and the conflicts waiting for review. Exits 1 when a connection's last run
    failed, so a health check or cron job can alert on it."""
    hub_config, _, store = store_for(config)
    with store.session() as session:
        status = hub_status(session, sorted(hub_config.connections))
    if as_json:
        print_json(
            {
                "customers": status.customers,
                "open_conflicts": status.open_conflicts,
                "connections": [asdict(c) | {"healthy": c.healthy} for c in status.connections],
            }
        )
    else:
        print_table(
            f"{status.customers} customers, {status.open_conflicts} conflicts for review",
            [
                "connection",
                "last run",
                "result",
                "last success",
                "lag",
                "failures",
                "to push",
                "dead letters",
            ],
            [_row(c) for c in status.connections],
        )
        if status.open_conflicts:
            console.print(f"see them with `crmhub conflicts list -c {config}`", highlight=False)
    if not all(c.healthy for c in status.connections):
        raise typer.Exit(1)


def _row(c: ConnectionStatus) -> list[object]:
    return [
        c.connection,
        _when(c.last_run_at),
        c.last_status or "never run",
        _when(c.last_success_at),
        _lag(c.lag_seconds),
        c.failures_since_success,
        c.outbox_pending,
        c.dead_letters,
    ]


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _lag(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"
