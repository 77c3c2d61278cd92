"""Applying one page of customers: identity, merge, and batched writes.

The page is loaded with a fixed number of queries (links, identifiers, the
customers involved with their identifiers and cluster sizes), resolved and
merged in memory, and written back with one executemany per table. The cost
per page does not depend on the size of the store, and one identifier lookup
serves the whole page.

Records are resolved one after the other against an index that each placed
record updates, so two records of one page are matched to each other exactly
as if they had come on different pages: where page boundaries fall never
changes the result.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic_core import from_json
from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, tuple_, update
from sqlmodel import Session

from hub.engine.candidates import find_candidates
from hub.engine.context import StreamContext
from hub.engine.hashing import new_hub_id
from hub.engine.held import supersede
from hub.engine.identity import IdentityRules, Key, PageIndex, identifier_keys, resolve
from hub.engine.mapped import CustomerJson
from hub.engine.merge import (
    KEYED_FIELDS,
    ORDERED_FIELDS,
    SET_FIELDS,
    MergeRules,
    Other,
    Provenance,
    combine_customers,
    merge_customer,
)
from hub.engine.places import contested
from hub.store.bulk import Encoded, insert_rows
from hub.store.lookup import select_in, select_pairs
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

__all__ = ["CustomerChange", "apply_customers"]

CUSTOMER = table_of(CustomerRow)
LINK = table_of(Link)
IDENTIFIER = table_of(Identifier)
_CHILDREN = (
    (LINK, "hub_id"),
    (IDENTIFIER, "hub_id"),
    (table_of(OrderRow), "customer_hub_id"),
    (table_of(InteractionRow), "customer_hub_id"),
    (table_of(Conflict), "hub_id"),
)

Claims = dict[str, Provenance]
_IDENTIFYING = ("emails", "phones", "identifiers")  # what identifier_keys reads
_HELD = ("kind", "value", "hub_id", "shared")  # an identifier row as the index reads it
_FIRST = {name: f"{name}[0]" for name in ORDERED_FIELDS}  # the path of a list's first item
STAR = "*"  # in stored provenance: the claim of every present value not listed


@dataclass(frozen=True, slots=True)
class CustomerChange:
    """A customer a page changed, for the outbox to tell which subscribers hear of it.

    ``before`` is None for a customer the page created or merged another
    into: every subscriber hears of those. ``given`` is what the page's one
    record of this person said and ``base`` what that source had said before
    (None when several records went to them).
    """

    before: dict[str, Any] | None
    after: dict[str, Any]
    given: dict[str, Any] | None
    base: dict[str, Any] | None


@dataclass(slots=True)
class _Link:
    """The part of a link row a page reads and writes; ``id`` None until inserted.

    Plain objects instead of ORM instances: building and tracking 250 mapped
    objects per page cost more than everything else the page does.
    """

    external_id: str
    hub_id: str
    connection: str
    id: int | None = None
    seen_hash: str | None = None
    deleted: bool = False
    raw_hash: str | None = None
    base: dict[str, Any] = field(default_factory=dict)
    base_json: str | None = None  # ``base`` as JSON, when the page parsed it from that text


@dataclass(slots=True)
class _Record:
    """A changed record of the page, with what reading it gave once for every later use."""

    source: CustomerJson  # its ``text`` is what the fingerprint hashes and the link's new base
    data: dict[str, Any]  # its canonical dict, parsed from that text
    fingerprint: str
    keys: list[Key]  # its identifier keys (:func:`~hub.engine.identity.identifier_keys`)


@dataclass
class _Page:
    """What the page will write, collected while records are resolved."""

    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    provenance: dict[str, Claims] = field(default_factory=dict)
    new_customers: set[str] = field(default_factory=set)
    dirty: set[str] = field(default_factory=set)
    before: dict[str, dict[str, Any]] = field(default_factory=dict)  # as the page found them
    given: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = field(
        default_factory=dict
    )  # per customer, the page's records of them and their sources' previous word
    absorbed: set[str] = field(default_factory=set)  # customers another one was merged into
    links: dict[str, _Link] = field(default_factory=dict)
    new_links: set[str] = field(default_factory=set)
    dirty_links: set[str] = field(default_factory=set)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    stored: dict[Key, tuple[str, bool]] = field(default_factory=dict)
    shared: dict[Key, str | None] = field(default_factory=dict)
    gone: dict[str, str] = field(default_factory=dict)
    reviewed: set[frozenset[str]] = field(default_factory=set)
    settled: dict[str, set[str]] = field(default_factory=dict)  # hub id -> paths ordered anew

    def final(self, hub_id: str) -> str:
        """Where ``hub_id`` ended up after the page's merges."""
        while hub_id in self.gone:
            hub_id = self.gone[hub_id]
        return hub_id


