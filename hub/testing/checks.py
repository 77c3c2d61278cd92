"""The standard checks every connector passes, one function each.

Each check takes a :class:`Trial`: a populated sandbox, a harness over a fresh
store, the stream, and sample records. Failures say what the connector did,
what the engine needs instead, and where to look, because the person reading
them wrote a connector, not crmhub.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from hub.connector import Change, RawRecord, WriteResult
from hub.errors import AuthError
from hub.model import CanonicalRecord
from hub.testing.faults import Fault
from hub.testing.harness import Harness
from hub.testing.sandbox import Sandbox

__all__ = [
    "FAULTS",
    "KitSandbox",
    "Trial",
    "deletes",
    "parks_bad_records",
    "picks_up_a_change",
    "reads_only_changes",
    "reads_to_the_end",
    "resumes_after_crashes",
    "round_trips",
    "stops_on_an_expired_token",
    "survives",
    "writes_idempotently",
]

FAULTS = {
    "throttled": Fault.throttle(retry_after=2),
    "error_500": Fault.error(500),
    "unavailable_503": Fault.error(503),
    "timeout": Fault.delay(3600),
    "truncated": Fault.truncate(),
}


class KitSandbox(Protocol):
    """What the kit needs from a sandbox; :class:`~hub.testing.sandbox.Sandbox` subclasses add it.

    ``records`` are keyed by the external id the connector reports and shaped
    as the connector receives them, so the kit can compare what was read and
    what was parked in dead letters with what the vendor holds.
    """

    def populate(self, count: int, *, seed: int = 1) -> None: ...

    def records(self, stream: str) -> Mapping[str, RawRecord]: ...

    def add_invalid(self, stream: str) -> str:
        """Store a record the connector's mapping must refuse; return its external id."""
        ...

    def touch(self, stream: str, external_id: str) -> None:
        """Change a record as a user of the vendor would, so the next sync sees it."""
        ...


@dataclass
class Trial:
    """One check's world: a populated sandbox, a fresh store, one stream."""

    sandbox: KitSandbox
    harness: Harness
    stream: str
    samples: list[CanonicalRecord]


async def reads_to_the_end(t: Trial) -> None:
    expected = t.sandbox.records(t.stream)
    run = await t.harness.pull(t.stream)
    _no_error(run.error)
    assert run.counts["dead_letters"] == 0, f"records went to dead letters: {_letters(t)}"
    _same_ids(run.ids, expected, "a full sync")
    assert run.pages >= 2, (
        f"{len(expected)} records came in {run.pages} page(s), so paging went untested; "
        "make make_connector() configure a page size below record_count"
    )


async def resumes_after_crashes(t: Trial) -> None:
    expected = t.sandbox.records(t.stream)
    first = await t.harness.pull(t.stream, stop_after=1)
    _no_error(first.error)
    assert first.stopped, "the stream ended after one page; it needs several to test resuming"
    assert t.harness.cursor(t.stream) is not None, (
        "no cursor was saved with the first page; Page.cursor must say where the next page starts"
    )
    second = await t.harness.pull(t.stream, stop_after=1)
    third = await t.harness.pull(t.stream)
    _no_error(second.error or third.error)
    _same_ids(
        first.ids + second.ids + third.ids, expected, "three runs, each resumed from the cursor"
    )


async def picks_up_a_change(t: Trial) -> None:
    changed = _middle(t.sandbox.records(t.stream))
    _no_error((await t.harness.pull(t.stream)).error)
    t.sandbox.touch(t.stream, changed)
    run = await t.harness.pull(t.stream)
    _no_error(run.error)
    assert changed in run.ids, f"{changed} changed at the vendor, but the next sync did not read it"
    assert (run.counts["updated"], run.counts["created"]) == (1, 0), (
        f"one changed record should update one record and create none; counts {dict(run.counts)}"
    )


async def reads_only_changes(t: Trial) -> None:
    changed = _middle(t.sandbox.records(t.stream))
    _no_error((await t.harness.pull(t.stream)).error)
    idle = await t.harness.pull(t.stream)
    assert idle.ids == [], (
        f"with nothing changed, the next sync read {len(idle.ids)} record(s) again; the cursor "
        "after the last page must mark the end of what was read"
    )
    t.sandbox.touch(t.stream, changed)
    run = await t.harness.pull(t.stream)
    assert run.ids == [changed], f"after one change the sync read {run.ids}, not [{changed!r}]"


