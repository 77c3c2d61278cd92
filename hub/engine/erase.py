"""GDPR erasure as a replicated operation, and the tombstones that keep it done.

Erasing a person deletes them from the hub, queues a delete to every connected
system that supports one, and leaves a salted hash of each identifier they had.
A later pull of a record carrying any of those identifiers, from any system, is
refused into dead letters with reason ``erased`` and without its data, so no
sync brings the person back. The audit keeps that an erasure happened, not who.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlmodel import Session, col

from hub.engine.mapped import Mapped, canonical_data, is_customer
from hub.engine.outbox import enqueue
from hub.errors import CrmhubError
from hub.store.queries import find_customer
from hub.store.tables import (
    Audit,
    Conflict,
    CustomerRow,
    DeadLetter,
    HubSetting,
    Identifier,
    InteractionRow,
    Link,
    OrderRow,
    Outbox,
    Tombstone,
    table_of,
)

__all__ = ["Erasure", "erase", "refuse_erased", "tombstones_of"]

TOMBSTONE = table_of(Tombstone)


@dataclass(frozen=True)
class Erasure:
    tombstones: int
    deletes_queued: list[str]


def tombstones_of(salt: str, customer: Mapping[str, Any]) -> set[str]:
    """Salted hashes of every identifier a canonical customer dict carries."""
    values = [("email", e) for e in customer.get("emails") or []]
    values += [("phone", p) for p in customer.get("phones") or []]
    values += sorted((customer.get("identifiers") or {}).items())
    return {hashlib.sha256(f"{salt}:{kind}:{value}".encode()).hexdigest() for kind, value in values}


def _salt(session: Session) -> str:
    setting = session.get(HubSetting, "tombstone_salt")
    if setting is None:
        raise CrmhubError("the store has no tombstone salt; open it with crmhub to migrate it")
    return setting.value


def erase(session: Session, key: str, *, delete_targets: Sequence[str]) -> Erasure:
    """Erase the customer with hub id or e-mail ``key``; commit and report."""
    row = find_customer(session, key)
    if row is None:
        raise CrmhubError("no customer with that hub id or e-mail (nothing was erased)")
    hub_id = row.hub_id
    digests = tombstones_of(_salt(session), row.data)
    known = set(
        session.execute(select(TOMBSTONE.c.digest).where(TOMBSTONE.c.digest.in_(digests))).scalars()
    )
    if digests - known:
        now = datetime.now(UTC)
        session.execute(
            insert(TOMBSTONE), [{"digest": d, "erased_at": now} for d in sorted(digests - known)]
        )
    links = [
        link
        for link in session.execute(select(Link).where(col(Link.hub_id) == hub_id)).scalars()
        if link.object == "customer" or link.object.startswith("segment:")
    ]
    queued = sorted({link.connection for link in links if link.connection in delete_targets})
    for link in links:
        if link.connection in queued and not link.deleted:
            segment = link.object.removeprefix("segment:") if link.object != "customer" else None
            enqueue(
                session,
                stream="segment_members" if segment else "customers",
                hub_ids=[hub_id],
                targets=[link.connection],
                origin=None,
                op="delete",
                payload={
                    "external_id": link.external_id,
                    **({"segment": segment} if segment else {}),
                },
            )
    orders = table_of(OrderRow)
    session.execute(
        update(orders).where(orders.c.customer_hub_id == hub_id).values(customer_hub_id=None)
    )
    for table, column in (
        (InteractionRow, "customer_hub_id"),
        (Conflict, "hub_id"),
        (Identifier, "hub_id"),
        (Link, "hub_id"),
        (CustomerRow, "hub_id"),
    ):
        session.execute(delete(table_of(table)).where(table_of(table).c[column] == hub_id))
    outbox = table_of(Outbox)
    session.execute(delete(outbox).where(outbox.c.hub_id == hub_id, outbox.c.op == "upsert"))
    session.add(
        Audit(
            actor="cli",
            action="erase",
            hub_id=None,
            details={"tombstones": len(digests), "deletes_queued": queued},
        )
    )
    session.commit()
    return Erasure(len(digests), queued)


def refuse_erased(
    session: Session,
    records: Iterable[Mapped],
    *,
    connection: str,
    stream: str,
    run_id: int | None,
) -> tuple[list[Mapped], list[DeadLetter]]:
    """Split a page into records to apply and dead letters for erased people.

    The dead letter keeps the vendor id and the reason, never the data: keeping
    it would undo the erasure.
    """
    records = list(records)
    customers = [r for r in records if is_customer(r)]
    if not customers or session.execute(select(TOMBSTONE.c.digest).limit(1)).first() is None:
        return records, []  # most stores never erased anyone: no need to hash every identifier
    salt = _salt(session)
    digests = {id(r): tombstones_of(salt, canonical_data(r)) for r in customers}
    wanted = set().union(*digests.values())
    if not wanted:
        return records, []
    erased = set(
        session.execute(select(TOMBSTONE.c.digest).where(TOMBSTONE.c.digest.in_(wanted))).scalars()
    )
    if not erased:
        return records, []
    kept: list[Mapped] = []
    letters: list[DeadLetter] = []
    for record in records:
        if digests.get(id(record), set()) & erased:
            letters.append(
                DeadLetter(
                    connection=connection,
                    stream=stream,
                    external_id=record.external_id,
                    payload={},
                    reason="erased",
                    run_id=run_id,
                    error="this person was erased; the record is not imported "
                    "(delete it in the source system too)",
                )
            )
        else:
            kept.append(record)
    return kept, letters
