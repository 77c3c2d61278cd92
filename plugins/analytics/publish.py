"""Putting recommendations on the customer record, and queuing them for the tools.

The hub owns ``Customer.recommendations`` (``hub.model.DERIVED_FIELDS``): the
merge never takes a connection's value, so the only writer is this module,
claimed in the record's provenance as the source ``analytics``. Only records
whose recommendations changed are written and queued, with the outbox row in
the same transaction; the push then compares with what each connection last
held, so a recomputation that changes nothing pushes nothing, and the value a
tool reads back is the hub's own and changes nothing either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from hub.engine.outbox import CHUNK, enqueue
from hub.model import Recommendations
from hub.store.tables import CustomerRow, table_of

__all__ = ["CUSTOMER_STREAM", "SOURCE", "publish_recommendations"]

CUSTOMERS = table_of(CustomerRow)
SOURCE = "analytics"
CUSTOMER_STREAM = "customers"


def publish_recommendations(
    session: Session,
    wanted: Mapping[str, Mapping[str, str]],
    as_of: datetime,
    targets: Sequence[str],
) -> int:
    """Make each customer's recommendations ``wanted`` (none when absent); return changes."""
    held = {
        hub_id: current or None
        for hub_id, current in session.execute(
            select(CUSTOMERS.c.hub_id, CUSTOMERS.c.data["recommendations"])
        )
    }
    canonical = {
        hub_id: Recommendations.model_validate(values).canonical_dict() or None
        for hub_id, values in wanted.items()
        if hub_id in held
    }
    changed = sorted(h for h, current in held.items() if current != canonical.get(h))
    now = datetime.now(UTC)
    for start in range(0, len(changed), CHUNK):
        chunk = changed[start : start + CHUNK]
        rows = session.execute(
            select(CUSTOMERS.c.hub_id, CUSTOMERS.c.data, CUSTOMERS.c.provenance).where(
                CUSTOMERS.c.hub_id.in_(chunk)
            )
        ).all()
        session.execute(
            update(CUSTOMERS).where(CUSTOMERS.c.hub_id == bindparam("b_hub_id")),
            [
                _row(hub_id, data, provenance, canonical.get(hub_id), as_of) | {"updated_at": now}
                for hub_id, data, provenance in rows
            ],
        )
    enqueue(session, stream=CUSTOMER_STREAM, hub_ids=changed, targets=targets, origin=SOURCE)
    return len(changed)


def _row(
    hub_id: str,
    data: dict[str, Any],
    provenance: dict[str, Any],
    values: dict[str, Any] | None,
    as_of: datetime,
) -> dict[str, Any]:
    data = {key: value for key, value in data.items() if key != "recommendations"}
    provenance = {key: value for key, value in provenance.items() if key != "recommendations"}
    if values:
        data["recommendations"] = values
        provenance["recommendations"] = [SOURCE, as_of.isoformat()]
    return {"b_hub_id": hub_id, "data": data, "provenance": provenance}
