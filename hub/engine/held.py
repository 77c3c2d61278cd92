"""Fields that wait for a person: no push writes them until the conflict is settled.

Two kinds of open conflict hold a field of a customer:

- ``field``: two sources changed the same field within the clock-skew window,
  so the rules cannot tell which change came last. The hub keeps a
  deterministic winner for its own record, but writing it to the other
  systems would silently overwrite one person's edit with another's. The
  field is held for *every* connection: each keeps the value it has until
  ``crmhub conflicts resolve`` names the value, which is then queued for all;
- ``initial``: a connection's first push found the field with another value
  there (``initial_sync.prefer: review``); it is held for that connection only.

A held field is written as the remote holds it (or left out where it holds
none), so the rest of the record still travels. A connection that holds no
record of the person yet is sent the hub's current value with the new record:
that overwrites nobody's edit, and vendors often require the field. A later change to the field
that the rules can order (outside the skew window, or by priority) is a
decision of its own: the open ``field`` conflict is then marked
``superseded`` and the new value travels as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from hub.store.tables import Conflict, table_of

__all__ = ["HOLDING_KINDS", "held_fields", "keep_remote", "supersede"]

CONFLICT = table_of(Conflict)
HOLDING_KINDS = ("field", "initial")


def held_fields(session: Session, connection: str, hub_ids: Iterable[str]) -> dict[str, set[str]]:
    """The field paths of these customers that a push to ``connection`` must not write."""
    held: dict[str, set[str]] = {}
    for hub_id, kind, path, candidates in session.execute(
        select(CONFLICT.c.hub_id, CONFLICT.c.kind, CONFLICT.c.field, CONFLICT.c.candidates).where(
            CONFLICT.c.kind.in_(HOLDING_KINDS),
            CONFLICT.c.status == "open",
            CONFLICT.c.hub_id.in_(list(hub_ids)),
        )
    ):
        reviewer = (candidates.get("other") or {}).get("source")
        if path and (kind == "field" or reviewer == connection):
            held.setdefault(hub_id, set()).add(path)
    return held


def keep_remote(target: dict[str, Any], remote: dict[str, Any], path: str) -> None:
    """Put the remote's own value of ``path`` (``name`` or ``name.key``) into ``target``."""
    head, _, key = path.partition(".")
    if not key:
        target.pop(head, None)
        if head in remote:
            target[head] = remote[head]
        return
    inner = dict(target.get(head) or {})
    theirs = remote.get(head) or {}
    if key in theirs:
        inner[key] = theirs[key]
    else:
        inner.pop(key, None)
    if inner:
        target[head] = inner
    else:
        target.pop(head, None)


def supersede(
    session: Session, changed: Mapping[str, set[str]], source: str, now: datetime
) -> None:
    """Close the open ``field`` conflicts on paths that a later, ordered change settled.

    ``changed`` maps a hub id to the paths the rules changed without a new
    conflict. One indexed query per page, which finds nothing almost always.
    """
    if not changed:
        return
    settled = [
        conflict_id
        for conflict_id, hub_id, path in session.execute(
            select(CONFLICT.c.id, CONFLICT.c.hub_id, CONFLICT.c.field).where(
                CONFLICT.c.kind == "field",
                CONFLICT.c.status == "open",
                CONFLICT.c.hub_id.in_(list(changed)),
            )
        )
        if path in changed[hub_id]
    ]
    if settled:
        session.execute(
            update(CONFLICT)
            .where(CONFLICT.c.id.in_(settled))
            .values(status="superseded", resolution={"superseded_by": source}, resolved_at=now)
        )
