"""Connection health from the run, outbox and dead-letter tables, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.store.database import Store
from hub.store.status import hub_status
from hub.store.tables import Conflict, DeadLetter, Outbox, Run

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _run(connection: str, status: str, minutes_ago: int) -> Run:
    started = NOW - timedelta(minutes=minutes_ago)
    return Run(
        connection=connection,
        stream="customers",
        started_at=started,
        finished_at=started + timedelta(seconds=30),
        status=status,
    )


def test_status_reports_lag_failures_since_success_queued_pushes_and_dead_letters(
    store: Store,
) -> None:
    with store.session() as session:
        session.add_all(
            [
                _run("shop", "failed", 90),  # before the success: forgiven
                _run("shop", "succeeded", 60),
                _run("shop", "failed", 20),
                _run("shop", "failed", 10),
                _run("mail", "succeeded", 5),
                Outbox(
                    connection="mail",
                    stream="customers",
                    hub_id="h1",
                    op="upsert",
                    payload={},
                    status="pending",
                    attempts=0,
                    created_at=NOW,
                ),
                DeadLetter(connection="shop", stream="customers", error="bad e-mail", payload={}),
                Conflict(kind="field", hub_id="h1", field="phones", candidates={}),
            ]
        )
        session.commit()
        status = hub_status(session, ["mail", "shop", "crm"], now=NOW)

    mail, shop, crm = status.connections
    assert (shop.last_status, shop.failures_since_success, shop.dead_letters) == ("failed", 2, 1)
    assert shop.lag_seconds == 59 * 60 + 30 and not shop.healthy
    assert (mail.last_status, mail.outbox_pending, mail.healthy) == ("succeeded", 1, True)
    assert (crm.last_status, crm.last_success_at, crm.healthy) == (None, None, True)
    assert status.open_conflicts == 1
