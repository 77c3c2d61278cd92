"""The connector test kit: subclass one class and pytest runs the standard suite.

::

    class TestAcme(ConnectorTestKit[AcmeSandbox]):
        connector_class = AcmeConnector

        def make_sandbox(self, tmp_path: Path) -> AcmeSandbox:
            return AcmeSandbox(clock=VirtualClock())

        def make_connector(self, sandbox: AcmeSandbox) -> Connector:
            config = AcmeConfig(base_url=BASE_URL, api_token=SecretStr(TOKEN), page_size=10)
            return AcmeConnector(config, connection="kit",
                                 transport=sandbox.transport(), clock=sandbox.clock)

Every check gets a new sandbox holding ``record_count`` fake records and a new
SQLite store, and runs the real engine on them (see :mod:`hub.testing.checks`).
A check that cannot apply to a connector is declared in ``unsupported`` with
the reason, and pytest reports it as skipped with that reason: the suite never
passes a check it did not run. The tests are plain functions that run their own
event loop, so the kit needs no async plugin in the connector's project.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import pytest

from hub.connector import Connector
from hub.model import CanonicalRecord, Customer
from hub.store.database import open_store
from hub.testing import checks
from hub.testing.checks import FAULTS, KitSandbox, Trial
from hub.testing.faults import Fault
from hub.testing.harness import Harness
from hub.testing.samples import sample_customers

__all__ = ["CHECKS", "ConnectorTestKit"]

S = TypeVar("S", bound=KitSandbox)

CHECKS = {
    "read": "reads every stream to the end, page by page",
    "resume": "resumes from a saved cursor without gaps or repeats",
    "change": "picks up a change made at the vendor",
    "incremental": "reads only what changed since the cursor",
    "faults": "survives 429, 500, 503, timeouts and truncated bodies",
    "auth": "stops cleanly on an expired token, and resumes",
    "round_trip": "canonical -> vendor -> canonical keeps the mapped fields",
    "idempotent_writes": "the same batch written twice creates nothing new",
    "deletes": "deletes (erasure) remove the record, and repeat harmlessly",
    "dead_letters": "bad records go to dead letters, raw, and the run goes on",
}
WRITE_CHECKS = frozenset({"round_trip", "idempotent_writes", "deletes"})
WRITE_ONLY_CHECKS = frozenset({"idempotent_writes"})
"""Checks that need no read of the stream: the only ones a write-only stream runs."""

Check = Callable[[Trial], Coroutine[Any, Any, None]]


class ConnectorTestKit(Generic[S]):
    """The standard suite; a subclass names its connector and how to build it on a sandbox."""

    connector_class: ClassVar[type[Connector]]
    streams: ClassVar[Sequence[str] | None] = None
    """Streams to check; all the connector reads when None. A stream it only writes
    (segment memberships) runs the checks that need no read, the rest skip."""
    record_count: ClassVar[int] = 25
    """Records the sandbox holds; more than one page's worth, so paging is exercised."""
    seed: ClassVar[int] = 7
    unsupported: ClassVar[Mapping[str, str]] = {}
    """Check name (see CHECKS) -> why it cannot apply to this connector."""
    known_failures: ClassVar[Mapping[tuple[str, str], str]] = {}
    """(check, stream) -> the known bug: reported as xfail, and as a failure once it passes."""

    def make_sandbox(self, tmp_path: Path) -> S:
        """A new, empty sandbox; the kit populates it."""
        raise NotImplementedError(f"{type(self).__name__} must define make_sandbox(tmp_path)")

    def make_connector(self, sandbox: S) -> Connector:
        """A new connector talking to ``sandbox`` (called once per run, like a new process)."""
        raise NotImplementedError(f"{type(self).__name__} must define make_connector(sandbox)")

    def samples(self, stream: str) -> list[CanonicalRecord]:
        """Records for the write checks; the round trip compares the fields the stream keeps."""
        if self.connector_class.writes.get(stream) is Customer:
            return list(sample_customers())
        raise NotImplementedError(
            f"{type(self).__name__} must define samples({stream!r}) to write "
            f"{self.connector_class.writes[stream].__name__} records"
        )

    def samples_for(self, stream: str, sandbox: S) -> list[CanonicalRecord]:
        """:meth:`samples` on this sandbox; override when a record must name one of its
        records (a segment membership names the contact it adds by the vendor's id)."""
        del sandbox
        return self.samples(stream)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Run each check once per stream, and the fault check once per fault."""
        named = set(self.unsupported) | {check for check, _ in self.known_failures}
        unknown = sorted(named - set(CHECKS))
        if unknown:
            raise ValueError(
                f"unsupported or known_failures name unknown checks {unknown}; "
                f"the checks: {list(CHECKS)}"
            )
        if "stream" in metafunc.fixturenames:
            metafunc.parametrize("stream", self._streams())
        if "fault" in metafunc.fixturenames:
            metafunc.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))

    def test_reads_every_record_to_the_end(self, stream: str, tmp_path: Path) -> None:
        self._check("read", stream, tmp_path, checks.reads_to_the_end)

    def test_resumes_from_the_saved_cursor(self, stream: str, tmp_path: Path) -> None:
        self._check("resume", stream, tmp_path, checks.resumes_after_crashes)

    def test_picks_up_a_change(self, stream: str, tmp_path: Path) -> None:
        self._check("change", stream, tmp_path, checks.picks_up_a_change)

    def test_reads_only_what_changed(self, stream: str, tmp_path: Path) -> None:
        self._check("incremental", stream, tmp_path, checks.reads_only_changes)

    def test_survives_faults(self, stream: str, fault: Fault, tmp_path: Path) -> None:
        self._check("faults", stream, tmp_path, lambda trial: checks.survives(trial, fault))

    def test_stops_cleanly_on_an_expired_token(self, stream: str, tmp_path: Path) -> None:
        self._check("auth", stream, tmp_path, checks.stops_on_an_expired_token)

    def test_round_trip_keeps_mapped_fields(self, stream: str, tmp_path: Path) -> None:
        self._check("round_trip", stream, tmp_path, checks.round_trips)

    def test_writes_are_idempotent(self, stream: str, tmp_path: Path) -> None:
        self._check("idempotent_writes", stream, tmp_path, checks.writes_idempotently)

    def test_deletes_and_erasure(self, stream: str, tmp_path: Path) -> None:
        self._check("deletes", stream, tmp_path, checks.deletes)

    def test_bad_records_go_to_dead_letters(self, stream: str, tmp_path: Path) -> None:
        self._check("dead_letters", stream, tmp_path, checks.parks_bad_records)

    def _streams(self) -> list[str]:
        known = set(self.connector_class.reads) | set(self.connector_class.writes)
        streams = list(self.streams if self.streams is not None else self.connector_class.reads)
        unknown = [stream for stream in streams if stream not in known]
        if unknown or not streams:
            raise ValueError(
                f"streams {unknown or streams} are not read or written by "
                f"{self.connector_class.name!r}, which has {sorted(known)}"
            )
        return streams

    def _check(self, name: str, stream: str, tmp_path: Path, check: Check) -> None:
        connector = self.connector_class.name
        if self.unsupported.get(name):
            pytest.skip(f"{connector} declares '{name}' unsupported: {self.unsupported[name]}")
        if name in WRITE_CHECKS and stream not in self.connector_class.writes:
            pytest.skip(f"{connector} does not write {stream!r}, so '{name}' does not apply")
        if name not in WRITE_ONLY_CHECKS and stream not in self.connector_class.reads:
            pytest.skip(f"{connector} does not read {stream!r}, so '{name}' does not apply")
        if name == "deletes" and stream not in self.connector_class.deletes:
            pytest.skip(f"{connector} does not delete {stream!r} (see Connector.deletes)")
        sandbox = self.make_sandbox(tmp_path)
        sandbox.populate(self.record_count, seed=self.seed)
        samples = self.samples_for(stream, sandbox) if name in WRITE_CHECKS else []
        store = open_store(f"sqlite:///{tmp_path / 'kit.db'}")
        known = self.known_failures.get((name, stream))
        try:
            harness = Harness(store, lambda: self.make_connector(sandbox))
            asyncio.run(check(Trial(sandbox, harness, stream, samples)))
        except AssertionError:
            if known:
                pytest.xfail(f"known failure: {known}")
            raise
        finally:
            store.close()
        if known:
            pytest.fail(f"'{name}' passes on {stream!r} now; remove it from known_failures")
