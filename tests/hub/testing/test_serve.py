"""The same sandbox over a real loopback socket, and `crmhub sandbox serve`."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from connectors.example.config import ExampleConfig
from connectors.example.connector import ExampleConnector
from connectors.example.sandbox import TOKEN, ExampleSandbox
from hub.engine.context import StreamContext
from hub.engine.pull import pull_stream
from hub.store.database import Store
from hub.testing.faults import Fault
from hub.testing.serve import running

Install = Callable[[str, dict[str, str]], Path]
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CLI = """
import typer
from hub.cli.sandbox_cmd import sandbox_app
app = typer.Typer()
app.add_typer(sandbox_app, name="sandbox")
app.callback()(lambda: None)
app()
"""


@pytest.mark.anyio
async def test_a_connector_syncs_from_the_sandbox_over_loopback(store: Store) -> None:
    sandbox = ExampleSandbox()
    sandbox.populate(30, seed=9)
    with running(sandbox) as url:
        assert url.startswith("http://127.0.0.1:")
        config = ExampleConfig(base_url=url, api_token=SecretStr(TOKEN), page_size=10)
        ctx = StreamContext(store, ExampleConnector(config, connection="crm"), "customers", 1)
        await pull_stream(ctx)
        await ctx.connector.aclose()
    assert (ctx.counts["read"], ctx.counts["created"]) == (30, 30)


@pytest.mark.anyio
async def test_wire_faults_are_real_network_failures() -> None:
    sandbox = ExampleSandbox()
    sandbox.populate(5)
    sandbox.faults.add(Fault.truncate())
    sandbox.faults.add(Fault.delay(0.5), after=1)
    with running(sandbox) as url:
        async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=10) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get("/api/v1/contacts")
            # Only the delayed request gets a short timeout: a loaded machine may
            # take longer than 0.1 s to close the truncated connection.
            with pytest.raises(httpx.ReadTimeout):
                await client.get("/api/v1/contacts", timeout=0.1)
            assert len((await client.get("/api/v1/contacts")).json()["data"]) == 5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_sandbox_serve_runs_the_named_sandbox_and_says_how_to_use_it(install: Install) -> None:
    install("crmhub-example", {"example": "connectors.example.plugin"})
    port = _free_port()
    command = [sys.executable, "-c", CLI, "sandbox", "serve", "example"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--customers", "12", "--seed", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = _wait_for(f"http://127.0.0.1:{port}/api/v1/contacts?limit=100")
    finally:
        server.terminate()
        out, err = server.communicate(timeout=10)
    assert len(body["data"]) == 12, err
    expected = ExampleSandbox()
    expected.populate(12, seed=4)
    assert body["data"] == list(expected.records("customers").values())
    assert "export EXAMPLE_SANDBOX_TOKEN=example-sandbox-token" in out
    assert f"base_url: http://127.0.0.1:{port}" in out
    assert "api_token: ${EXAMPLE_SANDBOX_TOKEN}" in out


def _wait_for(url: str) -> dict[str, list[dict[str, object]]]:
    deadline = time.monotonic() + 15
    while True:
        try:
            response = httpx.get(url, headers=AUTH, timeout=1)
            return dict(response.json())
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
