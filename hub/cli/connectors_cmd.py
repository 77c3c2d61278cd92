"""`crmhub connectors list`."""

from __future__ import annotations

import typer

from hub.cli.context import plugins_with_warnings
from hub.cli.output import JsonOption, print_json, print_table, reports_errors

__all__ = ["connectors_app"]

connectors_app = typer.Typer(help="Installed connectors.", no_args_is_help=True)


@connectors_app.command("list")
@reports_errors
def list_connectors(as_json: JsonOption = False) -> None:
    """Show every connector found through the crmhub.connectors entry points."""
    plugins = plugins_with_warnings()
    rows = [
        {
            "name": name,
            "reads": sorted(cls.reads),
            "writes": sorted(cls.writes),
            "module": cls.__module__,
        }
        for name, cls in sorted(plugins.connectors.items())
    ]
    if as_json:
        print_json({"connectors": rows, "failures": [str(f) for f in plugins.failures]})
        return
    print_table(
        "Connectors",
        ["name", "reads", "writes", "module"],
        [[r["name"], ", ".join(r["reads"]), ", ".join(r["writes"]), r["module"]] for r in rows],
    )