def apply_customers(
    session: Session,
    ctx: StreamContext,
    records: Sequence[CustomerJson],
    identity: IdentityRules,
    rules: MergeRules,
    *,
    raw_hashes: Mapping[str, str | None],
) -> dict[str, CustomerChange]:
    """Apply a page of customers; return the customers it changed, for the outbox to sort.

    A record whose fingerprint equals the one its link saw last time is
    skipped before anything else is done with it: a re-read of unchanged
    records costs one light query per page and a hash per record. Its link
    still learns the payload hash, so the next re-read skips it unmapped.
    """
    known = _load_links(session, ctx.connection, list({r.external_id for r in records}))
    seen: dict[str, str | None] = {
        e: link.seen_hash for e, link in known.items() if not link.deleted
    }
    todo = []
    for source in records:  # a page may repeat an id: each version in turn, as across pages
        fingerprinted = hashlib.sha256(source.text.encode()).hexdigest()
        if seen.get(source.external_id) == fingerprinted:
            ctx.counts["unchanged"] += 1
        else:
            data = from_json(source.text)
            keys = identifier_keys(data, identity)
            todo.append(_Record(source, data, fingerprinted, keys))
        seen[source.external_id] = fingerprinted
    _learn_raw_hashes(session, known, {r.source.external_id for r in todo}, raw_hashes)
    if not todo:
        return {}
    page = _Page(links={e: known[e] for r in todo if (e := r.source.external_id) in known})
    _load_bases(session, page.links)
    index = _load_index(session, page, todo, identity)
    now = datetime.now(UTC)
    for record in todo:
        _apply_one(session, ctx, page, index, identity, rules, record, now)
        link = page.links[record.source.external_id]
        link.base, link.base_json, link.deleted = record.data, record.source.text, False
        link.seen_hash = record.fingerprint
        link.raw_hash = raw_hashes.get(record.source.external_id)
    if identity.candidates is not None:
        _file_candidates(session, page, identity)
    _write(session, ctx, page, index, now)
    fresh = page.new_customers | page.absorbed
    return {
        hub_id: CustomerChange(
            before=None if hub_id in fresh else page.before.get(hub_id),
            after=page.customers[hub_id],
            given=given[0][0] if len(given := page.given.get(hub_id, [])) == 1 else None,
            base=given[0][1] if len(given) == 1 else None,
        )
        for hub_id in page.dirty | page.new_customers
        if hub_id in page.customers
    }


def _learn_raw_hashes(
    session: Session,
    known: dict[str, _Link],
    changed: set[str],
    raw_hashes: Mapping[str, str | None],
) -> None:
    """Store the payload hash on the links of unchanged records that lack it or hold another."""
    learned = [
        {"b_id": link.id, "raw_hash": digest}
        for external_id, link in known.items()
        if external_id not in changed
        and not link.deleted
        and (digest := raw_hashes.get(external_id)) is not None
        and digest != link.raw_hash
    ]
    if learned:
        session.execute(update(LINK).where(LINK.c.id == bindparam("b_id")), learned)


def _apply_one(
    session: Session,
    ctx: StreamContext,
    page: _Page,
    index: PageIndex,
    identity: IdentityRules,
    rules: MergeRules,
    record: _Record,
    now: datetime,
) -> None:
    source, data = record.source, record.data
    link = page.links.get(source.external_id)
    if link is not None and link.hub_id in page.customers:
        hub_id = _place(ctx, page, index, identity, rules, record, now, linked=link.hub_id)
        base = link.base
        ctx.counts["updated"] += 1
    else:
        hub_id = _place(ctx, page, index, identity, rules, record, now)
        base = {}
        if link is None:
            link = _Link(source.external_id, hub_id, ctx.connection)
            page.links[source.external_id] = link
            page.new_links.add(source.external_id)
        link.hub_id = hub_id
    page.before.setdefault(hub_id, page.customers[hub_id])
    page.given.setdefault(hub_id, []).append((data, base))
    outcome = merge_customer(
        page.customers[hub_id],
        base,
        data,
        source=ctx.connection,
        observed_at=source.updated_at or now,
        provenance=page.provenance[hub_id],
        rules=rules,
        others=_other_bases(session, page, hub_id, link, base, data),
    )
    if outcome.changed or outcome.provenance:
        page.customers[hub_id] = outcome.data
        page.provenance[hub_id].update(outcome.provenance)
        page.dirty.add(hub_id)
    if hub_id not in page.new_customers:  # a customer made by this page has no conflicts
        contested = {conflict.field for conflict in outcome.conflicts}
        if settled := set(outcome.changed) - contested:
            page.settled.setdefault(hub_id, set()).update(settled)
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
    index.assign(hub_id, _wanted(page.customers[hub_id], record, identity))
    page.dirty_links.add(source.external_id)


