"""Push: member upserts to the Mailchimp sandbox through the connector's write path.

    python -m bench.mailchimp_push URL single|batch COUNT

Runs in a process of its own (so its CPU time and peak RSS are its own) and
prints ``{"records", "written", "errors"}`` as JSON. ``COUNT``
fake people, each with recorded e-mail consent, are written as new members by
:meth:`MailchimpConnector.write`, the method the engine's push calls:

- ``single``: one ``PUT /lists/{id}/members/{hash}`` per member (the writer's
  path for a push no larger than ``batch_threshold``), in the engine's
  batches of 100 changes;
- ``batch``: ``POST /batches`` of 500 operations (the writer's path above
  ``batch_threshold``), submitted, polled every ``--poll`` seconds until
  finished, and their results read back from the archive, in calls of 500
  changes.

The sandbox runs a batch at the first status check at least
``--batch-seconds`` after it was submitted; real Mailchimp takes from seconds
to minutes, so the batch figure is the hub's cost plus that chosen wait.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice

from connectors.mailchimp.config import MailchimpConfig
from connectors.mailchimp.connector import MailchimpConnector
from connectors.mailchimp.sandbox import API_KEY, LIST_ID
from hub.connector import Change
from hub.model import Channel, Consent, ConsentStatus, Customer
from hub.testing.fake import FakePerson, fake_people

__all__ = ["main"]

SINGLE_CHUNK = 100  # the engine's push batch (hub/engine/push.py)
BATCH_CHUNK = 500  # one Mailchimp batch (connectors/mailchimp/batching.py)
_OPTED_IN = datetime(2026, 1, 1, tzinfo=UTC)


def changes(count: int, size: int) -> Iterator[list[Change]]:
    """``count`` customers new to the audience, each subscribed with a recorded time, by ``size``.

    Made a chunk at a time, so the process's peak RSS is the push's, not the test data's.
    """
    people = fake_people(count, seed=7)
    while chunk := [_change(person) for person in islice(people, size)]:
        yield chunk


def _change(person: FakePerson) -> Change:
    customer = Customer(
        first_name=person.first_name,
        last_name=person.last_name,
        emails=[person.email],
        phones=[person.phone],
        birth_date=person.birth_date,
        language=person.language,
        consents={Channel.EMAIL: Consent(status=ConsentStatus.SUBSCRIBED, recorded_at=_OPTED_IN)},
    )
    return Change(f"hub-{person.number}", customer)


async def push(url: str, mode: str, count: int, poll: float) -> dict[str, int]:
    config = MailchimpConfig(
        list_id=LIST_ID,
        api_key=API_KEY,
        base_url=f"{url}/3.0/",
        batch_threshold=10**9 if mode == "single" else 1,
        batch_poll_seconds=poll,
    )
    connector = MailchimpConnector(config, connection="news")
    written = errors = 0
    try:
        for chunk in changes(count, SINGLE_CHUNK if mode == "single" else BATCH_CHUNK):
            results = await connector.write("customers", chunk)
            written += sum(1 for r in results if r.ok and r.external_id)
            errors += sum(1 for r in results if not r.ok)
    finally:
        await connector.aclose()
    return {"records": count, "written": written, "errors": errors}


def main(argv: list[str]) -> None:
    url, mode, count, *rest = argv
    poll = float(rest[0]) if rest else 0.2
    print(json.dumps(asyncio.run(push(url, mode, int(count), poll))))


if __name__ == "__main__":
    main(sys.argv[1:])
