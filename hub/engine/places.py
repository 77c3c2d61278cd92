"""Address identity: when two addresses name one place.

Systems keep different parts of an address: a shop keeps the company, a
newsletter's postal merge field does not. Keyed on every part, the same place
given with one part missing was a second address, which the hub then sent
everywhere. Here an address is a *place*: its normalised first line, postcode
and country, plus its kind where one is given. Two addresses at one place are
one item of the customer's set, merged part by part (hub/engine/merge.py);
an address without a first line has no place to compare and is known by all
its parts, as before.

Kinds follow the earlier rule: an address given without a kind (the system
keeps none) is the hub's address at that place, whatever its kind; addresses
with a kind stay apart, so a shop's billing and shipping address at one place
are two.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["adopt_kinds", "contested", "fold", "place_key"]

_NOT_WORD = re.compile(r"[\W_]+")


def _words(value: Any) -> str:
    """Case, accents' composition, punctuation and spacing do not make another place."""
    text = unicodedata.normalize("NFKC", str(value)).casefold()
    return " ".join(_NOT_WORD.sub(" ", text).split())


def _where(address: Mapping[str, Any]) -> list[str] | None:
    """The place without its kind; None when there is no first line to compare."""
    line1 = address.get("line1")
    if not line1:
        return None
    postcode = _words(address.get("postcode") or "").replace(" ", "")
    return [_words(line1), postcode, str(address.get("country") or "").upper()]


def place_key(item: Any) -> str:
    """The identity of an address in the customer's set (any other item: its JSON)."""
    where = _where(item) if isinstance(item, dict) else None
    if where is None:
        return item if isinstance(item, str) else json.dumps(item, sort_keys=True, default=str)
    return json.dumps([item.get("kind") or "", *where])


def fold(items: Iterable[Any]) -> dict[str, Any]:
    """Addresses by place; two at one place become one, the first's parts first.

    Records stored before places were compared may hold the same place twice
    (one copy lacking a part); they fold into one item that keeps every part.
    """
    out: dict[str, Any] = {}
    for item in items:
        key = place_key(item)
        held = out.get(key)
        if held is None:
            out[key] = item
        elif isinstance(held, dict) and isinstance(item, dict):
            out[key] = {**{k: v for k, v in item.items() if v is not None}, **held}
    return out


def adopt_kinds(addresses: list[Any], current: list[Any]) -> list[Any]:
    """Addresses given without a kind take the kind of the hub's address at their place.

    A system that keeps no kind (a newsletter's one postal address) gives back
    the shop's billing address as a plain one; it names the hub's address
    there, not a second address to send everywhere.
    """
    held: dict[str, Any] = {}
    for address in current:
        if isinstance(address, dict) and address.get("kind"):
            held.setdefault(_spot(address), address["kind"])
    out = []
    for address in addresses:
        kind = held.get(_spot(address)) if isinstance(address, dict) else None
        out.append({**address, "kind": kind} if kind and not address.get("kind") else address)
    return out


def _spot(address: Mapping[str, Any]) -> str:
    """Where an address is, whatever its kind: its place, else all its other parts."""
    where = _where(address)
    if where is None:
        return json.dumps({k: v for k, v in address.items() if k != "kind"}, sort_keys=True)
    return json.dumps(where)


def contested(
    current: Mapping[str, Any], base: Mapping[str, Any], incoming: Mapping[str, Any]
) -> bool:
    """Whether ``incoming`` changed a part of an address the hub holds otherwise.

    Only such a part is weighed against the other sources' claims, so only
    then does the engine need to read them.
    """
    given, hub = incoming.get("addresses"), current.get("addresses")
    if not given or not hub or given == base.get("addresses"):
        return False  # most records: no address, or the same as last time
    held = fold(hub)
    new = fold(adopt_kinds(given, hub))
    old = fold(adopt_kinds(base.get("addresses") or [], hub))
    for key, address in new.items():
        there = held.get(key)
        if not isinstance(there, dict) or not isinstance(address, dict):
            continue
        before = old.get(key) or {}
        for part in set(address) | set(before):
            mine, theirs = address.get(part), there.get(part)
            if mine != before.get(part) and theirs not in (None, mine, before.get(part)):
                return True
    return False
