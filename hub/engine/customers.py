"""Applying one page of customers: identity, merge, and batched writes.

The page is loaded with a fixed number of queries (links, identifiers, the
customers involved, their identifiers and cluster sizes), resolved and merged
in memory, and written back with one executemany per table. The cost per page
does not depend on the size of the store, and one identifier lookup serves the
whole page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, tuple_, update
from sqlmodel import Session, col

from hub.connector import SourceRecord
from hub.engine.context import StreamContext
from hub.engine.hashing import digest, new_hub_id
from hub.engine.identity import IdentityRules, Key, PageIndex, identifier_keys, resolve
from hub.engine.merge import MergeRules, Provenance, combine_customers, merge_customer
from hub.store.tables import (
    Audit,
    Conflict,
    CustomerRow,
    Identifier,
    InteractionRow,
    Link,
    OrderRow,
    table_of,
)

__all__ = ["apply_customers"]

CUSTOMER = table_of(CustomerRow)
LINK = table_of(Link)
IDENTIFIER = table_of(Identifier)
_CHILDREN = (
    (LINK, "hub_id"),
    (IDENTIFIER, "hub_id"),
    (table_of(OrderRow), "customer_hub_id"),
    (table_of(InteractionRow), "customer_hub_id"),
)


@dataclass
class _Page:
    """What the page will write, collected while records are resolved."""

    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    new_customers: set[str] = field(default_factory=set)
    dirty: set[str] = field(default_factory=set)
    links: dict[str, Link] = field(default_factory=dict)
    new_links: set[str] = field(default_factory=set)
    dirty_links: set[str] = field(default_factory=set)
    provenance: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    shared: set[Key] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)


def apply_customers(
    session: Session,
    ctx: StreamContext,
    records: Sequence[SourceRecord],
    identity: IdentityRules,
    rules: MergeRules,
) -> None:
    latest = {r.external_id: r for r in records}  # a page may repeat an id: the last one counts
    page = _Page(links=_load_links(session, ctx.connection, list(latest)))
    todo = []
    for source in latest.values():
        data = source.record.canonical_dict()
        link = page.links.get(source.external_id)
        if link is not None and link.seen_hash == digest(data) and not link.deleted:
            ctx.counts["unchanged"] += 1
        else:
            todo.append((source, data))
    if not todo:
        return
    index = _load_index(session, page, [d for _, d in todo], identity)
    now = datetime.now(UTC)
    for source, data in todo:
        _apply_one(ctx, page, index, identity, rules, source, data, now)
    _write(session, ctx, page, index, identity, now)


def _apply_one(
    ctx: StreamContext,
    page: _Page,
    index: PageIndex,
    identity: IdentityRules,
    rules: MergeRules,
    source: SourceRecord,
    data: dict[str, Any],
    now: datetime,
) -> None:
    link = page.links.get(source.external_id)
    if link is not None and link.hub_id in page.customers:
        hub_id, base = link.hub_id, link.base
        ctx.counts["updated"] += 1
    else:
        hub_id = _place(ctx, page, index, identity, rules, data, now)
        base = {}
        if link is None:
            link = Link(
                connection=ctx.connection,
                object="customer",
                external_id=source.external_id,
                hub_id=hub_id,
            )
            page.links[source.external_id] = link
            page.new_links.add(source.external_id)
        link.hub_id = hub_id
    observed = source.updated_at or now
    held = {
        name: Provenance(s, datetime.fromisoformat(t))
        for name, (s, t) in page.provenance.get(hub_id, {}).items()
    }
    outcome = merge_customer(
        page.customers[hub_id],
        base,
        data,
        source=ctx.connection,
        observed_at=observed,
        provenance=held,
        rules=rules,
    )
    if outcome.changed:
        page.customers[hub_id] = outcome.data
        page.dirty.add(hub_id)
        prov = page.provenance.setdefault(hub_id, {})
        for name, p in outcome.provenance.items():
            prov[name] = [p.source, p.observed_at.isoformat()]
    for conflict in outcome.conflicts:
        page.conflicts.append(
            {
                "kind": "consent" if conflict.field.startswith("consents.") else "field",
                "hub_id": hub_id,
                "field": conflict.field,
                "candidates": {
                    "kept": {"value": conflict.kept, "source": conflict.kept_source},
                    "other": {"value": conflict.other, "source": conflict.other_source},
                },
            }
        )
    index.first_names[hub_id] = page.customers[hub_id].get("first_name")
    link.base, link.seen_hash, link.deleted = data, digest(data), False
    page.dirty_links.add(source.external_id)


def _place(
    ctx: StreamContext,
    page: _Page,
    index: PageIndex,
    identity: IdentityRules,
    rules: MergeRules,
    data: dict[str, Any],
    now: datetime,
) -> str:
    """Find or create the hub customer for an unlinked record."""
    resolution = resolve(data, index, identity)
    for key in resolution.newly_shared:
        index.shared.add(key)
        index.owners.pop(key, None)
        page.shared.add(key)
    for review in resolution.reviews:
        page.conflicts.append(
            {
                "kind": "identity",
                "hub_id": review.other_hub_id,
                "field": None,
                "candidates": {
                    "reason": review.reason,
                    "record": _summary(data),
                    "keys": [list(k) for k in review.keys],
                },
            }
        )
    if resolution.hub_id is None:
        hub_id = new_hub_id()
        page.customers[hub_id], page.provenance[hub_id] = {}, {}
        page.new_customers.add(hub_id)
        index.cluster_sizes[hub_id] = 1
        ctx.counts["created"] += 1
        return hub_id
    hub_id = resolution.hub_id
    for gone in resolution.absorb:
        _absorb(page, index, hub_id, gone, now)
    index.cluster_sizes[hub_id] = index.cluster_sizes.get(hub_id, 0) + 1
    ctx.counts["merged"] += 1
    return hub_id


def _absorb(page: _Page, index: PageIndex, keep: str, gone: str, now: datetime) -> None:
    """Merge an existing customer into another; audited with both snapshots for unmerge."""
    page.audits.append(
        {
            "actor": "sync",
            "action": "merge",
            "hub_id": keep,
            "at": now,
            "details": {
                "kept": keep,
                "merged": gone,
                "kept_snapshot": page.customers[keep],
                "merged_snapshot": page.customers[gone],
                "kept_provenance": page.provenance.get(keep, {}),
                "merged_provenance": page.provenance.get(gone, {}),
                "merged_identifiers": sorted(
                    [kind, value]
                    for kind, values in index.held.get(gone, {}).items()
                    for value in values
                ),
            },
        }
    )
    page.customers[keep] = combine_customers(page.customers[keep], page.customers.pop(gone))
    prov = page.provenance.pop(gone, {})
    page.provenance[keep] = {**prov, **page.provenance.get(keep, {})}
    page.dirty.add(keep)
    page.gone.add(gone)
    page.dirty.discard(gone)
    index.absorb(keep, gone)
    page.audits[-1]["details"]["merged_links"] = [
        link.id for link in page.links.values() if link.hub_id == gone and link.id is not None
    ]
    for external_id, link in page.links.items():
        if link.hub_id == gone:
            link.hub_id = keep
            page.dirty_links.add(external_id)


def _summary(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in ("first_name", "last_name", "emails", "phones") if k in data}


# --- loading ------------------------------------------------------------------------------------


def _load_links(session: Session, connection: str, external_ids: list[str]) -> dict[str, Link]:
    found = session.execute(
        select(Link).where(
            col(Link.connection) == connection,
            col(Link.object) == "customer",
            col(Link.external_id).in_(external_ids),
        )
    ).scalars()
    return {link.external_id: link for link in found}


def _keys_match(keys: set[Key]) -> Any:
    """``(kind = k AND value IN (...)) OR ...``: each arm is an index search.

    A row-value ``(kind, value) IN (...)`` reads the same but SQLite plans it
    as a scan of the whole identifier table.
    """
    by_kind: dict[str, list[str]] = {}
    for kind, value in sorted(keys):
        by_kind.setdefault(kind, []).append(value)
    return or_(
        *(
            and_(IDENTIFIER.c.kind == kind, IDENTIFIER.c.value.in_(values))
            for kind, values in by_kind.items()
        )
    )


def _load_index(
    session: Session, page: _Page, records: list[dict[str, Any]], identity: IdentityRules
) -> PageIndex:
    index = PageIndex()
    keys = {key for data in records for key in identifier_keys(data, identity)}
    hub_ids = {link.hub_id for link in page.links.values()}
    if keys:
        rows = session.execute(
            select(
                IDENTIFIER.c.kind, IDENTIFIER.c.value, IDENTIFIER.c.hub_id, IDENTIFIER.c.shared
            ).where(_keys_match(keys))
        )
        for kind, value, hub_id, shared in rows:
            if shared:
                index.shared.add((kind, value))
            else:
                index.owners[(kind, value)] = hub_id
                hub_ids.add(hub_id)
    if not hub_ids:
        return index
    for hub_id, data, provenance in session.execute(
        select(CUSTOMER.c.hub_id, CUSTOMER.c.data, CUSTOMER.c.provenance).where(
            CUSTOMER.c.hub_id.in_(hub_ids)
        )
    ):
        page.customers[hub_id], page.provenance[hub_id] = data, provenance
        index.first_names[hub_id] = data.get("first_name")
    for kind, value, hub_id in session.execute(
        select(IDENTIFIER.c.kind, IDENTIFIER.c.value, IDENTIFIER.c.hub_id).where(
            IDENTIFIER.c.hub_id.in_(hub_ids), IDENTIFIER.c.shared.is_(False)
        )
    ):
        index.owners[(kind, value)] = hub_id
        index.held.setdefault(hub_id, {}).setdefault(kind, set()).add(value)
    for hub_id, size in session.execute(
        select(LINK.c.hub_id, func.count())
        .where(LINK.c.hub_id.in_(hub_ids))
        .group_by(LINK.c.hub_id)
    ):
        index.cluster_sizes[hub_id] = size
    return index


# --- writing ------------------------------------------------------------------------------------


def _write(
    session: Session,
    ctx: StreamContext,
    page: _Page,
    index: PageIndex,
    identity: IdentityRules,
    now: datetime,
) -> None:
    if page.gone:
        _move_children(session, page, index)
    rows = [_customer_row(h, page, now) for h in page.new_customers if h in page.customers]
    if rows:
        session.execute(insert(CUSTOMER), rows)
    changed = [_customer_row(h, page, now) for h in page.dirty - page.new_customers]
    if changed:
        session.execute(
            update(CUSTOMER).where(CUSTOMER.c.hub_id == bindparam("b_hub_id")),
            [
                {"b_hub_id": r.pop("hub_id"), **{k: v for k, v in r.items() if k != "created_at"}}
                for r in changed
            ],
        )
    _write_links(session, page, now)
    _write_identifiers(session, page, index, identity)
    if page.conflicts:
        session.execute(
            insert(table_of(Conflict)),
            [
                {**c, "run_id": ctx.run_id, "status": "open", "created_at": now}
                for c in page.conflicts
            ],
        )
        ctx.counts["conflicts"] += len(page.conflicts)
    if page.audits:
        session.execute(insert(table_of(Audit)), page.audits)


def _customer_row(hub_id: str, page: _Page, now: datetime) -> dict[str, Any]:
    data = page.customers[hub_id]
    return {
        "hub_id": hub_id,
        "data": data,
        "provenance": page.provenance.get(hub_id, {}),
        "first_name": data.get("first_name"),
        "last_name": data.get("last_name"),
        "primary_email": (data.get("emails") or [None])[0],
        "created_at": now,
        "updated_at": now,
    }


def _write_links(session: Session, page: _Page, now: datetime) -> None:
    new = [page.links[e] for e in page.new_links]
    if new:
        session.execute(
            insert(LINK),
            [
                {
                    "connection": link.connection,
                    "object": link.object,
                    "external_id": link.external_id,
                    "hub_id": link.hub_id,
                    "base": link.base,
                    "seen_hash": link.seen_hash,
                    "deleted": False,
                    "updated_at": now,
                }
                for link in new
            ],
        )
    old = [page.links[e] for e in page.dirty_links - page.new_links]
    if old:
        session.execute(
            update(LINK).where(LINK.c.id == bindparam("b_id")),
            [
                {
                    "b_id": link.id,
                    "hub_id": link.hub_id,
                    "base": link.base,
                    "seen_hash": link.seen_hash,
                    "deleted": link.deleted,
                    "updated_at": now,
                }
                for link in old
            ],
        )


def _write_identifiers(
    session: Session, page: _Page, index: PageIndex, identity: IdentityRules
) -> None:
    """Make the identifier table say what the merged records hold, within the limits."""
    if page.shared:
        session.execute(
            update(IDENTIFIER)
            .where(tuple_(IDENTIFIER.c.kind, IDENTIFIER.c.value).in_(page.shared))
            .values(shared=True)
        )
    stored = {
        (kind, value): hub_id
        for kind, value, hub_id in session.execute(
            select(IDENTIFIER.c.kind, IDENTIFIER.c.value, IDENTIFIER.c.hub_id).where(
                IDENTIFIER.c.hub_id.in_(page.dirty | page.new_customers)
            )
        )
    }
    inserts: list[dict[str, Any]] = []
    removals: list[Key] = []
    for hub_id in page.dirty | page.new_customers:
        wanted = _within_limits(identifier_keys(page.customers[hub_id], identity), identity)
        mine = {key for key, owner in stored.items() if owner == hub_id}
        removals += [key for key in mine - set(wanted) if key not in page.shared]
        for key in index.claim(hub_id, [k for k in wanted if k not in mine]):
            inserts.append({"kind": key[0], "value": key[1], "hub_id": hub_id, "shared": False})
    if removals:
        session.execute(
            delete(IDENTIFIER).where(tuple_(IDENTIFIER.c.kind, IDENTIFIER.c.value).in_(removals))
        )
    if inserts:
        session.execute(insert(IDENTIFIER), inserts)


def _within_limits(keys: list[Key], identity: IdentityRules) -> list[Key]:
    """The first ``limit`` identifiers of each kind: the primary ones come first."""
    seen: dict[str, int] = {}
    kept = []
    for key in keys:
        seen[key[0]] = seen.get(key[0], 0) + 1
        if seen[key[0]] <= identity.limits.get(key[0], 1):
            kept.append(key)
    return kept


def _move_children(session: Session, page: _Page, index: PageIndex) -> None:
    """Re-point the absorbed customers' links and identifiers, then delete them."""
    gone = list(page.gone)
    for old in gone:
        target = _absorbed_into(page, old)
        moved = session.execute(select(LINK.c.id).where(LINK.c.hub_id == old)).scalars().all()
        for audit in page.audits:
            if audit["details"]["merged"] == old:
                links = set(audit["details"]["merged_links"]) | set(moved)
                audit["details"]["merged_links"] = sorted(links)
        for table, column in _CHILDREN:
            session.execute(update(table).where(table.c[column] == old).values({column: target}))
    session.execute(delete(CUSTOMER).where(CUSTOMER.c.hub_id.in_(gone)))


def _absorbed_into(page: _Page, gone: str) -> str:
    for audit in page.audits:
        if audit["details"]["merged"] == gone:
            target = str(audit["details"]["kept"])
            while target in page.gone:
                target = _absorbed_into(page, target)
            return target
    raise KeyError(gone)
