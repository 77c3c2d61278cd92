"""Push: member upserts to the Mailchimp sandbox through the connector's write path.

    python -m bench.mailchimp_push URL MODE COUNT [POLL]

Runs in a process of its own (so its peak RSS is its own) and prints
``{"records", "written", "errors", "seconds", "cpu_seconds"}`` as JSON, the
times taken around the push alone. MODE is one of:

- ``single``: ``COUNT`` fake people, each with recorded e-mail consent, written
  as new members by :meth:`MailchimpConnector.write` (the method the engine's
  push calls), in the engine's batches of 100 changes with ``batch_threshold``
  out of reach: one ``PUT /lists/{id}/members/{hash}`` per member;
- ``batch``: the same changes in calls of 500 with ``batch_threshold`` 1:
  ``POST /batches`` of 500 operations, polled every ``POLL`` seconds until
  finished, the results read back from the archive;
- ``engine-100`` and ``engine-500``: the whole push of ``crmhub sync``:
  ``COUNT`` customers with a pending outbox row each (bulk-inserted into a
  SQLite store first, not timed) drained by the engine's ``push_stream``
  (read, project, plan, write, links and outbox in one transaction a batch)
  with the connector's default settings, in push batches of 100 (the
  engine's default, which stays under the default ``batch_threshold`` of
  200: single PUTs) or 500 (over it: batch operations).

The sandbox runs a batch at the first status check at least
``--batch-seconds`` after it was submitted; real Mailchimp takes from seconds
to minutes, so a batch figure is the hub's cost plus that chosen wait.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from sqlalchemy import insert

from connectors.mailchimp.config import MailchimpConfig
from connectors.mailchimp.connector import MailchimpConnector
from connectors.mailchimp.sandbox import API_KEY, LIST_ID
from hub.connector import Change
from hub.engine.context import StreamContext
from hub.engine.push import push_stream
from hub.model import Channel, Consent, ConsentStatus, Customer
from hub.store.database import Store, open_store
from hub.store.tables import CustomerRow, Outbox, SyncState, table_of
from hub.testing.fake import FakePerson, fake_people

__all__ = ["main"]

SINGLE_CHUNK = 100  # the engine's push batch (hub/engine/push.py)
BATCH_CHUNK = 500  # one Mailchimp batch (connectors/mailchimp/batching.py)
CONNECTION = "news"
_OPTED_IN = datetime(2026, 1, 1, tzinfo=UTC)


def changes(count: int, size: int) -> Iterator[list[Change]]:
    """``count`` customers new to the audience, each subscribed with a recorded time, by ``size``.

    Made a chunk at a time, so the process's peak RSS is the push's, not the test data's.
    """
    people = fake_people(count, seed=7)
    while chunk := [_change(person) for person in islice(people, size)]:
        yield chunk


def _customer(person: FakePerson) -> Customer:
    return Customer(
        first_name=person.first_name,
        last_name=person.last_name,
        emails=[person.email],
        phones=[person.phone],
        birth_date=person.birth_date,
        language=person.language,
        consents={Channel.EMAIL: Consent(status=ConsentStatus.SUBSCRIBED, recorded_at=_OPTED_IN)},
    )


def _change(person: FakePerson) -> Change:
    return Change(f"hub-{person.number}", _customer(person))


def _connector(url: str, **settings: float) -> MailchimpConnector:
    config = MailchimpConfig(list_id=LIST_ID, api_key=API_KEY, base_url=f"{url}/3.0/", **settings)
    return MailchimpConnector(config, connection=CONNECTION)


async def through_writer(url: str, mode: str, count: int, poll: float) -> dict[str, float]:
    threshold = 10**9 if mode == "single" else 1
    connector = _connector(url, batch_threshold=threshold, batch_poll_seconds=poll)
    written = errors = 0
    try:
        for chunk in changes(count, SINGLE_CHUNK if mode == "single" else BATCH_CHUNK):
            results = await connector.write("customers", chunk)
            written += sum(1 for r in results if r.ok and r.external_id)
            errors += sum(1 for r in results if not r.ok)
    finally:
        await connector.aclose()
    return {"records": count, "written": written, "errors": errors}


def _fill(store: Store, count: int) -> None:
    """``count`` customers, each with a pending outbox row for the Mailchimp connection."""
    now = datetime.now(UTC)
    people = fake_people(count, seed=7)
    with store.session() as session:
        while chunk := list(islice(people, 10_000)):
            rows = []
            for person in chunk:
                customer = _customer(person)
                data = customer.canonical_dict()
                rows.append(
                    {
                        "hub_id": f"{person.number:032x}",
                        "data": data,
                        "provenance": {"*": ["shop", now.isoformat()]},
                        "first_name": customer.first_name,
                        "last_name": customer.last_name,
                        "primary_email": customer.primary_email,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            session.execute(insert(table_of(CustomerRow)), rows)
            outbox = [
                {
                    "connection": CONNECTION,
                    "stream": "customers",
                    "hub_id": row["hub_id"],
                    "op": "upsert",
                    "payload": {},
                    "origin": "shop",
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
                for row in rows
            ]
            session.execute(insert(table_of(Outbox)), outbox)
        # Not the first push of the connection (which compares with what Mailchimp holds).
        session.add(SyncState(connection=CONNECTION, stream="customers:push", cursor="done"))
        session.commit()


async def through_engine(url: str, batch: int, count: int, poll: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'hub.db'}")
        _fill(store, count)
        connector = _connector(url, batch_poll_seconds=poll)
        ctx = StreamContext(store, connector, "customers", run_id=1)
        started, cpu = time.perf_counter(), time.process_time()
        try:
            await push_stream(ctx, batch_size=batch)
        finally:
            await connector.aclose()
            store.close()
        timing = {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu,
        }
    pushed, failed = ctx.counts["pushed"], ctx.counts["rejected"]
    return {"records": count, "written": pushed, "errors": failed} | timing


async def push(url: str, mode: str, count: int, poll: float) -> dict[str, float]:
    if mode.startswith("engine-"):
        return await through_engine(url, int(mode.removeprefix("engine-")), count, poll)
    started, cpu = time.perf_counter(), time.process_time()
    counts = await through_writer(url, mode, count, poll)
    return counts | {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
    }


def main(argv: list[str]) -> None:
    url, mode, count, *rest = argv
    poll = float(rest[0]) if rest else 0.2
    result = asyncio.run(push(url, mode, int(count), poll))
    print(json.dumps({key: round(value, 2) for key, value in result.items()}))


if __name__ == "__main__":
    main(sys.argv[1:])
