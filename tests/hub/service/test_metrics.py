"""`/metrics`: scraped from the running service, the figures move with what it did."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors.example.sandbox import ExampleSandbox
from hub.config import load_config
from hub.plugins import Plugins
from hub.service.embedded import EmbeddedService
from hub.store.database import open_store
from hub.testing.serve import running
from tests.hub.service.conftest import write_config

COUNT = 30


@pytest.fixture
def sandboxes() -> Iterator[tuple[ExampleSandbox, ExampleSandbox, dict[str, str]]]:
    crm, mail = ExampleSandbox(), ExampleSandbox()
    crm.populate(COUNT, seed=9)
    with running(crm) as crm_url, running(mail) as mail_url:
        yield crm, mail, {"crm": crm_url, "mail": mail_url}


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def _scrape(client: httpx.AsyncClient, port: int) -> Samples:
    response = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def _scrape_until(
    client: httpx.AsyncClient, port: int, check: Callable[[Samples], bool], timeout: float = 60
) -> Samples:
    """Scrape until ``check`` holds: a push reaches the target a moment before its run ends."""
    deadline = time.monotonic() + timeout
    while not check(samples := await _scrape(client, port)):
        assert time.monotonic() < deadline, f"timed out; last scrape: {samples}"
        await asyncio.sleep(0.1)
    return samples


def _pushed(samples: Samples) -> float:
    return _value(samples, "crmhub_pushed_records_total", connection="mail", stream="customers")


@pytest.mark.anyio
async def test_metrics_count_the_sync_the_pushes_and_the_webhooks_and_read_the_store(
    sandboxes: tuple[ExampleSandbox, ExampleSandbox, dict[str, str]],
    example_env: None,
    tmp_path: Path,
    plugins: Plugins,
) -> None:
    crm, mail, urls = sandboxes
    store_url = f"sqlite:///{tmp_path / 'hub.db'}"
    path = write_config(
        tmp_path / "crmhub.yaml",
        store_url,
        urls,
        crm={"direction": "pull", "schedule": {"every": "1h"}},
        mail={"direction": "push"},
    )
    path.write_text(path.read_text() + 'service: {port: 0, poll: "1s"}\n')
    config = load_config(path, plugins)
    store = open_store(store_url)
    service = EmbeddedService(store, config, plugins)
    task = asyncio.create_task(service.run())
    try:
        while service.port is None:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient() as client:
            after_sync = await _scrape_until(client, service.port, lambda s: _pushed(s) == COUNT)
            assert len(mail.contacts) == COUNT
            crm_customers = {"connection": "crm", "stream": "customers"}
            assert (
                _value(after_sync, "crmhub_records_total", **crm_customers, outcome="read") == COUNT
            )
            assert (
                _value(after_sync, "crmhub_records_total", **crm_customers, outcome="created")
                == COUNT
            )
            pull_runs = {"connection": "crm", "phase": "pull"}
            assert _value(after_sync, "crmhub_run_duration_seconds_count", **pull_runs) == 1
            assert _value(after_sync, "crmhub_customers") == COUNT
            assert _value(after_sync, "crmhub_outbox_depth", connection="mail") == 0
            assert _value(
                after_sync, "crmhub_last_success_timestamp_seconds", connection="crm"
            ) == pytest.approx(time.time(), abs=60)

            crm.events.clear()
            crm.touch("customers", next(iter(crm.contacts)))
            hook = f"http://127.0.0.1:{service.port}/webhooks/crm"
            headers, body = crm.delivery(crm.events[0])
            assert (await client.post(hook, content=body, headers=headers)).status_code == 200
            assert (await client.post(hook, content=body, headers=headers)).status_code == 200
            forged = {**headers, "X-Example-Signature": "sha256=" + "0" * 64}
            assert (await client.post(hook, content=body, headers=forged)).status_code == 401
            after_hook = await _scrape_until(
                client, service.port, lambda s: _pushed(s) == COUNT + 1
            )
            assert any(c["last_name"].endswith("-Edited") for c in mail.contacts.values())
    finally:
        service.stop()
        await asyncio.wait_for(task, 15)
        store.close()
    deliveries = "crmhub_webhook_deliveries_total"
    assert _value(after_hook, deliveries, connection="crm", result="stored") == 1
    assert _value(after_hook, deliveries, connection="crm", result="duplicate") == 1
    assert _value(after_hook, deliveries, connection="crm", result="rejected") == 1
    webhooks = {"connection": "crm", "stream": "webhooks"}
    assert _value(after_hook, "crmhub_records_total", **webhooks, outcome="updated") == 1
    assert (
        _value(after_hook, "crmhub_runs_total", **webhooks, phase="pull", status="succeeded") == 1
    )