def _place(
    ctx: StreamContext,
    page: _Page,
    index: PageIndex,
    identity: IdentityRules,
    rules: MergeRules,
    record: _Record,
    now: datetime,
    linked: str | None = None,
) -> str:
    """The hub customer a record goes to: its linked one, a match, or a new one.

    A linked record keeps its customer but may still prove others to be the
    same person; they are absorbed into it.
    """
    data = record.data
    resolution = resolve(data, index, identity, linked=linked, keys=record.keys)
    for key in sorted(resolution.newly_shared):
        owner = index.share(key)
        page.shared.setdefault(key, owner)
    hub_id = resolution.hub_id
    if hub_id is None:
        hub_id = new_hub_id()
        page.customers[hub_id], page.provenance[hub_id] = {}, {}
        page.new_customers.add(hub_id)
        index.cluster_sizes[hub_id] = 1
        ctx.counts["created"] += 1
    else:
        for gone in resolution.absorb:
            _absorb(page, index, rules, hub_id, gone, now)
        if linked is None:
            index.cluster_sizes[hub_id] = index.cluster_sizes.get(hub_id, 1) + 1
            ctx.counts["merged"] += 1
    for review in resolution.reviews:
        _review(page, review.other_hub_id, data, review.reason, keys=review.keys)
        page.reviewed.add(frozenset((review.other_hub_id, hub_id)))
    return hub_id


def _review(page: _Page, hub_id: str, data: dict[str, Any], reason: str, **details: Any) -> None:
    """File an identity decision for a person: ``hub_id`` is the customer it is about."""
    summary = {k: data[k] for k in ("first_name", "last_name", "emails", "phones") if k in data}
    if "keys" in details:
        details["keys"] = [list(k) for k in details["keys"]]
    page.conflicts.append(
        {
            "kind": "identity",
            "hub_id": hub_id,
            "field": None,
            "candidates": {"reason": reason, "record": summary, **details},
        }
    )


def _absorb(
    page: _Page, index: PageIndex, rules: MergeRules, keep: str, gone: str, now: datetime
) -> None:
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
                "kept_provenance": _dump(page.provenance[keep], page.customers[keep]),
                "merged_provenance": _dump(page.provenance[gone], page.customers[gone]),
                "merged_identifiers": sorted(list(key) for key in index.owned(gone)),
                "merged_links": [
                    link.id
                    for link in page.links.values()
                    if link.hub_id == gone and link.id is not None
                ],
            },
        }
    )
    page.customers[keep], page.provenance[keep] = combine_customers(
        page.customers[keep],
        page.customers.pop(gone),
        provenance=(page.provenance[keep], page.provenance.pop(gone)),
        rules=rules,
    )
    page.dirty.add(keep)
    page.dirty.discard(gone)
    page.absorbed.add(keep)
    page.gone[gone] = keep
    index.absorb(keep, gone)
    for external_id, link in page.links.items():
        if link.hub_id == gone:
            link.hub_id = keep
            page.dirty_links.add(external_id)


def _file_candidates(session: Session, page: _Page, identity: IdentityRules) -> None:
    """Tier 3: the page's new customers that look like someone, each filed for review."""
    assert identity.candidates is not None
    new = {h: page.customers[h] for h in page.new_customers if h in page.customers}
    if not new:
        return
    found = find_candidates(
        session, identity.candidates, new, page.customers, page.reviewed, gone=page.gone
    )
    for candidate in found:
        _review(
            page,
            candidate.other,
            page.customers[candidate.hub_id],
            "similar",
            score=candidate.score,
            fields=candidate.fields,
            hub_ids=sorted((candidate.hub_id, candidate.other)),
        )