async def survives(t: Trial, fault: Fault) -> None:
    sandbox = _http(t.sandbox)
    expected = t.sandbox.records(t.stream)
    sandbox.faults.add(fault, after=1)
    run = await t.harness.pull(t.stream)
    assert sandbox.faults.served, f"the fault ({fault}) was never served: one request only"
    _no_error(run.error, f"after the fault ({fault})")
    _same_ids(run.ids, expected, f"a sync that met a fault ({fault})")


async def stops_on_an_expired_token(t: Trial) -> None:
    sandbox = _http(t.sandbox)
    expected = t.sandbox.records(t.stream)
    sandbox.faults.add(Fault.expire_token(), after=1)
    first = await t.harness.pull(t.stream)
    assert sandbox.faults.served, "the expired token was never served: the sync made one request"
    if first.error is None:  # a connector that refreshes its token goes on: all of it
        _same_ids(first.ids, expected, "a run that went on after an expired token")
        return
    assert isinstance(first.error, AuthError), (
        f"an expired token must stop the run with AuthError, not {first.error!r}"
    )
    leaked = [secret for secret in first.secrets if secret in str(first.error)]
    assert not leaked, f"the error message shows a credential: {first.error}"
    second = await t.harness.pull(t.stream)
    _no_error(second.error)
    _same_ids(first.ids + second.ids, expected, "a run stopped by an expired token and the next")


async def round_trips(t: Trial) -> None:
    changes = _changes(t.samples)
    results = _succeeded(await t.harness.write(t.stream, changes), changes)
    stored = await t.harness.read_back(t.stream)
    held = await t.harness.fields_held(t.stream)
    for change, result in zip(changes, results, strict=True):
        assert result.external_id in stored, (
            f"{result.external_id} was written for {change.hub_id} but not read back"
        )
        sent = _kept(change.record.canonical_dict(), held)
        assert sent, f"the samples hold none of the fields kept for {t.stream!r}: {held}"
        # Compared as the remote can hold them (a birthday field keeps month and day only).
        sent = await t.harness.held_view(t.stream, sent)
        back = await t.harness.held_view(
            t.stream, stored[result.external_id].record.canonical_dict()
        )
        lost = _lost(sent, back)
        assert not lost, (
            f"{result.external_id} lost fields between canonical, vendor and canonical: "
            f"{'; '.join(lost)}. Map them both ways, or leave them out of fields_held()"
        )


async def writes_idempotently(t: Trial) -> None:
    changes = _changes(t.samples)
    first = _succeeded(await t.harness.write(t.stream, changes), changes)
    held = set(t.sandbox.records(t.stream))
    linked = [
        replace(change, external_id=result.external_id)
        for change, result in zip(changes, first, strict=True)
    ]
    for batch, when in ((changes, "without ids (a crash lost them)"), (linked, "with their ids")):
        again = _succeeded(await t.harness.write(t.stream, batch), batch)
        assert [r.external_id for r in again] == [r.external_id for r in first], (
            f"the same batch written again {when} landed on other records"
        )
        assert set(t.sandbox.records(t.stream)) == held, (
            f"the same batch written again {when} created records: "
            f"{sorted(set(t.sandbox.records(t.stream)) - held)}"
        )


async def deletes(t: Trial) -> None:
    changes = _changes(t.samples)
    written = _succeeded(await t.harness.write(t.stream, changes), changes)
    gone, kept = written[0].external_id, [r.external_id for r in written[1:]]
    empty = type(changes[0].record).model_construct()  # as the push sends an erasure
    erase = [Change(changes[0].hub_id, empty, external_id=gone, op="delete")]
    for when in ("", " again (it is already gone: erasing it is done, not an error)"):
        _succeeded(await t.harness.write(t.stream, erase), erase, f"deleting {gone}{when}")
    held = t.sandbox.records(t.stream)
    assert gone not in held, f"{gone} is still at the vendor after its delete succeeded"
    assert all(external_id in held for external_id in kept), "deleting one record removed others"
    assert gone not in await t.harness.read_back(t.stream), f"a sync still reads deleted {gone}"


