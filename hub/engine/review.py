"""What a person decides after the rules: conflicts, unmerges, dead-letter retries.

Each operation is one transaction and leaves an audit row, so the history of a
customer record explains itself. A resolved value is re-validated against the
canonical model: a person typing ``--value`` gets the same checks as a sync.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from hub.engine.held import HOLDING_KINDS
from hub.engine.outbox import enqueue
from hub.errors import CrmhubError
from hub.model import Customer
from hub.store.tables import Audit, Conflict, CustomerRow, Identifier, Link

__all__ = ["ReviewError", "resolve_conflict", "set_field", "unmerge"]


class ReviewError(CrmhubError):
    """A review command that cannot be carried out as asked."""


def resolve_conflict(
    session: Session,
    conflict_id: int,
    *,
    take: str | None = None,
    value: str | None = None,
    dismiss: bool = False,
    targets: Sequence[str] = (),
) -> Conflict:
    """Settle a conflict by a source's value, an explicit value, or dismissal.

    A settled value is queued for ``targets`` (the connections that take
    pushes) in the same transaction, so the decision reaches every system; a
    field that was held while the conflict was open (a concurrent edit, or a
    difference from a first sync) is written then. Dismissing such a conflict
    keeps the hub's value, which is then written everywhere too.
    """
    conflict = session.get(Conflict, conflict_id)
    if conflict is None:
        raise ReviewError(f"no conflict with id {conflict_id}")
    if conflict.status != "open":
        raise ReviewError(f"conflict {conflict_id} is already {conflict.status}")
    if [take is not None, value is not None, dismiss].count(True) != 1:
        raise ReviewError("say exactly one of --take SOURCE, --value VALUE or --dismiss")
    now = datetime.now(UTC)
    resolution: dict[str, Any] = {"dismissed": True}
    if not dismiss:
        if conflict.kind == "identity" or conflict.field is None or conflict.hub_id is None:
            raise ReviewError(
                f"conflict {conflict_id} is an identity review: use --dismiss to keep the "
                "records apart (merging by hand is not supported yet)"
            )
        chosen = _chosen_value(conflict, take, value)
        set_field(session, conflict.hub_id, conflict.field, chosen, f"manual:{take or 'value'}")
        resolution = {"value": chosen, "source": take or "manual"}
    if conflict.hub_id is not None and (not dismiss or conflict.kind in HOLDING_KINDS):
        # the field is no longer held (hub.engine.held): the hub's value now goes everywhere
        enqueue(
            session, stream="customers", hub_ids=[conflict.hub_id], targets=targets, origin=None
        )
    conflict.status = "resolved"
    conflict.resolution = resolution
    conflict.resolved_at = now
    session.add(conflict)
    session.add(
        Audit(
            actor="cli",
            action="resolve",
            hub_id=conflict.hub_id,
            details={"conflict": conflict_id, **resolution},
        )
    )
    session.commit()
    return conflict


def _chosen_value(conflict: Conflict, take: str | None, value: str | None) -> Any:
    if value is not None:
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    for side in ("kept", "other"):
        candidate = conflict.candidates.get(side) or {}
        if candidate.get("source") == take:
            return candidate.get("value")
    sources = [(conflict.candidates.get(s) or {}).get("source") for s in ("kept", "other")]
    raise ReviewError(
        f"conflict {conflict.id} has no value from {take!r}; its sources are "
        f"{', '.join(str(s) for s in sources)}"
    )


def set_field(session: Session, hub_id: str, path: str, value: Any, source: str) -> None:
    row = session.get(CustomerRow, hub_id)
    if row is None:
        raise ReviewError(f"customer {hub_id} no longer exists (merged or erased)")
    data = dict(row.data)
    head, _, key = path.partition(".")
    if key:
        data[head] = {**(data.get(head) or {}), key: value}
    else:
        data[head] = value
    try:
        customer = Customer.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(e["msg"] for e in exc.errors(include_url=False))
        raise ReviewError(f"{path} = {value!r} is not valid: {problems}") from None
    row.data = customer.canonical_dict()
    row.provenance = {**row.provenance, path: [source, datetime.now(UTC).isoformat()]}
    row.first_name, row.last_name = customer.first_name, customer.last_name
    row.primary_email = customer.primary_email
    row.updated_at = datetime.now(UTC)
    session.add(row)


def unmerge(session: Session, hub_id: str) -> str:
    """Undo the newest merge that absorbed a customer into ``hub_id``.

    Both records get back the data and provenance they had before the merge;
    the absorbed one gets back its links and identifiers. Returns its hub id.
    Later syncs then carry on from there.
    """
    audit = session.exec(
        select(Audit)
        .where(Audit.action == "merge", Audit.hub_id == hub_id)
        .order_by(col(Audit.id).desc())
    ).first()
    if audit is None:
        raise ReviewError(f"customer {hub_id} has no merge to undo")
    details = audit.details
    kept = session.get(CustomerRow, hub_id)
    if kept is None:
        raise ReviewError(f"customer {hub_id} does not exist")
    merged_id = str(details["merged"])
    if session.get(CustomerRow, merged_id) is not None:
        raise ReviewError(f"merge {audit.id} was already undone ({merged_id} exists)")
    merged = CustomerRow(hub_id=merged_id)
    for row, data_key, prov_key in (
        (kept, "kept_snapshot", "kept_provenance"),
        (merged, "merged_snapshot", "merged_provenance"),
    ):
        row.data, row.provenance = details[data_key], details.get(prov_key, {})
        row.first_name, row.last_name = row.data.get("first_name"), row.data.get("last_name")
        row.primary_email = (row.data.get("emails") or [None])[0]
        row.updated_at = datetime.now(UTC)
        session.add(row)
    session.flush()
    link_ids = [int(i) for i in details.get("merged_links", [])]
    if link_ids:
        for link in session.exec(select(Link).where(col(Link.id).in_(link_ids))):
            # re-read next pull (mapped again, not skipped by its payload), re-merged by rules
            link.hub_id, link.seen_hash, link.raw_hash = merged_id, None, None
            session.add(link)
    for kind, value in details.get("merged_identifiers", []):
        ident = session.exec(
            select(Identifier).where(Identifier.kind == kind, Identifier.value == value)
        ).first()
        if ident is not None:
            ident.hub_id = merged_id
            session.add(ident)
    session.add(
        Audit(
            actor="cli",
            action="unmerge",
            hub_id=hub_id,
            details={"merge_audit": audit.id, "restored": merged_id},
        )
    )
    session.commit()
    return merged_id