# --- loading ------------------------------------------------------------------------------------


def _load_links(session: Session, connection: str, external_ids: list[str]) -> dict[str, _Link]:
    """The page's links without their bases: most records are unchanged and need none."""
    found = select_in(
        session,
        LINK,
        ("external_id", "hub_id", "connection", "id", "seen_hash", "deleted", "raw_hash"),
        "external_id",
        external_ids,
        connection=connection,
        object="customer",
    )
    return {row[0]: _Link(*row) for row in found}


def _load_bases(session: Session, links: dict[str, _Link]) -> None:
    """The bases of the links whose records changed: the other side of the three-way merge."""
    by_id = {link.id: link for link in links.values() if link.id is not None}
    for link_id, base in select_in(session, LINK, ("id", "base"), "id", [*by_id]):
        by_id[link_id].base = base


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


def _withdraws(base: dict[str, Any], data: dict[str, Any]) -> bool:
    """Whether the record drops a set item, names another first item, or changes a consent."""
    if not base:
        return False  # a source's first word on a person withdraws nothing
    for name in SET_FIELDS:
        old, new = base.get(name) or [], data.get(name) or []
        if any(item not in new for item in old) or (old and (not new or new[0] != old[0])):
            return True
    consents = data.get("consents") or {}
    return any(value != consents.get(c) for c, value in (base.get("consents") or {}).items())


def _other_bases(
    session: Session,
    page: _Page,
    hub_id: str,
    link: _Link,
    base: dict[str, Any],
    data: dict[str, Any],
) -> list[Other]:
    """What the customer's other links hold now, when the record withdraws something
    or changes a part of an address the hub holds otherwise.

    Only then are they needed (see :func:`merge_customer`), so the query runs
    for those rare records alone. Links this page wrote or re-pointed count
    with their newer bases. A link's claim is its source as of the record's
    own ``updated_at``, the time the merge would have used.
    """
    if not _withdraws(base, data) and not contested(page.customers[hub_id], base, data):
        return []
    homes = [hub_id, *(gone for gone in page.gone if page.final(gone) == hub_id)]
    found: dict[Any, Other] = {
        link_id: (_claim(connection, base), base)
        for link_id, connection, base in session.execute(
            select(LINK.c.id, LINK.c.connection, LINK.c.base).where(
                LINK.c.object == "customer", LINK.c.hub_id.in_(homes)
            )
        )
    }
    for other in page.links.values():
        if other.hub_id == hub_id:
            key = other.id if other.id is not None else other.external_id
            found[key] = (_claim(other.connection, other.base), other.base)
    found.pop(link.id if link.id is not None else link.external_id, None)
    return list(found.values())


def _claim(connection: str, base: dict[str, Any]) -> Provenance:
    stamp = base.get("updated_at")
    when = datetime.fromisoformat(stamp) if isinstance(stamp, str) else datetime.min
    return Provenance(connection, when.replace(tzinfo=when.tzinfo or UTC))


def _load_index(
    session: Session,
    page: _Page,
    records: list[_Record],
    identity: IdentityRules,
) -> PageIndex:
    """Everything the page's decisions read, in at most four queries whatever the page holds.

    The second identifier query covers the identifiers the involved customers
    hold *and* the ones their records list but someone else holds (a shared
    family address), so the writes know every row they might touch.
    """
    index = PageIndex()
    keys = {key for record in records for key in record.keys}
    hub_ids = {link.hub_id for link in page.links.values()}
    by_kind: dict[str, list[str]] = {}
    for kind, value in keys:
        by_kind.setdefault(kind, []).append(value)
    found = select_pairs(session, IDENTIFIER, _HELD, ("kind", "value"), by_kind)
    _index_found(page, index, found, hub_ids)
    if not hub_ids:
        return index
    stored = select_in(session, CUSTOMER, ("hub_id", "data", "provenance"), "hub_id", [*hub_ids])
    for hub_id, data, provenance in stored:
        page.customers[hub_id], page.provenance[hub_id] = data, _load(provenance, data)
        index.first_names[hub_id] = data.get("first_name")
    held = {key for data in page.customers.values() for key in identifier_keys(data, identity)}
    condition = IDENTIFIER.c.hub_id.in_(page.customers)
    more = held - keys
    rows = session.execute(
        select(*(IDENTIFIER.c[name] for name in _HELD)).where(
            or_(condition, _keys_match(more)) if more else condition
        )
    )
    _index_found(page, index, rows, set())
    if _matching(page, index, records):
        for hub_id, size in session.execute(
            select(LINK.c.hub_id, func.count())
            .where(LINK.c.hub_id.in_(page.customers))
            .group_by(LINK.c.hub_id)
        ):
            index.cluster_sizes[hub_id] = size
    return index