async def parks_bad_records(t: Trial) -> None:
    bad = t.sandbox.add_invalid(t.stream)
    expected = t.sandbox.records(t.stream)
    run = await t.harness.pull(t.stream)
    _no_error(run.error, "with one bad record")
    letters = t.harness.dead_letters(t.stream)
    assert [letter.external_id for letter in letters] == [bad], (
        f"dead letters hold {[letter.external_id for letter in letters]}, expected [{bad!r}]; "
        "to_canonical must raise ValueError, RecordError or ValidationError for a bad record"
    )
    assert letters[0].payload == expected[bad], "the dead letter must keep the raw vendor record"
    assert letters[0].error, "the dead letter must say what is wrong"
    _same_ids(run.ids, {key: None for key in expected if key != bad}, "a sync with a bad record")


def _http(sandbox: KitSandbox) -> Sandbox:
    assert isinstance(sandbox, Sandbox), (
        f"fault checks need a hub.testing.sandbox.Sandbox; {type(sandbox).__name__} is not one. "
        "If faults cannot happen to this connector, declare it: "
        "unsupported = {'faults': 'why', 'auth': 'why'}"
    )
    return sandbox


def _no_error(error: Exception | None, when: str = "") -> None:
    assert error is None, f"the run failed{' ' + when if when else ''}: {error}"


def _same_ids(read: list[str], expected: Iterable[str], what: str) -> None:
    counts, wanted = Counter(read), set(expected)
    problems = [
        f"{label} {_few(ids)}"
        for label, ids in (
            ("missed", wanted - counts.keys()),
            ("read unknown", counts.keys() - wanted),
            ("read twice", {i for i, n in counts.items() if n > 1}),
        )
        if ids
    ]
    assert not problems, f"{what}: {'; '.join(problems)} (of {len(wanted)} records)"


def _few(ids: Iterable[str]) -> str:
    listed = sorted(ids)
    more = f" and {len(listed) - 5} more" if len(listed) > 5 else ""
    return ", ".join(listed[:5]) + more


def _middle(records: Mapping[str, Any]) -> str:
    ids = sorted(records)
    assert ids, "the sandbox holds no records after populate()"
    return ids[len(ids) // 2]


def _letters(t: Trial) -> str:
    return "; ".join(f"{d.external_id}: {d.error}" for d in t.harness.dead_letters(t.stream))


def _changes(samples: list[CanonicalRecord]) -> list[Change]:
    assert samples, "samples() returned no records to write"
    return [Change(f"kit-sample-{number}", record) for number, record in enumerate(samples, 1)]


def _succeeded(
    results: list[WriteResult], changes: list[Change], what: str = "writing samples"
) -> list[WriteResult]:
    assert len(results) == len(changes), (
        f"{what}: {len(results)} results for {len(changes)} changes"
    )
    refused = [f"{r.hub_id}: {r.error}" for r in results if not r.ok]
    assert not refused, f"{what}: the vendor refused {'; '.join(refused)}"
    assert all(r.external_id for r in results), f"{what}: a result has no external_id"
    return results


def _kept(data: dict[str, Any], held: frozenset[str] | None) -> dict[str, Any]:
    """The fields a stream keeps: whole (``name``), or some keys of an object (``name.key``,
    as for the hub's recommendations)."""
    if held is None:
        return data
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if key in held:
            kept[key] = value
        elif isinstance(value, dict):
            inner = {name: item for name, item in value.items() if f"{key}.{name}" in held}
            if inner:
                kept[key] = inner
    return kept


def _lost(sent: Any, back: Any, path: str = "") -> list[str]:
    """Where ``back`` differs from ``sent`` in what ``sent`` holds; more in ``back`` is fine."""
    if isinstance(sent, dict) and isinstance(back, dict):
        return [
            problem
            for key, value in sent.items()
            for problem in _lost(value, back.get(key), f"{path}.{key}" if path else str(key))
        ]
    if isinstance(sent, list) and isinstance(back, list) and len(sent) == len(back):
        return [
            problem
            for index, (one, other) in enumerate(zip(sent, back, strict=True))
            for problem in _lost(one, other, f"{path}[{index}]")
        ]
    return [] if sent == back else [f"{path}: sent {sent!r}, got {back!r}"]
