"""The kit fails connectors that break the engine's rules, and says how.

Each mutant of the example connector breaks one rule; the kit check for that
rule must fail with a message that points at it (the sound connector passes
them all: tests/connectors/example/test_kit.py). Declared and inapplicable
checks are skipped with their reason, never passed.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from connectors.example.config import ExampleConfig
from connectors.example.connector import ExampleConnector
from connectors.example.sandbox import TOKEN, ExampleSandbox
from hub.connector import Change, Connector, Page, RawRecord, SourceRecord, WriteResult
from hub.errors import AuthError
from hub.http import RetrySettings, VirtualClock
from hub.model import CanonicalRecord, Customer
from hub.testing.faults import Fault
from hub.testing.kit import ConnectorTestKit
from hub.testing.sandbox import BASE_URL

_numbers = itertools.count()


class ForgetsCursor(ExampleConnector):
    def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        return super().read(stream, None)


class StopsAfterOnePage(ExampleConnector):
    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        pages = super().read(stream, cursor)
        async for page in pages:
            yield page
            break


class GivesUpAtOnce(ExampleConnector):
    def __init__(self, config: Any, **options: Any) -> None:
        super().__init__(config, **options)
        self.client._api.retry = RetrySettings(max_attempts=1)


class SwallowsAnExpiredToken(ExampleConnector):
    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        try:
            async for page in super().read(stream, cursor):
                yield page
        except AuthError:
            return


class LosesPhones(ExampleConnector):
    def from_canonical(self, stream: str, record: CanonicalRecord) -> RawRecord:
        return {**super().from_canonical(stream, record), "phone": None}


class NewEmailEveryTime(ExampleConnector):
    def from_canonical(self, stream: str, record: CanonicalRecord) -> RawRecord:
        contact = super().from_canonical(stream, record)
        return {**contact, "email": f"{next(_numbers)}.{contact['email']}"}


class PretendsToDelete(ExampleConnector):
    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        upserts = [change for change in changes if change.op == "upsert"]
        written = iter(await super().write(stream, upserts))
        return [
            WriteResult(c.hub_id, c.external_id) if c.op == "delete" else next(written)
            for c in changes
        ]


class HidesBadRecords(ExampleConnector):
    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        try:
            return super().to_canonical(stream, raw)
        except ValueError:
            return super().to_canonical(stream, {**raw, "email": None})


class ExampleKit(ConnectorTestKit[ExampleSandbox]):
    connector_class: ClassVar[type[Connector]] = ExampleConnector
    page_size: ClassVar[int] = 10

    def make_sandbox(self, tmp_path: Path) -> ExampleSandbox:
        return ExampleSandbox(clock=VirtualClock())

    def make_connector(self, sandbox: ExampleSandbox) -> Connector:
        config = ExampleConfig(
            base_url=BASE_URL, api_token=SecretStr(TOKEN), page_size=self.page_size
        )
        return self.connector_class(  # type: ignore[call-arg]
            config, connection="kit", transport=sandbox.transport(), clock=sandbox.clock
        )


def kit(connector: type[ExampleConnector], **attributes: Any) -> ExampleKit:
    cls = type(
        f"Kit{connector.__name__}", (ExampleKit,), {"connector_class": connector, **attributes}
    )
    return cls()  # type: ignore[no-any-return]


MUTANTS = [
    (ForgetsCursor, "test_resumes_from_the_saved_cursor", {}, "read twice"),
    (ForgetsCursor, "test_reads_only_what_changed", {}, "the next sync read 25 record"),
    (StopsAfterOnePage, "test_reads_every_record_to_the_end", {}, "missed ct_0000"),
    (
        ExampleConnector,
        "test_reads_every_record_to_the_end",
        {"page_size": 100},
        "paging went untested",
    ),
    (
        SwallowsAnExpiredToken,
        "test_stops_cleanly_on_an_expired_token",
        {},
        "went on after an expired token: missed",
    ),
    (LosesPhones, "test_round_trip_keeps_mapped_fields", {}, "phones: sent"),
    (NewEmailEveryTime, "test_writes_are_idempotent", {}, "landed on other records"),
    (PretendsToDelete, "test_deletes_and_erasure", {}, "still at the vendor"),
    (HidesBadRecords, "test_bad_records_go_to_dead_letters", {}, "dead letters hold \\[\\]"),
]


@pytest.mark.parametrize(
    ("connector", "check", "attributes", "message"),
    MUTANTS,
    ids=[f"{m[0].__name__}-{m[1].removeprefix('test_')}" for m in MUTANTS],
)
def test_the_kit_fails_a_connector_that_breaks_the_rule(
    connector: type[ExampleConnector],
    check: str,
    attributes: dict[str, Any],
    message: str,
    tmp_path: Path,
) -> None:
    with pytest.raises(AssertionError, match=message):
        getattr(kit(connector, **attributes), check)("customers", tmp_path)


def test_a_connector_that_does_not_retry_fails_the_fault_check(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match=r"the run failed after the fault \(HTTP 503\)"):
        kit(GivesUpAtOnce).test_survives_faults("customers", Fault.error(503), tmp_path)


def test_a_declared_check_is_skipped_with_its_reason(tmp_path: Path) -> None:
    declared = kit(ExampleConnector, unsupported={"faults": "the vendor is a file"})
    with pytest.raises(
        pytest.skip.Exception, match="example declares 'faults' unsupported: the vendor is a file"
    ):
        declared.test_survives_faults("customers", Fault.truncate(), tmp_path)


def test_a_known_failure_is_an_xfail_until_it_is_fixed(tmp_path: Path) -> None:
    known = {("resume", "customers"): "issue 12: the cursor is ignored"}
    with pytest.raises(pytest.xfail.Exception, match="known failure: issue 12"):
        kit(ForgetsCursor, known_failures=known).test_resumes_from_the_saved_cursor(
            "customers", tmp_path / "broken"
        )
    with pytest.raises(pytest.fail.Exception, match="remove it from known_failures"):
        kit(ExampleConnector, known_failures=known).test_resumes_from_the_saved_cursor(
            "customers", tmp_path / "fixed"
        )


def test_a_write_check_on_a_read_only_stream_is_skipped(tmp_path: Path) -> None:
    class ReadOnly(ExampleConnector):
        writes = {}

    with pytest.raises(pytest.skip.Exception, match="does not write 'customers'"):
        kit(ReadOnly).test_writes_are_idempotent("customers", tmp_path)


def test_a_write_only_stream_runs_only_the_checks_that_need_no_read(tmp_path: Path) -> None:
    class WritesNotes(ExampleConnector):
        writes = {**ExampleConnector.writes, "notes": Customer}

    checks = kit(WritesNotes, streams=["customers", "notes"])
    assert checks._streams() == ["customers", "notes"]
    for check in (checks.test_reads_every_record_to_the_end, checks.test_deletes_and_erasure):
        with pytest.raises(pytest.skip.Exception, match="does not read 'notes'"):
            check("notes", tmp_path)


def test_fault_checks_need_an_http_sandbox_or_a_declaration(tmp_path: Path) -> None:
    class NotHttp:
        def __init__(self, sandbox: ExampleSandbox) -> None:
            self.inner = sandbox

        def populate(self, count: int, *, seed: int = 1) -> None:
            self.inner.populate(count, seed=seed)

        def records(self, stream: str) -> dict[str, RawRecord]:
            return self.inner.records(stream)

    class Wrapped(ExampleKit):
        def make_sandbox(self, tmp_path: Path) -> Any:
            return NotHttp(ExampleSandbox(clock=VirtualClock()))

        def make_connector(self, sandbox: Any) -> Connector:
            return super().make_connector(sandbox.inner)

    with pytest.raises(AssertionError, match="declare it: unsupported = "):
        Wrapped().test_survives_faults("customers", Fault.truncate(), tmp_path)


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"unsupported": {"fautls": "typo"}}, "unknown checks \\['fautls'\\]"),
        ({"known_failures": {("reed", "customers"): "typo"}}, "unknown checks \\['reed'\\]"),
        ({"streams": ["orders"]}, "streams \\['orders'\\] are not read or written by 'example'"),
    ],
)
def test_mistakes_in_the_subclass_stop_collection(attributes: dict[str, Any], message: str) -> None:
    metafunc = SimpleNamespace(fixturenames=["stream"], parametrize=lambda *a, **k: None)
    with pytest.raises(ValueError, match=message):
        kit(ExampleConnector, **attributes).pytest_generate_tests(metafunc)  # type: ignore[arg-type]
