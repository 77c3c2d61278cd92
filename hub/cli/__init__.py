"""The ``crmhub`` command line: typer commands over the hub's public API."""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated

import typer

from hub.cli.config_cmd import config_app, init
from hub.cli.connectors_cmd import connectors_app
from hub.cli.customers_cmd import customers_app
from hub.cli.demo import demo
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
) -> None:
    """crmhub: a connector hub for e-commerce CRM."""


app.command("init")(init)
app.command("demo")(demo)
app.command("sync")(sync_command)
app.add_typer(config_app, name="config")
app.add_typer(connectors_app, name="connectors")
app.add_typer(customers_app, name="customers")
app.add_typer(runs_app, name="runs")
app.add_typer(deadletters_app, name="deadletters")


def main() -> None:
    app()
