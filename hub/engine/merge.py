"""Three-way, per-field merge of one source's customer into the hub's record.

For every field the question is first *did this source change it?* The base
is what this source gave us last time (kept on its link); a field equal to its
base was not touched there and never overwrites a newer value from elsewhere.
Only a real change is weighed against the hub's current value, by the field's
policy:

- descriptive fields (names, birth date, language, keyed identifiers and
  attributes): source priority, then the later observation if the two are
  further apart than the clock-skew window, else a conflict that keeps a
  deterministic winner and is filed for review;
- multi-valued fields (e-mails, phones, tags, addresses): set merge, adding what
  the source added and removing what it removed relative to its base. The
  first item (the primary e-mail, phone or address) is decided like a
  descriptive field; the others follow in sorted order. Addresses are items
  by place (hub/engine/places.py): one at a place the hub holds merges part
  by part, a part the source changed weighed against the other sources that
  hold the hub's part;
- consent, per channel: an opt-out dominates any opt-in that is not clearly
  later; concurrent opt-in and opt-out resolve to opted-out plus a review item;
- ``acquisition`` keeps the earliest (by ``acquired_at``, else by when it was
  observed), ``created_at`` the earliest and ``updated_at`` the latest value.

Every decision compares the two claims symmetrically, and a source that
confirms the value the hub already holds strengthens its provenance, so the
result does not depend on the order in which sources sync. Joining two
customers (:func:`combine_customers`) applies the same comparisons. The
functions are pure: the engine feeds them rows and writes back what they
return.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.engine.places import adopt_kinds, fold, place_key
from hub.model import DERIVED_FIELDS

__all__ = [
    "FieldConflict",
    "MergeOutcome",
    "MergeRules",
    "Other",
    "Provenance",
    "combine_customers",
    "merge_customer",
]

SET_FIELDS = frozenset({"emails", "phones", "tags", "addresses"})
ORDERED_FIELDS = frozenset({"emails", "phones", "addresses"})
KEYED_FIELDS = frozenset({"identifiers", "attributes"})
_FIRST = {name: f"{name}[0]" for name in ORDERED_FIELDS}  # the path of a list's first item
IGNORED_FIELDS = frozenset({"hub_id", *DERIVED_FIELDS})  # the hub sets these, no source
TIMED_FIELDS = frozenset({"created_at", "updated_at", "acquisition"})
OPT_OUT = "unsubscribed"
OPT_IN = "subscribed"

Strength = tuple[int, datetime, str]


@dataclass(frozen=True)
class Provenance:
    """Who set a field's current value, and as of when."""

    source: str
    observed_at: datetime


Other = tuple["Provenance", Mapping[str, Any]]  # another link's claim and its last values


@dataclass(frozen=True)
class MergeRules:
    """The merge section of the config, reduced to what decisions need."""

    source_priority: tuple[str, ...] = ()
    skew: timedelta = timedelta(minutes=5)
    policies: Mapping[str, str] = field(default_factory=dict)
    owners: Mapping[str, str] = field(default_factory=dict)

    def rank(self, source: str) -> int:
        """Lower is stronger; sources not listed rank equal, after all listed."""
        try:
            return self.source_priority.index(source)
        except ValueError:
            return len(self.source_priority)

    def policy(self, path: str) -> str:
        if not self.policies:
            return "priority"
        return self.policies.get(path.partition(".")[0].partition("[")[0], "priority")

    def may_set(self, path: str, source: str) -> bool:
        """Only the owner may set a field under the owner policy; anyone may set the rest."""
        return self.policy(path) != "owner" or self.owners.get(path.partition(".")[0]) == source

    def strength(self, path: str, claim: Provenance, value: Any) -> Strength:
        """A total order on claims for one field: the greatest is the value to hold.

        Priority first (where the policy uses it, or ownership), then the later
        observation, then the greater value, so that any set of claims has one
        winner whatever order they arrive in.
        """
        policy = self.policy(path)
        if policy == "owner":
            first = 0 if self.owners.get(path.partition(".")[0]) == claim.source else 1
        elif policy == "priority":
            first = self.rank(claim.source)
        else:
            first = 0
        return (-first, claim.observed_at, _key(value))


@dataclass(frozen=True)
class FieldConflict:
    """Two values the rules could not order; ``kept`` is what the hub holds now."""

    field: str
    kept: Any
    kept_source: str
    other: Any
    other_source: str


