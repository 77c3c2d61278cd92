"""`crmhub new-connector NAME`: a connector package that passes its own tests from the start.

The package is rendered from hub/templates/connector/, whose modules are the
example connector's (a test keeps them in step), so a new connector begins as
working, tested code to reshape, not as an empty skeleton.
"""

from __future__ import annotations

import keyword
import re
from importlib.metadata import version
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template
from typing import Annotated

import typer

from hub.cli.output import reports_errors
from hub.errors import CrmhubError

__all__ = ["new_connector", "scaffold"]

NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
SUFFIX = ".tmpl"


def scaffold(name: str, directory: Path) -> Path:
    """Write the package ``crmhub-NAME`` into ``directory``; return its folder.

    Raises ValueError for a name that cannot be a package, CrmhubError when the
    folder exists (nothing is ever overwritten).
    """
    if not NAME.fullmatch(name) or keyword.iskeyword(name) or name.endswith("_"):
        raise ValueError(
            f"{name!r} cannot name a connector: use lower-case letters, digits and _, "
            "starting with a letter (it becomes the Python package crmhub_NAME)"
        )
    dist = f"crmhub-{name.replace('_', '-')}"
    target = directory / dist
    if target.exists():
        raise CrmhubError(f"{target} already exists; pass another --dir or remove it first")
    values = {
        "name": name,
        "Name": "".join(part.capitalize() for part in name.split("_")),
        "NAME": name.upper(),
        "dist": dist,
        "crmhub_version": version("crmhub"),
    }
    for template, relative in _templates(files("hub.templates") / "connector", ""):
        path = target / Template(relative.removesuffix(SUFFIX)).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(template.read_text(encoding="utf-8")).substitute(values))
    return target


def _templates(folder: Traversable, prefix: str) -> list[tuple[Traversable, str]]:
    found: list[tuple[Traversable, str]] = []
    for entry in folder.iterdir():
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():
            found += _templates(entry, f"{relative}/")
        elif entry.name.endswith(SUFFIX):
            found.append((entry, relative))
    return found


@reports_errors
def new_connector(
    name: Annotated[str, typer.Argument(help="Connector name, e.g. acme or acme_crm")],
    directory: Annotated[
        Path, typer.Option("--dir", "-d", help="Folder to create the package in")
    ] = Path("."),
) -> None:
    """Create a connector package (connector, mapping, sandbox, tests) that passes its tests."""
    try:
        target = scaffold(name, directory)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="NAME") from None
    typer.echo(
        f"Created {target}. Next:\n"
        f"  cd {target}\n"
        "  pip install -e '.[test]'\n"
        "  pytest\n"
        "Then make it speak the vendor's API; README.md there says where to start."
    )
