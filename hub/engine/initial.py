"""The first push to a connection: link, report differences, let the policy decide.

When a system is connected, it usually holds many of the hub's people
already. Its first pull links them; its first push would then write the hub's
record over the system's own. Instead, every field the system holds with a
value other than the hub's is a *difference*: it is filed as a conflict of
kind ``initial`` (``crmhub conflicts list --kind initial``) and the
connection's ``initial_sync.prefer`` decides:

- ``hub``: the hub's value is written (the conflict is filed as settled);
- ``remote``: the system's value is taken into the hub, with the system as its
  source, and queued for the other connections (filed as settled);
- ``review``: neither side changes; the conflict stays open, and until a
  person settles it every push leaves that field as the system holds it
  (:mod:`hub.engine.held`).

A field the system does not hold yet is simply filled: nothing of the
system's is overwritten. Consent is not a difference: an opt-out always goes,
and the first push subscribes nobody (see :func:`hub.engine.push._consent_safe`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import insert
from sqlmodel import Session

from hub.engine.context import StreamContext
from hub.engine.outbox import enqueue
from hub.engine.review import set_field
from hub.store.tables import Conflict, table_of

__all__ = ["InitialPolicy", "adopt", "differences", "report"]

CONFLICT = table_of(Conflict)
KIND = "initial"
InitialPolicy = Literal["hub", "remote", "review"]


def differences(hub: Mapping[str, Any], remote: Mapping[str, Any]) -> dict[str, Any]:
    """Fields the remote holds with another value than the hub's: name -> the remote's value."""
    return {
        name: value
        for name, value in remote.items()
        if name != "consents" and value not in (None, [], {}) and hub.get(name) != value
    }


def report(
    session: Session,
    ctx: StreamContext,
    hub_id: str,
    hub: Mapping[str, Any],
    found: Mapping[str, Any],
    policy: InitialPolicy,
) -> None:
    """File each difference; settled at once unless the policy is ``review``."""
    now = datetime.now(UTC)
    settled = policy != "review"
    session.execute(
        insert(CONFLICT),
        [
            {
                "kind": KIND,
                "hub_id": hub_id,
                "field": name,
                "candidates": {
                    "reason": f"first sync of {ctx.connection}: it holds another value",
                    "kept": {"value": hub.get(name), "source": "hub"},
                    "other": {"value": value, "source": ctx.connection},
                },
                "status": "resolved" if settled else "open",
                "resolution": {"policy": policy} if settled else None,
                "run_id": ctx.run_id,
                "created_at": now,
                "resolved_at": now if settled else None,
            }
            for name, value in sorted(found.items())
        ],
    )
    ctx.counts["differences"] += len(found)


def adopt(session: Session, ctx: StreamContext, hub_id: str, found: Mapping[str, Any]) -> None:
    """Policy ``remote``: the system's values become the hub's and go to the other systems."""
    for name, value in sorted(found.items()):
        set_field(session, hub_id, name, value, ctx.connection)
    others = [name for name in ctx.subscribers if name != ctx.connection]
    enqueue(session, stream=ctx.stream, hub_ids=[hub_id], targets=others, origin=ctx.connection)
