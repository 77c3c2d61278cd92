"""`crmhub sync`, `crmhub runs list`, `crmhub deadletters list|show`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from hub.cli.context import fetch_one, store_for
from hub.cli.output import (
    ConfigOption,
    JsonOption,
    console,
    fail,
    print_json,
    print_table,
    reports_errors,
)
from hub.config import HubConfig
from hub.connector import Page
from hub.engine.context import StreamContext
from hub.engine.runner import StreamResult, sync
from hub.plugins import Plugins
from hub.store.database import Store
from hub.store.queries import list_dead_letters, list_runs
from hub.store.tables import DeadLetter

__all__ = ["deadletters_app", "run_sync", "runs_app", "sync_command"]

runs_app = typer.Typer(help="Sync run history.", no_args_is_help=True)
deadletters_app = typer.Typer(help="Records that could not be synced.", no_args_is_help=True)


def run_sync(
    store: Store,
    config: HubConfig,
    plugins: Plugins,
    *,
    connections: list[str] | None = None,
    full: bool = False,
    dry_run: bool = False,
    show_progress: bool = True,
) -> list[StreamResult]:
    """Run one pass with a live line per stream: records read and time taken."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} records"),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress,
        transient=False,
    ) as progress:
        tasks: dict[tuple[str, str], TaskID] = {}

        def on_page(ctx: StreamContext, page: Page) -> None:
            key = (ctx.connection, ctx.stream)
            if key not in tasks:
                tasks[key] = progress.add_task(f"{ctx.connection}/{ctx.stream}", total=None)
            progress.advance(tasks[key], len(page.records))

        return asyncio.run(
            sync(
                store,
                config,
                plugins,
                connections=connections,
                full=full,
                dry_run=dry_run,
                on_page=on_page,
            )
        )


@reports_errors
def sync_command(
    config: ConfigOption = Path("crmhub.yaml"),
    connection: Annotated[
        list[str] | None, typer.Option("--connection", help="Only this connection (repeatable)")
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Read everything, not only changes")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and write nothing; show the pushes planned")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """One pass: pull every connection, then push the hub's changes to those that take them."""
    hub_config, plugins, store = store_for(config)
    for name in connection or []:
        if name not in hub_config.connections:
            known = ", ".join(hub_config.connections) or "none"
            raise fail(f"no connection named {name!r} in {config} (defined: {known})", 2)
    results = run_sync(
        store, hub_config, plugins, connections=connection, full=full, show_progress=not as_json
    )
    if as_json:
        print_json([vars(r) for r in results])
    else:
        _print_results(results)
    if any(r.status != "succeeded" for r in results):
        raise typer.Exit(1)


def _print_results(results: list[StreamResult]) -> None:
    columns = [
        "run",
        "stream",
        "phase",
        "status",
        "read",
        "created",
        "updated",
        "unchanged",
        "pushed",
        "dead letters",
    ]
    rows = [
        [
            r.run_id,
            f"{r.connection}/{r.stream}",
            r.phase,
            r.status,
            r.counts.get("read"),
            r.counts.get("created"),
            r.counts.get("updated"),
            r.counts.get("unchanged"),
            r.counts.get("pushed"),
            r.counts.get("dead_letters"),
        ]
        for r in results
    ]
    print_table("Sync", columns, rows)
    for r in results:
        if r.error:
            console.print(f"[red]{r.connection}/{r.stream}:[/] {r.error}", highlight=False)
        if r.counts.get("differences"):
            console.print(
                f"first sync of {r.connection}/{r.stream}: it holds "
                f"{r.counts['differences']} value(s) that differ from the hub's; see them "
                "with `crmhub conflicts list --kind initial --status all`",
                highlight=False,
            )
    if any(r.counts.get("dead_letters") for r in results):
        console.print("see them with `crmhub deadletters list`")


@runs_app.command("list")
@reports_errors
def runs_list(
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="Newest this many")] = 20,
    connection: Annotated[str | None, typer.Option(help="Only this connection")] = None,
) -> None:
    """Recent sync runs with their counts."""
    _, _, store = store_for(config)
    with store.session() as session:
        runs = list_runs(session, limit=limit, connection=connection)
    if as_json:
        print_json([run.model_dump() for run in runs])
        return
    print_table(
        "Runs",
        ["id", "stream", "status", "started", "read", "created", "updated", "dead letters"],
        [
            [
                r.id,
                f"{r.connection}/{r.stream}",
                r.status,
                f"{r.started_at:%Y-%m-%d %H:%M:%S}",
                r.counts.get("read"),
                r.counts.get("created"),
                r.counts.get("updated"),
                r.counts.get("dead_letters"),
            ]
            for r in runs
        ],
    )


@deadletters_app.command("list")
@reports_errors
def deadletters_list(
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="Newest this many")] = 50,
) -> None:
    """Open dead letters, newest first."""
    _, _, store = store_for(config)
    with store.session() as session:
        letters = list_dead_letters(session, limit=limit)
    if as_json:
        print_json([letter.model_dump() for letter in letters])
        return
    print_table(
        "Dead letters",
        ["id", "stream", "record", "reason", "error"],
        [[d.id, f"{d.connection}/{d.stream}", d.external_id, d.reason, d.error] for d in letters],
    )


@deadletters_app.command("show")
@reports_errors
def deadletters_show(
    letter_id: Annotated[int, typer.Argument(help="Dead letter id")],
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
) -> None:
    """One dead letter with its raw payload (secrets removed) and error."""
    letter = fetch_one(config, DeadLetter, letter_id, "dead letter")
    if as_json:
        print_json(letter.model_dump())
        return
    console.print(
        f"[bold]{letter.connection}/{letter.stream}[/] record {letter.external_id}: {letter.error}",
        highlight=False,
    )
    console.print_json(data=letter.payload)