def _matching(page: _Page, index: PageIndex, records: list[_Record]) -> bool:
    """Whether any record may be matched to a customer other than its own.

    Only then do cluster sizes matter; a re-read of linked records that bring
    no foreign identifier skips the query.
    """
    for record in records:
        link = page.links.get(record.source.external_id)
        if link is None or link.hub_id not in page.customers:
            return True
        if any(index.owners.get(k, link.hub_id) != link.hub_id for k in record.keys):
            return True
    return False


def _index_found(
    page: _Page, index: PageIndex, rows: Iterable[Sequence[Any]], hub_ids: set[str]
) -> None:
    """Put identifier rows (kind, value, hub id, shared) in the index; owners go in ``hub_ids``."""
    for kind, value, hub_id, shared in rows:
        key = (kind, value)
        page.stored[key] = (hub_id, shared)
        if shared:
            index.shared.add(key)
        else:
            index.owners[key] = hub_id
            index.held.setdefault(hub_id, {}).setdefault(kind, set()).add(value)
            hub_ids.add(hub_id)


def _load(stored: dict[str, Any], data: dict[str, Any]) -> Claims:
    """Claims as the merge reads them: one per path, ``*`` spelled out."""
    claims = {
        path: Provenance(source, datetime.fromisoformat(at))
        for path, (source, at) in stored.items()
        if path != STAR
    }
    if STAR in stored:
        source, at = stored[STAR]
        star = Provenance(source, datetime.fromisoformat(at))
        for path in _present_paths(data):
            claims.setdefault(path, star)
    return claims


def _dump(claims: Claims, data: dict[str, Any]) -> dict[str, list[str]]:
    """Claims as stored: the commonest claim of the values present is written once, as ``*``.

    A record one source created holds one claim on every field; spelled out,
    that was the largest column of the row and a third of the bytes a page
    writes. Paths whose value is absent (a removal's claim) keep their own
    entry, so ``*`` never lends a claim to a field that has no value.
    """
    present = _present_paths(data)
    first = next(iter(claims.values()), None)
    if first is not None and claims.keys() <= present and all(c is first for c in claims.values()):
        return {STAR: [first.source, first.observed_at.isoformat()]}  # a new record, most often
    held = [c for p, c in claims.items() if p in present]
    if held and all(c is held[0] for c in held):
        common: Provenance | None = held[0]  # one claim on every value held
    else:
        star = Counter(held).most_common(1)
        common = star[0][0] if star else None
    out = {STAR: [common.source, common.observed_at.isoformat()]} if common else {}
    for path, claim in claims.items():
        if (claim is not common and claim != common) or path not in present:
            out[path] = [claim.source, claim.observed_at.isoformat()]
    return out


def _present_paths(data: dict[str, Any]) -> set[str]:
    """The paths the merge keeps claims for, of the values ``data`` holds."""
    paths: set[str] = set()
    for name, value in data.items():
        if name in KEYED_FIELDS or name == "consents":
            paths.update([f"{name}.{key}" for key in value])
        elif name != "hub_id":
            paths.add(name)
            if value and name in ORDERED_FIELDS:
                paths.add(_FIRST[name])
    return paths


def _wanted(data: dict[str, Any], record: _Record, identity: IdentityRules) -> list[Key]:
    """The identifiers a customer should own: the first ``limit`` of each kind.

    A customer that identifies by what the record just merged into it gives
    (a new customer, most re-reads) has the record's keys: no need to list them again.
    """
    given = record.data
    same = all(data.get(name) == given.get(name) for name in _IDENTIFYING)
    seen: dict[str, int] = {}
    kept = []
    for key in record.keys if same else identifier_keys(data, identity):
        seen[key[0]] = seen.get(key[0], 0) + 1
        if seen[key[0]] <= identity.limits.get(key[0], 1):
            kept.append(key)
    return kept


# --- writing ------------------------------------------------------------------------------------


