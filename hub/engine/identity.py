"""Who is who: deciding which hub customer a source record belongs to.

Tiers, strongest first:

1. the link table: this source's id for the record was seen before;
2. deterministic identifiers: normalised e-mail, E.164 phone, and the
   identifier types declared in config (customer number, tax id ...);
3. scored candidates on name, birth date and postcode, which only ever file a
   review item (see :mod:`hub.engine.candidates`).

A deterministic match is still refused, and filed for review, when linking
would be wrong more often than right: the two hold different values of a
limit-1 identifier (two tax ids), or they share an e-mail or phone but carry
different first names (a family address). The identifiers they share are then
marked shared and link nobody from then on: two people were seen holding them.
Role addresses (``info@``...), placeholder phones (``+34600000000``) and the
patterns in ``identity.never_link`` never link anyone. A link or merge that
would gather more than ``max_cluster`` source records under one customer goes
to review instead, so one bad identifier cannot chain strangers together.

This module is pure: the engine loads a :class:`PageIndex` with one query per
page and applies the :class:`Resolution` it returns.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

__all__ = [
    "ROLE_LOCAL_PARTS",
    "CandidateRules",
    "IdentityRules",
    "Key",
    "PageIndex",
    "Resolution",
    "Review",
    "identifier_keys",
    "resolve",
]

Key = tuple[str, str]

ROLE_LOCAL_PARTS = frozenset(
    {
        "info",
        "sales",
        "noreply",
        "no-reply",
        "donotreply",
        "admin",
        "contact",
        "support",
        "hello",
        "office",
        "team",
        "billing",
        "orders",
        "webmaster",
        "postmaster",
        "marketing",
        "enquiries",
        "service",
        "mail",
        "hr",
        "jobs",
        "accounts",
        "help",
    }
)


@dataclass(frozen=True)
class CandidateRules:
    """Tier 3: the fields scored between look-alikes, and the score that files a review."""

    fields: tuple[str, ...] = ("last_name", "first_name", "birth_date", "postcode")
    review_above: float = 0.8


@dataclass(frozen=True)
class IdentityRules:
    limits: Mapping[str, int] = field(default_factory=lambda: {"email": 3, "phone": 3})
    never_link: tuple[str, ...] = ()
    max_cluster: int = 10
    candidates: CandidateRules | None = None

    def links(self, key: Key) -> bool:
        """Whether this identifier may ever join two records into one person."""
        kind, value = key
        if kind == "email" and value.partition("@")[0] in ROLE_LOCAL_PARTS:
            return False
        if kind == "phone" and _placeholder_phone(value):
            return False
        return not any(fnmatchcase(value, pattern) for pattern in self.never_link)


def _placeholder_phone(value: str) -> bool:
    """Seven equal trailing digits, or a run like 1234567: typed to pass a required field.

    Real subscriber numbers almost never look like this, and the cost of a
    false positive is only that the number does not link (e-mail still does).
    """
    tail = value[-7:]
    return len(set(tail)) == 1 or tail in "0123456789" or tail in "9876543210"


@dataclass(frozen=True)
class Review:
    """An identity decision left to a person."""

    reason: str
    other_hub_id: str
    keys: tuple[Key, ...] = ()


@dataclass
class Resolution:
    """Where a record goes: an existing customer, or a new one (``hub_id`` None).

    ``absorb`` lists other existing customers the record proves to be the same
    person; the engine merges them into ``hub_id`` (audited, reversible).
    """

    hub_id: str | None
    absorb: list[str] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    newly_shared: set[Key] = field(default_factory=set)
    linked: bool = False


@dataclass
class PageIndex:
    """The identifiers relevant to one page, kept current while the page is resolved.

    Records placed earlier in the page are visible to the later ones, so the
    result does not depend on where the page boundaries fall.
    """

    owners: dict[Key, str] = field(default_factory=dict)
    shared: set[Key] = field(default_factory=set)
    held: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    first_names: dict[str, str | None] = field(default_factory=dict)
    cluster_sizes: dict[str, int] = field(default_factory=dict)

    def assign(self, hub_id: str, wanted: Iterable[Key]) -> None:
        """Make ``hub_id`` own the wanted keys nobody else owns, and release the rest."""
        wanted = [key for key in wanted if key not in self.shared]
        keep = set(wanted)
        for kind, values in self.held.get(hub_id, {}).items():
            for value in [v for v in values if (kind, v) not in keep]:
                values.discard(value)
                self.owners.pop((kind, value), None)
        for key in wanted:
            if self.owners.setdefault(key, hub_id) == hub_id:
                self.held.setdefault(hub_id, {}).setdefault(key[0], set()).add(key[1])

    def share(self, key: Key) -> str | None:
        """Mark ``key`` as held by several people; return its owner until now."""
        self.shared.add(key)
        owner = self.owners.pop(key, None)
        if owner is not None:
            self.held.get(owner, {}).get(key[0], set()).discard(key[1])
        return owner

    def owned(self, hub_id: str) -> set[Key]:
        return {(kind, v) for kind, values in self.held.get(hub_id, {}).items() for v in values}

    def absorb(self, keep: str, gone: str) -> None:
        for kind, values in self.held.pop(gone, {}).items():
            for value in values:
                self.owners[(kind, value)] = keep
            self.held.setdefault(keep, {}).setdefault(kind, set()).update(values)
        self.cluster_sizes[keep] = self.cluster_sizes.get(keep, 1) + self.cluster_sizes.pop(gone, 1)
        self.first_names.pop(gone, None)


def identifier_keys(customer: Mapping[str, Any], rules: IdentityRules) -> list[Key]:
    """The identifiers of a canonical customer dict that are allowed to link."""
    keys: list[Key] = [("email", e) for e in customer.get("emails") or []]
    keys += [("phone", p) for p in customer.get("phones") or []]
    keys += [
        (kind, value)
        for kind, value in sorted((customer.get("identifiers") or {}).items())
        if kind in rules.limits
    ]
    return [key for key in keys if rules.links(key)]


def resolve(
    customer: Mapping[str, Any],
    index: PageIndex,
    rules: IdentityRules,
    *,
    linked: str | None = None,
    keys: Iterable[Key] | None = None,
) -> Resolution:
    """Decide which existing customer, if any, a record belongs to.

    For a record already ``linked`` to a customer, that customer stays its
    home; the other customers it proves to be the same person are absorbed
    into it, under the same protections as for a new record. Otherwise
    whether records are merged would depend on which of them changed last.
    ``keys`` are the record's :func:`identifier_keys`, when the caller has them.
    """
    matches: dict[str, list[Key]] = {}
    for key in identifier_keys(customer, rules) if keys is None else keys:
        owner = None if key in index.shared else index.owners.get(key)
        if owner is not None and owner != linked:
            matches.setdefault(owner, []).append(key)
    resolution = Resolution(hub_id=linked, linked=linked is not None)
    accepted: list[str] = []
    for hub_id, matched in sorted(matches.items()):
        review = _refusal(customer, hub_id, matched, index, rules)
        if review is None:
            accepted.append(hub_id)
        else:
            resolution.reviews.append(review)
            resolution.newly_shared.update(matched)
    accepted.sort(key=lambda h: (-len(matches[h]), h))
    for hub_id in accepted:
        review = _cluster_refusal(resolution, hub_id, index, rules)
        if review is not None:
            resolution.reviews.append(review)
        elif resolution.hub_id is None:
            resolution.hub_id = hub_id
        else:
            resolution.absorb.append(hub_id)
    return resolution


def _refusal(
    customer: Mapping[str, Any],
    hub_id: str,
    matched: list[Key],
    index: PageIndex,
    rules: IdentityRules,
) -> Review | None:
    """A reason to believe the record and ``hub_id`` are two people despite ``matched``."""
    held = index.held.get(hub_id, {})
    for kind, value in sorted((customer.get("identifiers") or {}).items()):
        if rules.limits.get(kind) == 1 and held.get(kind) and value not in held[kind]:
            return Review(f"different {kind}", hub_id, tuple(matched))
    strong = any(kind not in ("email", "phone") for kind, _ in matched)
    theirs, mine = index.first_names.get(hub_id), customer.get("first_name")
    if not strong and theirs and mine and not _same_first_name(theirs, mine):
        shared = ", ".join(value for _, value in matched)
        return Review(f"shares {shared} with a different first name", hub_id, tuple(matched))
    return None


def _cluster_refusal(
    resolution: Resolution, other: str, index: PageIndex, rules: IdentityRules
) -> Review | None:
    """Joining ``other`` to what the record already joined would break a limit."""
    joined = [h for h in (resolution.hub_id, *resolution.absorb) if h is not None]
    own = 0 if resolution.linked else 1  # a linked record is already counted in its customer
    size = own + sum(index.cluster_sizes.get(h, 1) for h in (*joined, other))
    if size > rules.max_cluster:
        return Review(f"merging would join {size} records (max_cluster {rules.max_cluster})", other)
    for kind, limit in sorted(rules.limits.items()):
        values = set().union(*(index.held.get(h, {}).get(kind, set()) for h in (*joined, other)))
        if len(values) > limit:
            return Review(f"merging would give {len(values)} values of {kind}", other)
    return None


def _fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def _same_first_name(a: str, b: str) -> bool:
    """Equal after folding case and accents, or one is the other's initial."""
    x, y = _fold(a), _fold(b)
    if not x or not y:
        return True
    return x == y or (min(len(x), len(y)) == 1 and x[0] == y[0])