@dataclass
class MergeOutcome:
    """The merged record; ``provenance`` holds the fields whose claim changed.

    A field can appear in ``provenance`` without being in ``changed``: the
    source confirmed the value with a stronger claim, which later decisions
    must know about.
    """

    data: dict[str, Any]
    changed: list[str] = field(default_factory=list)
    provenance: dict[str, Provenance] = field(default_factory=dict)
    conflicts: list[FieldConflict] = field(default_factory=list)


def merge_customer(
    current: Mapping[str, Any],
    base: Mapping[str, Any],
    incoming: Mapping[str, Any],
    *,
    source: str,
    observed_at: datetime,
    provenance: Mapping[str, Provenance],
    rules: MergeRules,
    others: Sequence[Other] = (),
) -> MergeOutcome:
    """Merge ``incoming`` from ``source`` into ``current`` given this source's ``base``.

    ``others`` are the other links' bases of this customer with their claims,
    needed when the source withdraws something: a set item it removed stays while another
    source still holds it (add wins), and a consent it changed is weighed
    again against the other sources' answers. Sets and consents then follow
    what the sources hold now, whatever order they synced in.
    """
    claim = Provenance(source, observed_at)
    if not current and not base and not provenance:
        return _fresh(incoming, claim, rules)
    return _general(current, base, incoming, claim, provenance, rules, others)


def _general(
    current: Mapping[str, Any],
    base: Mapping[str, Any],
    incoming: Mapping[str, Any],
    claim: Provenance,
    provenance: Mapping[str, Provenance],
    rules: MergeRules,
    others: Sequence[Other] = (),
) -> MergeOutcome:
    merger = _Merger(dict(current), provenance, rules, claim, others)
    for name in sorted((set(incoming) | set(base)) - IGNORED_FIELDS):
        new, old = incoming.get(name), base.get(name)
        if _same(new, old):
            continue
        if name in KEYED_FIELDS:
            for key in sorted(set(new or {}) | set(old or {})):
                merger.scalar(f"{name}.{key}", (new or {}).get(key), (old or {}).get(key))
        elif name == "consents":
            for channel in sorted(set(new or {}) | set(old or {})):
                merger.consent(channel, (new or {}).get(channel), (old or {}).get(channel))
        elif name in SET_FIELDS or rules.policy(name) == "set":
            merger.set_field(name, new or [], old or [])
        elif name == "created_at":
            merger.extreme(name, new, earliest=True)
        elif name == "updated_at":
            merger.extreme(name, new, earliest=False)
        elif name == "acquisition":
            merger.acquisition(new)
        else:
            merger.scalar(name, new, old)
    return merger.outcome


def _fresh(incoming: Mapping[str, Any], claim: Provenance, rules: MergeRules) -> MergeOutcome:
    """What :func:`_general` gives for an empty record without claims, at a fraction of the cost.

    Every value the source holds is taken (lists in canonical order, fields
    owned by another connection left out), all under the one claim. This is
    the merge of every record that creates a customer, so most of a first
    sync; tests/hub/engine/test_properties.py checks it equals the general path.
    """
    out = MergeOutcome(data={})
    data, prov, changed = out.data, out.provenance, out.changed
    plain = not rules.policies  # every field "priority": anyone may set it, none is a set
    for name in sorted(incoming.keys() - IGNORED_FIELDS):
        value = incoming[name]
        if value is None:
            continue
        if name in KEYED_FIELDS or name == "consents":
            kept = {
                key: value[key]
                for key in sorted(value)
                if value[key] is not None
                and (plain or name == "consents" or rules.may_set(f"{name}.{key}", claim.source))
            }
            if kept:
                data[name] = kept
            for key in kept:
                path = f"{name}.{key}"
                changed.append(path)
                prov[path] = claim
            continue
        if name in SET_FIELDS or (not plain and rules.policy(name) == "set"):
            if not value:
                continue
            if len(value) == 1:  # the usual one address: no duplicates to drop, no order to set
                data[name] = list(value)
            else:
                items = _keyed(value, name)
                data[name] = _ordered(items, next(iter(items)) if name in ORDERED_FIELDS else None)
            if name in ORDERED_FIELDS:
                prov[_FIRST[name]] = claim
        elif plain or name in TIMED_FIELDS or rules.may_set(name, claim.source):
            data[name] = value
        else:
            continue
        changed.append(name)
        prov[name] = claim
    return out


def combine_customers(
    keep: Mapping[str, Any],
    gone: Mapping[str, Any],
    *,
    provenance: tuple[Mapping[str, Provenance], Mapping[str, Provenance]] = ({}, {}),
    rules: MergeRules,
) -> tuple[dict[str, Any], dict[str, Provenance]]:
    """Join two records proven to be one person; nothing either of them knew is lost.

    Each field goes to the stronger claim, exactly as if the two records had
    been merged one after the other in either order; lists and keyed maps are
    united. Where neither side has provenance (data older than it), ``keep``
    stands. Returns the data and the provenance that goes with it.
    """
    keep_prov, gone_prov = provenance
    data: dict[str, Any] = {}
    prov: dict[str, Provenance] = {}

    def pick(path: str, mine: Any, theirs: Any) -> Any:
        """The value of the stronger claim for ``path``; its provenance goes along.

        A claim on no value (a source removed it) competes like any other.
        """
        a, b = keep_prov.get(path), gone_prov.get(path)
        if a is not None and b is not None:
            take = rules.strength(path, b, theirs) > rules.strength(path, a, mine)
        else:
            take = b is not None or (a is None and mine is None)
        if take:
            mine, a = theirs, b
        if a is not None:
            prov[path] = a
        return mine

    for name in sorted(set(keep) | set(gone)):
        mine, theirs = keep.get(name), gone.get(name)
        if name in KEYED_FIELDS:
            keys = sorted(set(mine or {}) | set(theirs or {}))
            picked = {
                k: pick(f"{name}.{k}", (mine or {}).get(k), (theirs or {}).get(k)) for k in keys
            }
            if kept := {k: v for k, v in picked.items() if v is not None}:
                data[name] = kept
        elif name in SET_FIELDS or rules.policy(name) == "set":
            sides = [mine or [], theirs or []]
            a, b = keep_prov.get(name), gone_prov.get(name)
            if (
                a is not None
                and b is not None
                and rules.strength(name, b, 0) > rules.strength(name, a, 0)
            ):
                sides.reverse()  # at one place, the stronger claim's parts come first
            items = _keyed([*sides[0], *sides[1]], name)
            first = None
            if name in ORDERED_FIELDS:
                first = pick(f"{name}[0]", (mine or [None])[0], (theirs or [None])[0])
            data[name] = _ordered(items, None if first is None else _item_key(first, name))
        elif name == "consents":
            data[name] = {
                channel: _combine_consent(
                    (mine or {}).get(channel), (theirs or {}).get(channel), rules
                )
                for channel in sorted(set(mine or {}) | set(theirs or {}))
            }
        elif name in ("created_at", "updated_at"):
            values = [str(v) for v in (mine, theirs) if v is not None]
            data[name] = min(values) if name == "created_at" else max(values)
        elif name == "acquisition":
            sides = [(keep_prov.get(name), mine), (gone_prov.get(name), theirs)]
            claim, data[name] = min(
                ((c, v) for c, v in sides if v is not None), key=lambda s: _acquired(s[1], s[0])
            )
            if claim is not None:
                prov[name] = claim
        elif (value := pick(name, mine, theirs)) is not None:
            data[name] = value
    for path in set(keep_prov) | set(gone_prov):
        if path not in prov and _value_at(data, path) is not None:
            prov[path] = keep_prov.get(path) or gone_prov[path]
    return data, prov


def _combine_consent(
    a: dict[str, Any] | None, b: dict[str, Any] | None, rules: MergeRules
) -> dict[str, Any]:
    if a is None or b is None:
        chosen = a or b
        assert chosen is not None
        return chosen
    return _consent_winner(a, b, rules.skew)[0]


def _value_at(data: Mapping[str, Any], path: str) -> Any:
    head, _, key = path.partition(".")
    if head.endswith("[0]"):
        return (data.get(head[:-3]) or [None])[0]
    value = data.get(head)
    return (value or {}).get(key) if key else value


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON: ``1`` and ``True`` are different values here, unlike in Python."""
    return a is b or (a == b and _key(a) == _key(b))


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _item_key(item: Any, name: str) -> str:
    """Identity of a set member: an address's place, the string itself, or a structure's JSON."""
    if name == "addresses":
        return place_key(item)
    return item if isinstance(item, str) else _key(item)


def _keyed(items: list[Any], name: str) -> dict[str, Any]:
    if name == "addresses":
        return fold(items)
    return {_item_key(item, name): item for item in items}


def _ordered(items: dict[str, Any], first: str | None) -> list[Any]:
    """The ``first`` key's item (the primary), then the rest in key order: one order per set."""
    rest = [items[k] for k in sorted(items) if k != first]
    return rest if first is None else [items[first], *rest]


class _Merger:
    """Applies one source's changes field by field, recording what it decided."""

    def __init__(
        self,
        data: dict[str, Any],
        provenance: Mapping[str, Provenance],
        rules: MergeRules,
        incoming: Provenance,
        others: Sequence[Other],
    ) -> None:
        self.outcome = MergeOutcome(data=data)
        self.provenance = provenance
        self.rules = rules
        self.incoming = incoming
        self.others = others

    # --- reading and writing dotted fields -------------------------------------------------
    def _get(self, path: str) -> Any:
        head, _, key = path.partition(".")
        value = self.outcome.data.get(head)
        return (value or {}).get(key) if key else value

    def _set(self, path: str, value: Any) -> None:
        head, _, key = path.partition(".")
        data = self.outcome.data
        if key:
            inner = dict(data.get(head) or {})
            if value is None:
                inner.pop(key, None)
            else:
                inner[key] = value
            if inner:
                data[head] = inner
            else:
                data.pop(head, None)
        elif value is None or value == []:
            data.pop(head, None)
        else:
            data[head] = value
        self.outcome.changed.append(path)
        self.outcome.provenance[path] = self.incoming

    def _held(self, path: str) -> Provenance | None:
        return self.outcome.provenance.get(path) or self.provenance.get(path)

    # --- policies ---------------------------------------------------------------------------
    def scalar(self, path: str, new: Any, old: Any) -> None:
        """A changed descriptive value against the claim that set the hub's value.

        Taken without a contest only where nobody holds a claim, or where the
        hub's value is this source's own last value and no newer claim of the
        same source (another of its records) holds it: its update supersedes it.
        Even an empty hub value may carry a claim: a stronger source removed it.
        """
        if _same(new, old):
            return
        if not self.rules.may_set(path, self.incoming.source):
            return
        current, held = self._get(path), self._held(path)
        if _same(current, new):
            self._confirm(path, held, new)
        elif (
            held is None
            or (
                held.source == self.incoming.source
                and held.observed_at <= self.incoming.observed_at
                and _same(current, old)
            )
            or self._beats(path, held, new, current)
        ):
            self._set(path, new)

    def _confirm(self, path: str, held: Provenance | None, value: Any) -> None:
        """The source holds the hub's value: keep the stronger of the two claims for it."""
        if held is not None and self.rules.strength(
            path, self.incoming, value
        ) > self.rules.strength(path, held, value):
            self.outcome.provenance[path] = self.incoming

    def _beats(self, path: str, held: Provenance, new: Any, current: Any) -> bool:
        """Whether the incoming claim outranks the held one; a near tie files a conflict.

        Priority (or ownership) decides first. Between equal ranks the later
        observation wins; when the two are within the skew window the clocks
        cannot be trusted to order them, so the (still deterministic) winner
        is filed for review.
        """
        mine = self.rules.strength(path, self.incoming, new)
        theirs = self.rules.strength(path, held, current)
        wins = mine > theirs
        if mine[0] == theirs[0] and abs(self.incoming.observed_at - held.observed_at) <= (
            self.rules.skew
        ):
            kept, other = (new, current) if wins else (current, new)
            sources = (self.incoming.source, held.source)
            self.outcome.conflicts.append(
                FieldConflict(path, kept, sources[not wins], other, sources[wins])
            )
        return wins

    def set_field(self, name: str, new: list[Any], old: list[Any]) -> None:
        """Current items, minus what the source removed since its base, plus what it added."""
        current = list(self.outcome.data.get(name) or [])
        mine, base = self._items(name, new, current), self._items(name, old, current)
        if not base and not current:
            items = mine
        else:
            removed = base.keys() - mine.keys()
            for _, other in self.others if removed else ():
                removed -= self._items(name, other.get(name) or [], current).keys()
            items = {k: v for k, v in _keyed(current, name).items() if k not in removed}
            for k, v in mine.items():
                if k in items and name == "addresses":
                    items[k] = self._parts(k, items[k], base.get(k) or {}, v, current)
                elif k not in base:
                    items.setdefault(k, v)
        first = None
        if name in ORDERED_FIELDS and items:
            first = self._primary(name, mine, base, current, items)
        merged = _ordered(items, first)
        if not _same(merged, current):
            self._set(name, merged)

    @staticmethod
    def _items(name: str, values: list[Any], current: list[Any]) -> dict[str, Any]:
        """A source's set by item identity; its addresses without a kind named as the hub's."""
        return _keyed(adopt_kinds(values, current) if name == "addresses" else values, name)

    def _parts(
        self,
        key: str,
        held: dict[str, Any],
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        current: list[Any],
    ) -> dict[str, Any]:
        """The hub's address at a place, with the parts this source changed since its base.

        A part the source does not carry (None then and now) leaves the hub's
        part alone. A changed part is taken where the hub holds none or holds
        this source's last one; otherwise it must outrank the strongest other
        source that holds the hub's part, so the outcome is the strongest claim
        whatever order the sources sync in.
        """
        out = dict(held)
        for part in sorted((set(new) | set(old)) - {"kind"}):
            value, before, mine = new.get(part), old.get(part), out.get(part)
            if _same(value, before) or _same(value, mine):
                continue
            if (
                mine is None
                or _same(mine, before)
                or self._outranks(key, part, value, mine, current)
            ):
                if value is None:
                    out.pop(part, None)
                else:
                    out[part] = value
        return out

    def _outranks(self, key: str, part: str, value: Any, held: Any, current: list[Any]) -> bool:
        """Whether this source's part beats the strongest other source holding the hub's."""
        path = f"addresses.{part}"
        claims = [
            claim
            for claim, data in self.others
            if isinstance(
                at := self._items("addresses", data.get("addresses") or [], current).get(key), dict
            )
            and _same(at.get(part), held)
        ]
        if not claims:
            return True  # no source stands behind the hub's part any more
        strongest = max(claims, key=lambda c: self.rules.strength(path, c, held))
        return self.rules.strength(path, self.incoming, value) > self.rules.strength(
            path, strongest, held
        )

    def _primary(
        self,
        name: str,
        mine: dict[str, Any],
        base: dict[str, Any],
        current: list[Any],
        items: dict[str, Any],
    ) -> str | None:
        """The key of the first item: the strongest claim on a first item wins.

        Normally that is the hub's, or this source's new first item if its
        claim is the stronger. When the hub's first item is gone, or the
        source whose claim put it there names another one, every source's
        first item competes again (``others``), as if they synced anew.
        """
        path = f"{name}[0]"
        new = next(iter(mine), None)
        new = new if new in items else None
        held = _item_key(current[0], name) if current else None
        held = held if held in items else None
        claim = self._held(path)
        withdrawn = claim is not None and claim.source == self.incoming.source
        if held is None or (withdrawn and base and new != next(iter(base), None)):
            return self._elect(path, name, new, items, held, claim, current)
        if new is None or (base and new == next(iter(base))):
            return held
        if claim is not None and held == new:
            self._confirm(path, claim, items[new])
        elif claim is None or self.rules.strength(
            path, self.incoming, items[new]
        ) > self.rules.strength(path, claim, items[held]):
            self.outcome.provenance[path] = self.incoming
        else:
            return held
        return new

    def _elect(
        self,
        path: str,
        name: str,
        new: str | None,
        items: dict[str, Any],
        held: str | None,
        claim: Provenance | None,
        current: list[Any],
    ) -> str | None:
        """The first item among the sources' current first items; None: sorted order.

        Another source's claim is its record's time, which says when it last
        stored anything, not when it chose its first item. On the hub's own
        first item (``held``) it is never more than the hub's ``claim``: a
        source that gave that item as a change confirmed it then (the claim
        is the strongest such), and one that holds it because the hub wrote
        it there, or did not touch it since, claims nothing newer. So the
        hub's own write read back from a system does not outrank an edit
        made before that write was stored there, and it makes no difference
        whether the echo was read back before the edit or after it.
        """
        claims = [(self.incoming, new)] if new is not None else []
        for source, data in self.others:
            first = next(iter(self._items(name, data.get(name) or [], current)), None)
            if first is not None and first in items:
                if first == held and claim is not None:
                    value = items[first]
                    source = min(source, claim, key=lambda c: self.rules.strength(path, c, value))
                claims.append((source, first))
        if not claims:
            self.outcome.provenance.pop(path, None)
            return None
        claim, key = max(claims, key=lambda c: self.rules.strength(path, c[0], items[c[1]]))
        self.outcome.provenance[path] = claim
        return key

    def consent(self, channel: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> None:
        if new is None or _same(new, old):
            return
        path = f"consents.{channel}"
        current = self._get(path)
        if current is None or _same(current, old):
            # The hub holds this source's last word: the new one replaces it, unless
            # another source's answer (which lost to that last word) now ranks higher.
            held = [(o.get("consents") or {}).get(channel) for _, o in self.others]
            winner = max([new, *(c for c in held if c)], key=self._rank)
            if not _same(winner, current):
                self._set(path, winner)
            return
        if _same(current, new):
            return
        winner, concurrent = _consent_winner(current, new, self.rules.skew)
        if concurrent:
            loser = new if winner is current else current
            self.outcome.conflicts.append(
                FieldConflict(path, winner, _source(winner), loser, _source(loser))
            )
        if winner is new:
            self._set(path, new)

    def _rank(self, consent: dict[str, Any]) -> tuple[int, datetime, int, str]:
        return _consent_rank(consent, self.rules.skew)

    def acquisition(self, new: dict[str, Any] | None) -> None:
        """The earliest acquisition wins: where a customer *first* came from."""
        if new is None:
            return
        current = self.outcome.data.get("acquisition")
        held = self._held("acquisition")
        if current is None:
            self._set("acquisition", new)
        elif held is not None and _acquired(new, self.incoming) < _acquired(current, held):
            if _same(new, current):
                self.outcome.provenance["acquisition"] = self.incoming
            else:
                self._set("acquisition", new)

    def extreme(self, name: str, new: Any, *, earliest: bool) -> None:
        current = self.outcome.data.get(name)
        if new is None or (current is not None and (str(new) < str(current)) != earliest):
            return
        if not _same(new, current):
            self._set(name, new)


def _acquired(value: Mapping[str, Any], claim: Provenance | None) -> tuple[str, str]:
    """Sort key for acquisitions: the stated time, else when it was seen, then the value.

    Without either (data older than provenance) it sorts last: no evidence
    that it came first.
    """
    stated = value.get("acquired_at")
    when = str(stated) if stated else (claim.observed_at.isoformat() if claim else "~")
    return (when, _key(value))


def _source(consent: Mapping[str, Any]) -> str:
    return str(consent.get("source") or "unknown")


def _recorded(consent: Mapping[str, Any]) -> datetime | None:
    value = consent.get("recorded_at")
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _consent_winner(
    current: dict[str, Any], new: dict[str, Any], skew: timedelta
) -> tuple[dict[str, Any], bool]:
    """(winner, concurrent) by :func:`_consent_rank`; concurrent: an opt-in and an
    opt-out recorded within ``skew`` of each other, which a person should see."""
    winner = max(current, new, key=lambda c: _consent_rank(c, skew))
    statuses = {current["status"], new["status"]}
    a, b = _recorded(current), _recorded(new)
    concurrent = (
        OPT_OUT in statuses
        and bool(statuses & {OPT_IN, "pending"})
        and a is not None
        and b is not None
        and abs(a - b) <= skew
    )
    return winner, concurrent


def _consent_rank(consent: dict[str, Any], skew: timedelta) -> tuple[int, datetime, int, str]:
    """A total order on consents, so that any set of them has one winner in any order.

    ``not_subscribed`` (never asked) loses to any answer. An opt-out counts as
    ``skew`` later than it was recorded, so only an opt-in (or pending) clearly
    after it wins: a genuine re-subscribe. An undated opt-out is never beaten
    and an undated opt-in never beats anything: without a date, the safe
    reading is the one that does not mail the person.
    """
    recorded, out = _recorded(consent), consent["status"] == OPT_OUT
    if recorded is None:
        when = datetime.max.replace(tzinfo=UTC) if out else datetime.min.replace(tzinfo=UTC)
    else:
        when = recorded + skew if out else recorded
    return (consent["status"] != "not_subscribed", when, out, _key(consent))
