"""`crmhub worker`: three real worker processes on PostgreSQL, dispatched by procrastinate.

No mocks: the workers are `crmhub worker` subprocesses, the queue is
procrastinate's tables in the test's own schema, and the vendors are example
sandboxes served on loopback.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import func, select
from typer.testing import CliRunner

from connectors.example.sandbox import ExampleSandbox
from hub.cli import app as crmhub
from hub.config import load_config
from hub.plugins import Plugins
from hub.service.worker import build_app, ensure_queue_schema, tick
from hub.store.database import Store, open_store
from hub.store.tables import CustomerRow, Link, Outbox, Run
from hub.testing.faults import Fault
from hub.testing.serve import running
from tests.hub.service.conftest import write_config

CONTACTS = "/api/v1/contacts"
SERVICE = 'service: {port: 0, poll: "1s", stall_after: "3s", grace: "5s"}\n'
OUTAGE = 60.0  # seconds of 503s: "a sandbox answering 503 for a minute"
COUNT = 80  # under the example API's 100 requests per 10 s, so no test waits for its window
CRMHUB = str(Path(sys.executable).with_name("crmhub"))


@pytest.fixture
def sandboxes() -> Iterator[tuple[ExampleSandbox, ExampleSandbox, dict[str, str]]]:
    crm, mail = ExampleSandbox(), ExampleSandbox()
    crm.populate(COUNT, seed=6)
    with running(crm) as crm_url, running(mail) as mail_url:
        yield crm, mail, {"crm": crm_url, "mail": mail_url}


def _config(tmp_path: Path, store_url: str, urls: dict[str, str], every: str = "1s") -> Path:
    crm = {**ExampleSandbox().config_for(urls["crm"]), "page_size": 10}
    path = write_config(
        tmp_path / "crmhub.yaml",
        store_url,
        urls,
        crm={"direction": "pull", "schedule": {"every": every}, "config": crm},
        mail={"direction": "push"},
    )
    path.write_text(path.read_text() + SERVICE)
    return path


class Workers:
    """``crmhub worker`` processes, their stderr kept in files to read as they run."""

    def __init__(self, config: Path, folder: Path) -> None:
        self.config, self.folder = config, folder
        self.processes: list[subprocess.Popen[bytes]] = []
        self.env = {**os.environ, **ExampleSandbox().environment()}

    def start(self, count: int) -> None:
        for _ in range(count):
            log = (self.folder / f"worker-{len(self.processes)}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    [CRMHUB, "worker", "-c", str(self.config)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                )
            )

    def logs(self) -> str:
        return "".join(path.read_text() for path in sorted(self.folder.glob("worker-*.log")))

    def pid_running(self, pattern: str) -> int | None:
        """The pid of the worker whose log last says it started ``pattern``."""
        found = re.findall(rf"{pattern} on worker [^:\s]+:(\d+)", self.logs())
        return int(found[-1]) if found else None

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def workers(tmp_path: Path, pg_schema_url: str) -> Iterator[Callable[[Path], Workers]]:
    started: list[Workers] = []

    def make(config: Path) -> Workers:
        started.append(Workers(config, tmp_path))
        return started[-1]

    yield make
    for group in started:
        group.stop()


def _wait(
    check: Callable[[], bool], what: str, timeout: float = 90, logs: Callable[[], str] = str
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{logs()[-6000:]}"
        time.sleep(0.2)


def _no_connection_ran_twice_at_once(store: Store) -> None:
    with store.session() as session:
        runs = list(session.exec(select(Run).order_by(Run.connection, Run.started_at)))
    assert runs
    for earlier, later in itertools.pairwise(runs):
        if earlier.connection != later.connection:
            continue
        assert earlier.finished_at is not None, f"run {earlier.id} never closed"
        assert earlier.finished_at <= later.started_at, (
            f"{earlier.connection}: run {later.id} started before run {earlier.id} ended"
        )


@pytest.mark.postgres
@pytest.mark.slow
def test_three_workers_one_killed_mid_page_another_mid_push_every_record_lands_once(
    sandboxes: tuple[ExampleSandbox, ExampleSandbox, dict[str, str]],
    pg_schema_url: str,
    tmp_path: Path,
    workers: Callable[[Path], Workers],
) -> None:
    crm, mail, urls = sandboxes
    crm.faults.add(Fault.delay(4), path=CONTACTS, method="GET", after=6)
    mail.faults.add(Fault.delay(4), path=CONTACTS, method="POST", after=20)
    group = workers(_config(tmp_path, pg_schema_url, urls))
    group.start(3)
    _wait(lambda: bool(crm.faults.served), "the slow page", logs=group.logs)
    puller = group.pid_running("crm/customers pull")
    assert puller is not None, group.logs()
    os.kill(puller, signal.SIGKILL)
    _wait(lambda: bool(mail.faults.served), "the slow write in a push batch", logs=group.logs)
    pusher = group.pid_running("mail push")
    assert pusher is not None and pusher != puller, group.logs()
    os.kill(pusher, signal.SIGKILL)
    written_before_the_kill = len(mail.contacts)

    store = open_store(pg_schema_url)
    try:
        _wait(lambda: len(mail.contacts) == COUNT, "every contact pushed", logs=group.logs)
        _wait(lambda: _outbox_empty(store), "the outbox drained", logs=group.logs)
        with store.session() as session:
            links = session.exec(select(Link.external_id).where(Link.connection == "crm")).all()
            pushed = session.exec(select(Link.external_id).where(Link.connection == "mail")).all()
            customers = session.exec(select(func.count()).select_from(CustomerRow)).one()
            abandoned = session.exec(select(Run).where(Run.status == "abandoned")).all()
        assert sorted(links) == sorted(crm.contacts), "every record is in the hub, once"
        assert customers == COUNT
        emails = [contact["email"] for contact in mail.contacts.values()]
        assert len(emails) == len(set(emails)) == COUNT, "and at the target, once"
        assert sorted(pushed) == sorted(mail.contacts), "each target contact linked once"
        assert 0 < written_before_the_kill < COUNT, "the push was killed in the middle"
        assert {run.connection for run in abandoned} == {"crm", "mail"}, (
            "both killed workers' runs were closed by the workers that took over"
        )
        assert len(re.findall(r"stalled", group.logs())) >= 2
        group.stop()
        _no_connection_ran_twice_at_once(store)
    finally:
        store.close()


def _outbox_empty(store: Store) -> bool:
    with store.session() as session:
        waiting = session.exec(
            select(func.count()).select_from(Outbox).where(Outbox.status == "pending")
        ).one()
    return waiting == 0


@pytest.mark.postgres
@pytest.mark.slow
def test_a_vendor_down_for_a_minute_is_synced_once_it_recovers_without_anyone_acting(
    sandboxes: tuple[ExampleSandbox, ExampleSandbox, dict[str, str]],
    pg_schema_url: str,
    tmp_path: Path,
    workers: Callable[[Path], Workers],
) -> None:
    crm, mail, urls = sandboxes
    crm.faults.add(Fault.error(503), path=CONTACTS, method="GET", after=3, times=10**6)
    group = workers(_config(tmp_path, pg_schema_url, urls))
    group.start(1)
    store = open_store(pg_schema_url)
    try:
        _wait(lambda: bool(crm.faults.served), "the outage to start", logs=group.logs)
        time.sleep(OUTAGE)
        refused = len(crm.faults.served)
        crm.faults.clear()  # the vendor is back; no one tells crmhub
        _wait(lambda: len(mail.contacts) == COUNT, "the sync after the outage", logs=group.logs)
        with store.session() as session:
            failed = session.exec(select(Run).where(Run.status == "failed")).all()
            links = session.exec(select(Link.external_id).where(Link.connection == "crm")).all()
        assert failed, "the outage outlasted the client's retries and failed runs"
        assert refused > 3, "the worker kept trying through the outage"
        assert sorted(links) == sorted(crm.contacts), "resumed: every record once"
        emails = [contact["email"] for contact in mail.contacts.values()]
        assert len(set(emails)) == COUNT
    finally:
        store.close()


@pytest.mark.postgres
def test_a_worker_syncs_on_schedule_pushes_and_stops_on_sigterm(
    sandboxes: tuple[ExampleSandbox, ExampleSandbox, dict[str, str]],
    pg_schema_url: str,
    tmp_path: Path,
    workers: Callable[[Path], Workers],
) -> None:
    crm, mail, urls = sandboxes
    group = workers(_config(tmp_path, pg_schema_url, urls))
    group.start(1)
    _wait(lambda: len(mail.contacts) == COUNT, "every contact pushed", logs=group.logs)
    crm.touch("customers", next(iter(crm.contacts)))
    _wait(
        lambda: any(c["last_name"].endswith("-Edited") for c in mail.contacts.values()),
        "the next scheduled sync to carry a change",
        logs=group.logs,
    )
    [process] = group.processes
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0, group.logs()
    store = open_store(pg_schema_url)
    try:
        with store.session() as session:
            statuses = set(session.exec(select(Run.status)).all())
        assert statuses <= {"succeeded", "cancelled"}, statuses
        _no_connection_ran_twice_at_once(store)
    finally:
        store.close()


@pytest.mark.postgres
def test_any_worker_takes_a_webhook_and_each_serves_metrics_and_health(
    sandboxes: tuple[ExampleSandbox, ExampleSandbox, dict[str, str]],
    pg_schema_url: str,
    tmp_path: Path,
    workers: Callable[[Path], Workers],
) -> None:
    crm, mail, urls = sandboxes
    group = workers(_config(tmp_path, pg_schema_url, urls, every="1h"))
    group.start(2)
    _wait(lambda: len(mail.contacts) == COUNT, "every contact pushed", logs=group.logs)
    ports = [int(port) for port in re.findall(r"metrics at http://[\d.]+:(\d+)", group.logs())]
    assert len(ports) == 2, group.logs()
    assert all(httpx.get(f"http://127.0.0.1:{p}/readyz").text == "ready" for p in ports)

    crm.events.clear()
    crm.touch("customers", next(iter(crm.contacts)))
    headers, body = crm.delivery(crm.events[0])
    answer = httpx.post(f"http://127.0.0.1:{ports[0]}/webhooks/crm", content=body, headers=headers)
    assert answer.status_code == 200
    _wait(
        lambda: any(c["last_name"].endswith("-Edited") for c in mail.contacts.values()),
        "the webhook's change at the target, with no scheduled pull due for an hour",
        logs=group.logs,
    )

    def scraped() -> list[dict[tuple[str, frozenset[tuple[str, str]]], float]]:
        return [
            {
                (sample.name, frozenset(sample.labels.items())): sample.value
                for family in text_string_to_metric_families(
                    httpx.get(f"http://127.0.0.1:{port}/metrics").text
                )
                for sample in family.samples
            }
            for port in ports
        ]

    def total(name: str, **labels: str) -> float:
        return sum(s.get((name, frozenset(labels.items())), 0.0) for s in scraped())

    crm_customers = {"connection": "crm", "stream": "customers"}
    _wait(
        lambda: (
            total("crmhub_pushed_records_total", connection="mail", stream="customers") == COUNT + 1
        ),
        "the push counted",
        logs=group.logs,
    )
    assert total("crmhub_records_total", **crm_customers, outcome="created") == COUNT
    assert total("crmhub_webhook_deliveries_total", connection="crm", result="stored") == 1
    webhooks = {"connection": "crm", "stream": "webhooks", "outcome": "updated"}
    assert total("crmhub_records_total", **webhooks) == 1
    store_gauges = [s[("crmhub_customers", frozenset())] for s in scraped()]
    assert store_gauges == [COUNT, COUNT], "read from the store: the same on every worker"


def test_a_sqlite_store_refuses_worker_with_a_plain_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in ExampleSandbox().environment().items():
        monkeypatch.setenv(key, value)
    path = write_config(tmp_path / "crmhub.yaml", f"sqlite:///{tmp_path / 'hub.db'}", {})
    result = CliRunner().invoke(crmhub, ["worker", "-c", str(path)])
    assert result.exit_code == 2
    assert "crmhub worker needs a PostgreSQL store" in result.output


@pytest.mark.postgres
@pytest.mark.anyio
async def test_workers_ticking_at_once_queue_each_due_sync_once(
    pg_schema_url: str, tmp_path: Path, example_env: None, plugins: Plugins
) -> None:
    urls = {"crm": "http://crm.test", "mail": "http://mail.test"}
    path = write_config(
        tmp_path / "crmhub.yaml",
        pg_schema_url,
        urls,
        crm={"direction": "pull", "schedule": {"every": "1m"}},
        mail={"direction": "push"},
    )
    config = load_config(path, plugins)
    store = open_store(pg_schema_url)
    apps = [build_app(store, config, plugins) for _ in range(3)]
    try:
        async with apps[0].open_async(), apps[1].open_async(), apps[2].open_async():
            await ensure_queue_schema(store, apps[0])
            deferred = await asyncio.gather(*(tick(app, store, config) for app in apps))
            again = await tick(apps[0], store, config)
            jobs = await apps[0].job_manager.list_jobs_async(task="crmhub.sync")
    finally:
        store.close()
    streams = config.connections["crm"].streams
    assert sum(deferred) == len(streams) and again == 0, "each due sync is queued once"
    assert sorted(job.task_kwargs["stream"] for job in jobs) == sorted(streams)
