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
  the source added and removing what it removed relative to its base;
- consent, per channel: an opt-out dominates any opt-in that is not clearly
  later; concurrent opt-in and opt-out resolve to opted-out plus a review item;
- ``acquisition`` and ``created_at`` keep the first (earliest) value.

Every decision is symmetric in the two sides, so the result does not depend on
the order in which sources sync. The functions are pure: the engine feeds them
rows and writes back what they return.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

__all__ = [
    "FieldConflict",
    "MergeOutcome",
    "MergeRules",
    "Provenance",
    "combine_customers",
    "merge_customer",
]

SET_FIELDS = frozenset({"emails", "phones", "tags", "addresses"})
KEYED_FIELDS = frozenset({"identifiers", "attributes"})
FIRST_FIELDS = frozenset({"acquisition"})
IGNORED_FIELDS = frozenset({"hub_id"})
OPT_OUT = "unsubscribed"
OPT_IN = "subscribed"


@dataclass(frozen=True)
class Provenance:
    """Who set a field's current value, and as of when."""

    source: str
    observed_at: datetime


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
) -> MergeOutcome:
    """Merge ``incoming`` from ``source`` into ``current`` given this source's ``base``."""
    merger = _Merger(dict(current), provenance, rules, Provenance(source, observed_at))
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
        elif name in SET_FIELDS or rules.policies.get(name) == "set":
            merger.set_field(name, new or [], old or [])
        elif name == "created_at":
            merger.earliest(name, new)
        elif name == "updated_at":
            merger.latest(name, new)
        elif name in FIRST_FIELDS:
            merger.first(name, new)
        else:
            merger.scalar(name, new, old)
    return merger.outcome


def combine_customers(keep: Mapping[str, Any], gone: Mapping[str, Any]) -> dict[str, Any]:
    """Join two records proven to be one person; nothing either of them knew is lost.

    ``keep``'s descriptive values stand; lists and keyed maps are united;
    consent follows the same opt-out-dominates rule as a merge.
    """
    out = dict(keep)
    for name, value in gone.items():
        mine = out.get(name)
        if mine is None:
            out[name] = value
        elif name in SET_FIELDS:
            united = list(mine) + [item for item in value if not _contains(mine, item)]
            out[name] = sorted(united) if name == "tags" else united
        elif name in KEYED_FIELDS:
            out[name] = {**value, **mine}
        elif name == "consents":
            out[name] = {
                channel: mine[channel]
                if channel in mine and channel not in value
                else value[channel]
                if channel not in mine
                else _consent_winner(mine[channel], value[channel], timedelta(0))[0]
                for channel in sorted(set(mine) | set(value))
            }
        elif name == "created_at":
            out[name] = min(str(mine), str(value))
        elif name == "updated_at":
            out[name] = max(str(mine), str(value))
    return out


def _same(a: Any, b: Any) -> bool:
    return _key(a) == _key(b)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class _Merger:
    """Applies one source's changes field by field, recording what it decided."""

    def __init__(
        self,
        data: dict[str, Any],
        provenance: Mapping[str, Provenance],
        rules: MergeRules,
        incoming: Provenance,
    ) -> None:
        self.outcome = MergeOutcome(data=data)
        self.provenance = provenance
        self.rules = rules
        self.incoming = incoming

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

    # --- policies ---------------------------------------------------------------------------
    def scalar(self, path: str, new: Any, old: Any) -> None:
        if _same(new, old):
            return
        current = self._get(path)
        if _same(current, new):
            return
        held = self.provenance.get(path)
        policy = self.rules.policies.get(path.partition(".")[0], "priority")
        if policy == "owner":
            if self.rules.owners.get(path.partition(".")[0]) == self.incoming.source:
                self._set(path, new)
            return
        unchallenged = held is None or held.source == self.incoming.source
        if current is None or _same(current, old) or unchallenged:
            self._set(path, new)
            return
        assert held is not None
        if policy == "priority":
            mine, theirs = self.rules.rank(self.incoming.source), self.rules.rank(held.source)
            if mine != theirs:
                if mine < theirs:
                    self._set(path, new)
                return
        if self._later(path, held, new, current):
            self._set(path, new)

    def _later(self, path: str, theirs: Provenance, new: Any, current: Any) -> bool:
        """Last writer wins outside the skew window; inside it, a filed conflict.

        The tie inside the window still needs a winner that does not depend on
        sync order: the later observation, then the greater value.
        """
        mine = self.incoming
        gap = mine.observed_at - theirs.observed_at
        if abs(gap) > self.rules.skew:
            return gap > timedelta(0)
        wins = (mine.observed_at, _key(new)) > (theirs.observed_at, _key(current))
        kept, kept_source = (new, mine.source) if wins else (current, theirs.source)
        other, other_source = (current, theirs.source) if wins else (new, mine.source)
        self.outcome.conflicts.append(FieldConflict(path, kept, kept_source, other, other_source))
        return wins

    def set_field(self, name: str, new: list[Any], old: list[Any]) -> None:
        added = [item for item in new if not _contains(old, item)]
        removed = [item for item in old if not _contains(new, item)]
        current = list(self.outcome.data.get(name) or [])
        merged = [item for item in current if not _contains(removed, item)]
        merged += [item for item in added if not _contains(merged, item)]
        if name == "tags":
            merged = sorted(merged)
        if not _same(merged, current):
            self._set(name, merged)

    def consent(self, channel: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> None:
        if new is None or _same(new, old):
            return
        path = f"consents.{channel}"
        current = self._get(path)
        if current is None or _same(current, old):
            self._set(path, new)
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

    def first(self, name: str, new: Any) -> None:
        if new is not None and self.outcome.data.get(name) is None:
            self._set(name, new)

    def earliest(self, name: str, new: Any) -> None:
        current = self.outcome.data.get(name)
        if new is not None and (current is None or str(new) < str(current)):
            self._set(name, new)

    def latest(self, name: str, new: Any) -> None:
        current = self.outcome.data.get(name)
        if new is not None and (current is None or str(new) > str(current)):
            self._set(name, new)


def _contains(items: list[Any], item: Any) -> bool:
    key = _key(item)
    return any(_key(existing) == key for existing in items)


def _source(consent: Mapping[str, Any]) -> str:
    return str(consent.get("source") or "unknown")


def _recorded(consent: Mapping[str, Any]) -> datetime | None:
    value = consent.get("recorded_at")
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _consent_winner(
    current: dict[str, Any], new: dict[str, Any], skew: timedelta
) -> tuple[dict[str, Any], bool]:
    """(winner, concurrent): opt-out dominates anything not clearly later than it."""
    a, b = _recorded(current), _recorded(new)
    statuses = {current["status"], new["status"]}
    if OPT_OUT in statuses and statuses & {OPT_IN, "pending"}:
        out, other = (current, new) if current["status"] == OPT_OUT else (new, current)
        out_at, other_at = _recorded(out), _recorded(other)
        if out_at is not None and other_at is not None and other_at - out_at > skew:
            return other, False  # a genuine re-subscribe after the opt-out
        concurrent = out_at is not None and other_at is not None and abs(other_at - out_at) <= skew
        return out, concurrent
    if "not_subscribed" in statuses and len(statuses) == 2:
        return (current if new["status"] == "not_subscribed" else new), False
    if a is None or (b is not None and (b, _key(new)) > (a, _key(current))):
        return new, False
    return current, False