def _write(
    session: Session, ctx: StreamContext, page: _Page, index: PageIndex, now: datetime
) -> None:
    """Customers first (identifiers refer to them), then what hangs off them."""
    alive = page.new_customers & page.customers.keys()
    if alive:
        insert_rows(session, CUSTOMER, [_customer_row(h, page, now) for h in alive])
    if page.gone:
        _move_children(session, page)
    changed = [_customer_row(h, page, now) for h in page.dirty - page.new_customers]
    if changed:
        session.execute(
            update(CUSTOMER).where(CUSTOMER.c.hub_id == bindparam("b_hub_id")),
            [
                {"b_hub_id": r.pop("hub_id"), **{k: v for k, v in r.items() if k != "created_at"}}
                for r in changed
            ],
        )
    _write_links(session, ctx.connection, page, now)
    _write_identifiers(session, page, index)
    settled: dict[str, set[str]] = {}
    for hub_id, paths in page.settled.items():
        settled.setdefault(page.final(hub_id), set()).update(paths)
    supersede(session, settled, ctx.connection, now)
    if page.conflicts:
        session.execute(
            insert(table_of(Conflict)),
            [
                {
                    **c,
                    "hub_id": page.final(c["hub_id"]),
                    "run_id": ctx.run_id,
                    "status": "open",
                    "created_at": now,
                }
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
        "provenance": _dump(page.provenance[hub_id], data),
        "first_name": data.get("first_name"),
        "last_name": data.get("last_name"),
        "primary_email": (data.get("emails") or [None])[0],
        "created_at": now,
        "updated_at": now,
    }


def _write_links(session: Session, connection: str, page: _Page, now: datetime) -> None:
    new = [page.links[e] for e in page.new_links]
    if new:
        insert_rows(
            session,
            LINK,
            [
                {
                    "connection": connection,
                    "object": "customer",
                    "external_id": link.external_id,
                    "hub_id": link.hub_id,
                    "base": link.base if link.base_json is None else Encoded(link.base_json),
                    "seen_hash": link.seen_hash,
                    "raw_hash": link.raw_hash,
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
                    "raw_hash": link.raw_hash,
                    "deleted": link.deleted,
                    "updated_at": now,
                }
                for link in old
            ],
        )


def _write_identifiers(session: Session, page: _Page, index: PageIndex) -> None:
    """Make the identifier table say what the index says the page's customers own.

    The index already applied the limits, the shared marks and the merges, so
    this is a diff against the rows as loaded (``page.stored``).
    """
    touched = page.dirty | (page.new_customers & page.customers.keys())
    owned = {key: hub_id for hub_id in touched for key in index.owned(hub_id)}
    removals = [
        key
        for key, (hub_id, shared) in page.stored.items()
        if not shared
        and page.final(hub_id) in touched
        and key not in owned
        and key not in page.shared
    ]
    inserts = [
        {"kind": key[0], "value": key[1], "hub_id": hub_id, "shared": False}
        for key, hub_id in owned.items()
        if key not in page.stored
    ]
    marks = [key for key in page.shared if key in page.stored]
    inserts += [
        {"kind": key[0], "value": key[1], "hub_id": page.final(owner), "shared": True}
        for key, owner in page.shared.items()
        if key not in page.stored and owner is not None
    ]
    if removals:
        session.execute(
            delete(IDENTIFIER).where(tuple_(IDENTIFIER.c.kind, IDENTIFIER.c.value).in_(removals))
        )
    if marks:
        session.execute(
            update(IDENTIFIER)
            .where(tuple_(IDENTIFIER.c.kind, IDENTIFIER.c.value).in_(marks))
            .values(shared=True)
        )
    insert_rows(session, IDENTIFIER, inserts)


def _move_children(session: Session, page: _Page) -> None:
    """Re-point the absorbed customers' links, identifiers, orders ... then delete them.

    Only customers that exist in the table need it: one created and absorbed
    within the page was never written.
    """
    stored = [gone for gone in page.gone if gone not in page.new_customers]
    for gone in stored:
        target = page.final(gone)
        moved = session.execute(select(LINK.c.id).where(LINK.c.hub_id == gone)).scalars().all()
        for audit in page.audits:
            if audit["details"]["merged"] == gone:
                links = set(audit["details"]["merged_links"]) | set(moved)
                audit["details"]["merged_links"] = sorted(links)
        for table, column in _CHILDREN:
            session.execute(update(table).where(table.c[column] == gone).values({column: target}))
    if stored:
        session.execute(delete(CUSTOMER).where(CUSTOMER.c.hub_id.in_(stored)))
