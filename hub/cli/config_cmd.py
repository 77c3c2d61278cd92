"""`crmhub config check|schema` and `crmhub init`."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.context import load, plugins_with_warnings
from hub.cli.output import ConfigOption, JsonOption, console, fail, print_json, reports_errors
from hub.config import config_json_schema, redact_url

__all__ = ["config_app", "init"]

config_app = typer.Typer(help="Check a config file or print its JSON Schema.", no_args_is_help=True)


@config_app.command("check")
@reports_errors
def check(config: ConfigOption = Path("crmhub.yaml"), as_json: JsonOption = False) -> None:
    """Validate a config file without touching the network or the store."""
    hub_config, _ = load(config)
    summary = {
        "file": str(config),
        "store": redact_url(hub_config.store),
        "connections": {
            name: {"connector": c.connector, "streams": c.streams, "direction": c.direction}
            for name, c in hub_config.connections.items()
        },
    }
    if as_json:
        print_json({"ok": True, **summary})
        return
    console.print(
        f"[green]ok[/] {config}: store {summary['store']}, "
        f"{len(hub_config.connections)} connection(s)",
        highlight=False,
    )
    for name, connection in hub_config.connections.items():
        console.print(
            f"  {name}: {connection.connector} {connection.direction} "
            f"{', '.join(connection.streams)}",
            highlight=False,
        )


@config_app.command("schema")
@reports_errors
def schema() -> None:
    """Print the config file's JSON Schema (for editor completion)."""
    print_json(config_json_schema(plugins_with_warnings()))


@reports_errors
def init(
    config: ConfigOption = Path("crmhub.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")] = False,
) -> None:
    """Write a commented starter config."""
    if config.exists() and not force:
        raise fail(f"{config} exists; pass --force to overwrite it", 1)
    template = files("hub.templates").joinpath("crmhub.yaml").read_text(encoding="utf-8")
    config.write_text(template, encoding="utf-8")
    console.print(
        f"wrote {config}; check it with `crmhub config check -c {config}`", highlight=False
    )
