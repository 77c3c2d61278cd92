"""`crmhub new-connector`: the package it writes installs, is found, and passes its tests.

The templates of the package modules are the example connector's modules,
which the rest of the suite type-checks and tests; the drift test keeps them
so, up to the import block (in a package of its own, crmhub is third-party).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hub.cli import app as crmhub
from hub.cli.scaffold_cmd import new_connector, scaffold
from hub.plugins import load_plugins
from hub.testing.registry import find_sandbox

EXAMPLE = Path(__file__).parents[3] / "connectors" / "example"
MODULES = [
    "config.py",
    "client.py",
    "mapping.py",
    "connector.py",
    "sandbox.py",
    "plugin.py",
    "webhooks.py",
]


def _cli() -> typer.Typer:
    """The command as the lead wires it: `crmhub new-connector`."""
    app = typer.Typer()
    app.command("new-connector")(new_connector)
    app.callback()(lambda: None)
    return app


def _split(source: str, package: str) -> tuple[set[str], list[str]]:
    """The imports (as statements naming ``package``'s modules as the example's) and the rest."""
    tree = ast.parse(source)
    lines = source.splitlines()
    imports: set[str] = set()
    taken: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports.add(ast.unparse(node).replace(package, "connectors.example"))
            taken.update(range(node.lineno - 1, node.end_lineno or node.lineno))
    rest = [line for number, line in enumerate(lines) if number not in taken and line.strip()]
    return imports, rest


@pytest.mark.parametrize("module", MODULES)
def test_the_templates_are_the_example_connector(module: str, tmp_path: Path) -> None:
    rendered = scaffold("example", tmp_path) / "crmhub_example" / module
    assert _split(rendered.read_text(), "crmhub_example") == _split(
        (EXAMPLE / module).read_text(), "connectors.example"
    ), f"hub/templates/connector/crmhub_${{name}}/{module}.tmpl differs from connectors/example"


@pytest.mark.parametrize("name", ["Acme", "1acme", "acme-crm", "class", "acme_", "a" * 41])
def test_a_name_that_cannot_be_a_package_is_a_usage_error(name: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(_cli(), ["new-connector", name, "--dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "Invalid value for NAME" in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "crmhub-acme").mkdir()
    result = CliRunner().invoke(_cli(), ["new-connector", "acme", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "already exists" in result.output


@pytest.fixture
def forget_acme() -> Iterator[None]:
    """The installed package leaves with its folder; its imported modules must go too."""
    yield
    for module in [m for m in sys.modules if m.startswith("crmhub_acme_crm")]:
        del sys.modules[module]


@pytest.mark.usefixtures("forget_acme")
def test_a_scaffolded_connector_installs_is_listed_and_passes_its_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = CliRunner().invoke(_cli(), ["new-connector", "acme_crm", "--dir", str(tmp_path)])
    assert made.exit_code == 0, made.output
    package = tmp_path / "crmhub-acme-crm"
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site)]
    subprocess.run([*pip, str(package)], check=True, capture_output=True)

    monkeypatch.syspath_prepend(str(site))
    listed = CliRunner().invoke(crmhub, ["connectors", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {row["name"]: row for row in json.loads(listed.stdout)["connectors"]}
    assert rows["acme_crm"]["module"] == "crmhub_acme_crm.connector"
    assert rows["acme_crm"]["reads"] == rows["acme_crm"]["writes"] == ["customers"]
    assert find_sandbox(load_plugins(), "acme_crm").__name__ == "AcmeCrmSandbox"

    monkeypatch.setenv("PYTHONPATH", str(site))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=package,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "17 passed" in run.stdout and "skipped" not in run.stdout, run.stdout
    lint = [sys.executable, "-m", "ruff", "check", "."]
    linted = subprocess.run(lint, cwd=package, capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout
