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
different first names (a family address). Such an identifier is marked
shared and links nobody from then on. Role addresses (``info@``...) and the
patterns in ``identity.never_link`` never link anyone.

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
class IdentityRules:
    limits: Mapping[str, int] = field(default_factory=lambda: {"email": 3, "phone": 3})
    never_link: tuple[str, ...] = ()
    max_cluster: int = 10

    def links(self, key: Key) -> bool:
        """Whether this identifier may ever join two records into one person."""
        kind, value = key
        if kind == "email" and value.partition("@")[0] in ROLE_LOCAL_PARTS:
            return False
        return not any(fnmatchcase(value, pattern) for pattern in self.never_link)


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


@dataclass
class PageIndex:
    """The identifiers relevant to one page, kept current while the page is resolved."""

    owners: dict[Key, str] = field(default_factory=dict)
    shared: set[Key] = field(default_factory=set)
    held: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    first_names: dict[str, str | None] = field(default_factory=dict)
    cluster_sizes: dict[str, int] = field(default_factory=dict)

    def claim(self, hub_id: str, keys: Iterable[Key]) -> list[Key]:
        """Record ``hub_id`` as owner of the keys nobody else owns; return those."""
        claimed = []
        for key in keys:
            if key in self.shared or self.owners.get(key, hub_id) != hub_id:
                continue
            self.owners[key] = hub_id
            self.held.setdefault(hub_id, {}).setdefault(key[0], set()).add(key[1])
            claimed.append(key)
        return claimed

    def absorb(self, keep: str, gone: str) -> None:
        for key, owner in list(self.owners.items()):
            if owner == gone:
                self.owners[key] = keep
        for kind, values in self.held.pop(gone, {}).items():
            self.held.setdefault(keep, {}).setdefault(kind, set()).update(values)
        self.cluster_sizes[keep] = self.cluster_sizes.get(keep, 0) + self.cluster_sizes.pop(gone, 0)


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


def resolve(customer: Mapping[str, Any], index: PageIndex, rules: IdentityRules) -> Resolution:
    """Decide which existing customer, if any, an unlinked record belongs to."""
    keys = identifier_keys(customer, rules)
    matches: dict[str, list[Key]] = {}
    for key in keys:
        owner = None if key in index.shared else index.owners.get(key)
        if owner is not None:
            matches.setdefault(owner, []).append(key)
    resolution = Resolution(hub_id=None)
    accepted: list[str] = []
    for hub_id, matched in matches.items():
        review = _refusal(customer, hub_id, matched, index, rules)
        if review is None:
            accepted.append(hub_id)
            continue
        resolution.reviews.append(review)
        if review.reason.startswith("shares"):
            resolution.newly_shared.update(k for k in matched if k[0] in ("email", "phone"))
    if not accepted:
        return resolution
    accepted.sort(key=lambda h: (-len(matches[h]), h))
    resolution.hub_id = accepted[0]
    for other in accepted[1:]:
        review = _cluster_refusal(accepted[0], other, index, rules)
        if review is None:
            resolution.absorb.append(other)
        else:
            resolution.reviews.append(review)
    return resolution


def _refusal(
    customer: Mapping[str, Any],
    hub_id: str,
    matched: list[Key],
    index: PageIndex,
    rules: IdentityRules,
) -> Review | None:
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
    keep: str, other: str, index: PageIndex, rules: IdentityRules
) -> Review | None:
    a, b = index.held.get(keep, {}), index.held.get(other, {})
    for kind, limit in sorted(rules.limits.items()):
        values = a.get(kind, set()) | b.get(kind, set())
        if len(values) > limit:
            return Review(f"merging would give {len(values)} values of {kind}", other)
    size = index.cluster_sizes.get(keep, 1) + index.cluster_sizes.get(other, 1)
    if size > rules.max_cluster:
        return Review(f"merging would join {size} records (max_cluster {rules.max_cluster})", other)
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
