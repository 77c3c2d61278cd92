"""Prometheus metrics at ``/metrics``: what the service did, and what the store holds now.

Two kinds, kept apart on purpose because several processes may serve them:

- **Counters and a histogram of this process's work** (records per outcome,
  pushes, dead letters, runs and their durations, webhook deliveries). Each
  ``crmhub run`` or ``crmhub worker`` counts its own; Prometheus scrapes every
  process as its own target and ``sum()`` adds them up, the usual practice
  for a fleet, rather than processes writing to a shared file.
- **Gauges of the store's state** (outbox depth, open dead letters and
  conflicts, last success per connection), read from the store at each
  scrape with the queries of ``crmhub status``. Any process gives the same
  answer, so take ``max()`` across the fleet, not ``sum()``.

Each service builds its own registry, so two services in one process (tests,
benchmarks) never share a count.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from hub.engine.runner import StreamResult
from hub.store.database import Store
from hub.store.status import hub_status

__all__ = ["CONTENT_TYPE", "RECORD_OUTCOMES", "ServiceMetrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
RECORD_OUTCOMES = ("read", "created", "updated", "unchanged", "merged", "deleted", "conflicts")
_DURATIONS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class ServiceMetrics:
    """The metrics one service process exposes; ``observe`` each batch of run results."""

    def __init__(self, store: Store, connections: Sequence[str]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        per_stream = ["connection", "stream"]
        self.records = Counter(
            "crmhub_records",
            "Records a pull or webhook drain handled, by outcome (read, created, updated ...).",
            [*per_stream, "outcome"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "crmhub_dead_letters",
            "Records set aside in dead letters by this process's runs.",
            per_stream,
            registry=self.registry,
        )
        self.pushed = Counter(
            "crmhub_pushed_records",
            "Records written to a connection by a push.",
            per_stream,
            registry=self.registry,
        )
        self.push_rejected = Counter(
            "crmhub_push_rejected_records",
            "Records a connection refused in a push (they stay queued or go to dead letters).",
            per_stream,
            registry=self.registry,
        )
        self.push_failures = Counter(
            "crmhub_push_failures",
            "Push runs that failed as a whole (an outage past the retries, an auth error).",
            per_stream,
            registry=self.registry,
        )
        self.runs = Counter(
            "crmhub_runs",
            "Runs finished, by phase (pull, push) and status (succeeded, failed, cancelled).",
            [*per_stream, "phase", "status"],
            registry=self.registry,
        )
        self.run_seconds = Histogram(
            "crmhub_run_duration_seconds",
            "How long a stream's pull, push or webhook drain took.",
            ["connection", "phase"],
            buckets=_DURATIONS,
            registry=self.registry,
        )
        self.webhooks = Counter(
            "crmhub_webhook_deliveries",
            "Webhook calls by result: stored, duplicate, replied (a verification call), "
            "rejected (401) or unstored (503).",
            ["connection", "result"],
            registry=self.registry,
        )
        self.registry.register(_StoreState(store, list(connections)))

    def observe(self, results: Iterable[StreamResult]) -> None:
        for r in results:
            stream = [r.connection, r.stream]
            for outcome in RECORD_OUTCOMES:
                if r.counts.get(outcome):
                    self.records.labels(*stream, outcome).inc(r.counts[outcome])
            self.dead_letters.labels(*stream).inc(r.counts.get("dead_letters", 0))
            if r.phase == "push":
                self.pushed.labels(*stream).inc(r.counts.get("pushed", 0))
                self.push_rejected.labels(*stream).inc(r.counts.get("rejected", 0))
                if r.status == "failed":
                    self.push_failures.labels(*stream).inc()
            self.runs.labels(*stream, r.phase, r.status).inc()
            self.run_seconds.labels(r.connection, r.phase).observe(r.seconds)

    def webhook(self, connection: str, result: str) -> None:
        self.webhooks.labels(connection, result).inc()

    def render(self) -> bytes:
        """The text exposition format; blocking (it queries the store), so run it in a thread."""
        return generate_latest(self.registry)


class _StoreState(Collector):
    """Gauges read from the store at scrape time: the same from every process."""

    def __init__(self, store: Store, connections: list[str]) -> None:
        self.store, self.connections = store, connections

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only: describing would query the store at registration

    def collect(self) -> Iterator[Metric]:
        with self.store.session() as session:
            status = hub_status(session, self.connections)
        outbox = GaugeMetricFamily(
            "crmhub_outbox_depth",
            "Changes waiting to be pushed to a connection.",
            labels=["connection"],
        )
        letters = GaugeMetricFamily(
            "crmhub_open_dead_letters",
            "Records in dead letters not yet retried or dismissed.",
            labels=["connection"],
        )
        success = GaugeMetricFamily(
            "crmhub_last_success_timestamp_seconds",
            "When the connection's last successful run finished (Unix time).",
            labels=["connection"],
        )
        failures = GaugeMetricFamily(
            "crmhub_failures_since_success",
            "Runs of the connection that failed since its last success.",
            labels=["connection"],
        )
        for c in status.connections:
            outbox.add_metric([c.connection], c.outbox_pending)
            letters.add_metric([c.connection], c.dead_letters)
            failures.add_metric([c.connection], c.failures_since_success)
            if c.last_success_at is not None:
                success.add_metric([c.connection], c.last_success_at.timestamp())
        yield from (outbox, letters, success, failures)
        yield GaugeMetricFamily(
            "crmhub_open_conflicts",
            "Merge decisions waiting for review.",
            value=status.open_conflicts,
        )
        yield GaugeMetricFamily("crmhub_customers", "Customers in the hub.", value=status.customers)
