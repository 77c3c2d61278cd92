"""Tier 3 of identity: look-alikes with no identifier in common, scored for review.

Two records can be one person with nothing deterministic to prove it (a new
e-mail, no phone), and two people can look alike (John Smith of Leeds). So a
score never merges anyone: a pair at or above ``review_above`` becomes an
identity review with the score and the per-field similarities, for a person
to decide.

Only customers created by the page are scored, against the customers that
share their last name (the block), fetched with one query per page. Names are
compared on columns first: a pair whose best possible score, with every other
field assumed to agree, stays under the threshold is dropped before its record
is even parsed, so a common surname costs little.

Similarity is rapidfuzz's normalised Indel similarity (the same number as
``difflib.SequenceMatcher.ratio``, about thirty times faster, which is what
makes scoring a block of common-surname customers per record affordable) on
case- and accent-folded text; dates and codes must be equal.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from rapidfuzz.distance import Indel
from sqlalchemy import Text, cast, select
from sqlmodel import Session

from hub.engine.identity import CandidateRules
from hub.model import Address
from hub.store.tables import CustomerRow, table_of

__all__ = ["Candidate", "find_candidates", "score"]

CUSTOMER = table_of(CustomerRow)
ADDRESS_FIELDS = frozenset(Address.model_fields)
EXACT_FIELDS = frozenset({"birth_date", "gender", "language", "country", "kind"})
NAME_COLUMNS = ("first_name", "last_name")
MIN_FIELDS = 2  # a last name alone agrees for every member of a block


@dataclass(frozen=True)
class Candidate:
    """A new customer that looks like another one; ``fields`` holds each similarity."""

    hub_id: str
    other: str
    score: float
    fields: dict[str, float]


def score(
    a: Mapping[str, Any], b: Mapping[str, Any], fields: Iterable[str]
) -> tuple[float, dict[str, float]]:
    """Mean similarity over the fields both records have; 0 when fewer than two."""
    per: dict[str, float] = {}
    for name in fields:
        mine, theirs = _values(a, name), _values(b, name)
        if mine and theirs:
            per[name] = max(_similarity(name, x, y) for x in mine for y in theirs)
    if len(per) < MIN_FIELDS:
        return 0.0, per
    return sum(per.values()) / len(per), per


def find_candidates(
    session: Session,
    rules: CandidateRules,
    new: Mapping[str, Mapping[str, Any]],
    known: Mapping[str, Mapping[str, Any]],
    skip: set[frozenset[str]],
    gone: Collection[str] = (),
) -> list[Candidate]:
    """Score the page's new customers against their block and each other.

    ``known`` holds the customers the page already loaded (their data is
    newer than the table's), ``skip`` the pairs that already have a review,
    ``gone`` the customers the page merged away (still in the table).
    """
    blocks: dict[str, list[str]] = {}
    for hub_id in sorted(new):
        if last := new[hub_id].get("last_name"):
            blocks.setdefault(_fold(str(last)), []).append(hub_id)
    if not blocks:
        return []
    pairs: list[tuple[str, str, Mapping[str, Any]]] = [
        (a, b, new[b])
        for members in blocks.values()
        for a, b in combinations(members, 2)
        if _may_reach(new[a], new[b], rules)
    ]
    names = {str(new[h]["last_name"]) for members in blocks.values() for h in members}
    for hub_id, first, last, text in session.execute(
        select(
            CUSTOMER.c.hub_id,
            CUSTOMER.c.first_name,
            CUSTOMER.c.last_name,
            cast(CUSTOMER.c.data, Text),
        ).where(CUSTOMER.c.last_name.in_(_spellings(names)))
    ):
        if hub_id in gone:
            continue
        columns = {"first_name": first, "last_name": last}
        for mine in blocks.get(_fold(str(last)), []):
            if _may_reach(new[mine], columns, rules):
                pairs.append((mine, hub_id, known.get(hub_id) or json.loads(text)))
    found: list[Candidate] = []
    for mine, other, data in pairs:
        if frozenset((mine, other)) in skip:
            continue
        total, per = score(new[mine], data, rules.fields)
        if total >= rules.review_above:
            found.append(Candidate(mine, other, round(total, 3), per))
    return found


def _may_reach(data: Mapping[str, Any], other: Mapping[str, Any], rules: CandidateRules) -> bool:
    """Whether the pair could score ``review_above``, judged on the names alone.

    Every other field is assumed to agree, so this never drops a pair that
    :func:`score` would file; it only spares parsing the records that cannot.
    """
    names = [f for f in rules.fields if f in NAME_COLUMNS]
    others = sum(1 for f in rules.fields if f not in NAME_COLUMNS and _values(data, f))
    known = [
        _similarity(f, str(data[f]), str(other[f])) for f in names if data.get(f) and other.get(f)
    ]
    compared = len(known) + others
    return compared >= MIN_FIELDS and (sum(known) + others) / compared >= rules.review_above


def _values(data: Mapping[str, Any], name: str) -> list[str]:
    if name in ADDRESS_FIELDS and name not in data:
        return [str(a[name]) for a in data.get("addresses") or [] if a.get(name)]
    value = data.get(name)
    if isinstance(value, list):
        return [str(v) for v in value if v]
    return [str(value)] if value not in (None, "", {}) else []


def _similarity(name: str, a: str, b: str) -> float:
    if name in EXACT_FIELDS:
        return 1.0 if a.strip().casefold() == b.strip().casefold() else 0.0
    return float(Indel.normalized_similarity(_fold(a), _fold(b)))


def _fold(text: str) -> str:
    """Case, accents, punctuation and spacing do not tell people apart."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(
        ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch)
    )
    return " ".join(kept.split())


def _spellings(names: Iterable[str]) -> set[str]:
    """The ways a last name is commonly stored, so the indexed ``IN`` finds them all."""
    return {variant for n in names for variant in (n, n.casefold(), n.title(), n.upper())}
