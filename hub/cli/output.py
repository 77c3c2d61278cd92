"""How the CLI talks: rich tables for people, JSON for scripts, plain errors.

Every command prints human output by default and JSON with ``--json``, and
exits 0 on success, 1 on failure, 2 on a usage or config error. A user error
is one line starting with ``crmhub:``, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from hub.errors import ConfigError, CrmhubError

__all__ = [
    "ConfigOption",
    "JsonOption",
    "console",
    "err_console",
    "fail",
    "json_default",
    "print_json",
    "print_table",
    "reports_errors",
]

console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file", envvar="CRMHUB_CONFIG")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]

P = ParamSpec("P")
R = TypeVar("R")


def json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=json_default, ensure_ascii=False, indent=2) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(table)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error and return the Exit to raise."""
    err_console.print(f"[bold red]crmhub:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn crmhub's own errors into a message and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            # One problem per line, each starting file:line:column so that
            # editors and CI annotate them; no prefix in front of the first.
            for line in str(exc).splitlines():
                err_console.print(line, highlight=False, soft_wrap=True, markup=False)
            raise typer.Exit(exc.exit_code) from None
        except CrmhubError as exc:
            raise fail(str(exc), exc.exit_code) from None

    return wrapper
