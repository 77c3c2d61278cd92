"""Per-connection health, read in a handful of grouped queries: what `crmhub status` shows.

An operator watching a service wants to know, for each connection, whether its
last run worked, how long ago it last succeeded (the lag), how many runs failed
since then, how much is waiting to be pushed to it and how many of its records
sit in dead letters; and, for the hub, how many decisions wait for review. Each
figure is one grouped query, so the cost does not grow with the number of
connections or customers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, func, or_, select
from sqlmodel import Session

from hub.store.tables import Conflict, CustomerRow, DeadLetter, Outbox, Run, table_of

__all__ = ["ConnectionStatus", "HubStatus", "hub_status"]

RUN, OUTBOX, LETTERS = table_of(Run), table_of(Outbox), table_of(DeadLetter)
CUSTOMERS, CONFLICTS = table_of(CustomerRow), table_of(Conflict)
SUCCEEDED = "succeeded"
FAILED = ("failed", "abandoned")


@dataclass(frozen=True)
class ConnectionStatus:
    connection: str
    last_run_at: datetime | None
    last_status: str | None
    last_success_at: datetime | None
    lag_seconds: float | None
    failures_since_success: int
    outbox_pending: int
    dead_letters: int

    @property
    def healthy(self) -> bool:
        """Its last run did not fail. A connection never run yet is not unhealthy."""
        return self.last_status not in FAILED


@dataclass(frozen=True)
class HubStatus:
    customers: int
    open_conflicts: int
    connections: list[ConnectionStatus]


def hub_status(
    session: Session, connections: Sequence[str], *, now: datetime | None = None
) -> HubStatus:
    now = now or datetime.now(UTC)
    wanted = list(connections)
    mine = RUN.c.connection.in_(wanted)
    last_success = dict(
        session.execute(
            select(RUN.c.connection, func.max(RUN.c.finished_at))
            .where(mine, RUN.c.status == SUCCEEDED)
            .group_by(RUN.c.connection)
        ).all()
    )
    newest = {
        connection: (started, status)
        for connection, started, status in session.execute(
            select(RUN.c.connection, RUN.c.started_at, RUN.c.status).where(
                RUN.c.id.in_(select(func.max(RUN.c.id)).where(mine).group_by(RUN.c.connection))
            )
        )
    }
    earlier = RUN.alias("earlier")
    last_ok = (
        select(func.max(earlier.c.finished_at))
        .where(earlier.c.connection == RUN.c.connection, earlier.c.status == SUCCEEDED)
        .scalar_subquery()
    )
    failures = _by_connection(
        session,
        select(RUN.c.connection, func.count())
        .where(
            mine,
            RUN.c.status.in_(FAILED),
            or_(last_ok.is_(None), RUN.c.started_at > last_ok),
        )
        .group_by(RUN.c.connection),
    )
    pending = _by_connection(
        session,
        select(OUTBOX.c.connection, func.count())
        .where(OUTBOX.c.connection.in_(wanted), OUTBOX.c.status == "pending")
        .group_by(OUTBOX.c.connection),
    )
    letters = _by_connection(
        session,
        select(LETTERS.c.connection, func.count())
        .where(LETTERS.c.connection.in_(wanted), LETTERS.c.status == "open")
        .group_by(LETTERS.c.connection),
    )
    rows = []
    for connection in wanted:
        success = _aware(last_success.get(connection))
        started, status = newest.get(connection, (None, None))
        rows.append(
            ConnectionStatus(
                connection=connection,
                last_run_at=_aware(started),
                last_status=status,
                last_success_at=success,
                lag_seconds=round((now - success).total_seconds(), 1) if success else None,
                failures_since_success=failures.get(connection, 0),
                outbox_pending=pending.get(connection, 0),
                dead_letters=letters.get(connection, 0),
            )
        )
    customers = session.execute(select(func.count()).select_from(CUSTOMERS)).scalar_one()
    conflicts = session.execute(
        select(func.count()).select_from(CONFLICTS).where(CONFLICTS.c.status == "open")
    ).scalar_one()
    return HubStatus(int(customers), int(conflicts), rows)


def _by_connection(session: Session, query: Select[tuple[str, int]]) -> dict[str, int]:
    return {connection: int(count) for connection, count in session.execute(query)}


def _aware(moment: datetime | None) -> datetime | None:
    """Timestamps come back naive from SQLite and aware from PostgreSQL: UTC either way."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
