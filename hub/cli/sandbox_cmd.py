"""`crmhub sandbox serve`: a connector's vendor emulator on loopback."""

from __future__ import annotations

from typing import Annotated

import typer
import yaml

from hub.cli.context import plugins_with_warnings
from hub.cli.output import reports_errors
from hub.testing.registry import find_sandbox
from hub.testing.serve import LOOPBACK, serve

__all__ = ["sandbox_app"]

sandbox_app = typer.Typer(
    help="Local emulators of vendor APIs, for the demo, benchmarks and trials.",
    no_args_is_help=True,
)


@sandbox_app.command("serve")
@reports_errors
def serve_command(
    name: Annotated[str, typer.Argument(help="Connector whose sandbox to serve")],
    port: Annotated[
        int, typer.Option("--port", "-p", min=1, max=65535, help="Port on 127.0.0.1")
    ] = 8700,
    seed: Annotated[int, typer.Option(help="Seed of the fake data: same seed, same people")] = 1,
    customers: Annotated[int, typer.Option(min=0, help="Fake customers to start with")] = 100,
) -> None:
    """Serve the sandbox of connector NAME on 127.0.0.1 until Ctrl+C, and say how to use it."""
    sandbox = find_sandbox(plugins_with_warnings(), name)()
    sandbox.populate(customers, seed=seed)
    url = f"http://{LOOPBACK}:{port}"
    connection = {"connector": name, "config": sandbox.config_for(url)}
    exports = "".join(f"  export {key}={value}\n" for key, value in sandbox.environment().items())
    snippet = yaml.safe_dump({"connections": {name: connection}}, sort_keys=False)
    typer.echo(
        f"{name} sandbox: {customers} customers (seed {seed}) at {url}; Ctrl+C stops it.\n"
        f"To sync with it:\n{exports}and in crmhub.yaml:\n"
        + "".join(f"  {line}\n" for line in snippet.splitlines())
    )
    serve(sandbox, port=port)
