"""The ``crmhub`` command line: typer commands over the hub's public API."""

from __future__ import annotations

import logging
from importlib.metadata import version
from typing import Annotated

import typer

from hub.cli.config_cmd import config_app, init
from hub.cli.connectors_cmd import connectors_app
from hub.cli.customers_cmd import customers_app
from hub.cli.demo import demo
from hub.cli.erase_cmd import erase_command
from hub.cli.export_cmd import export
from hub.cli.logsetup import LogFormat, configure
from hub.cli.report_cmd import report
from hub.cli.review_cmd import conflicts_app, deadletters_retry, unmerge_command
from hub.cli.sandbox_cmd import sandbox_app
from hub.cli.scaffold_cmd import new_connector
from hub.cli.segments_cmd import segments_app, triggers_app
from hub.cli.service_cmd import run_command, worker_command
from hub.cli.status_cmd import status_command
from hub.cli.sync_cmd import deadletters_app, runs_app, sync_command

__all__ = ["app", "main"]

app = typer.Typer(
    name="crmhub",
    help="Keep one customer record in step with every shop, CRM and marketing tool.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crmhub {version('crmhub')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version"),
    ] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log detail (-vv: debug)")
    ] = 0,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            "--log-format",
            help="Log lines as text for people or as JSON objects, one a line "
            "(default: text, or service.log_format for run and worker)",
        ),
    ] = None,
) -> None:
    """crmhub: a connector hub for e-commerce CRM."""
    configure({0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG), log_format)


app.command("init")(init)
app.command("demo")(demo)
app.command("sync")(sync_command)
app.command("run")(run_command)
app.command("worker")(worker_command)
app.command("status")(status_command)
app.command("export")(export)
app.command("erase")(erase_command)
app.command("new-connector")(new_connector)
app.command("report")(report)
customers_app.command("unmerge")(unmerge_command)
deadletters_app.command("retry")(deadletters_retry)
app.add_typer(config_app, name="config")
app.add_typer(connectors_app, name="connectors")
app.add_typer(customers_app, name="customers")
app.add_typer(runs_app, name="runs")
app.add_typer(deadletters_app, name="deadletters")
app.add_typer(conflicts_app, name="conflicts")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(segments_app, name="segments")
app.add_typer(triggers_app, name="triggers")


def main() -> None:
    app()
