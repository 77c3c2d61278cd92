"""Where a stream's walk stands, saved with each page as the engine's cursor.

The cursor holds the walk's position (see :mod:`connectors.orocrm.client`)
while a walk is under way, and the newest ``updatedAt`` read with the ids read
at that very second. Oro keeps seconds, so the next sync asks from that
second, inclusive, and drops those ids: a record saved in the same second as
the last one read is not missed, and nothing is read twice. The same shape
serves every walked kind (contacts, accounts, opportunities, Magento
customers); for the accounts stream it follows the accounts, not the
contacts they bring.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from connectors.orocrm.client import Position
from connectors.orocrm.mapping import Resource

__all__ = ["Cursor"]


@dataclass(frozen=True, slots=True)
class Cursor:
    mark: str | None = None
    seen: tuple[int, ...] = ()
    at: Position | None = None

    @classmethod
    def load(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        saved = json.loads(text)
        at = Position(*saved["at"]) if saved.get("at") else None
        return cls(saved["mark"], tuple(saved["seen"]), at)

    def dump(self) -> str:
        at = [self.at.updated_at, self.at.record_id, self.at.page] if self.at else None
        return json.dumps({"mark": self.mark, "seen": list(self.seen), "at": at})

    def start(self) -> Position | None:
        if self.at is not None:
            return self.at
        return Position(self.mark, 0) if self.mark else None

    def already_read(self, resource: Resource) -> bool:
        updated = (resource.get("attributes") or {}).get("updatedAt")
        return updated == self.mark and int(resource.get("id") or 0) in self.seen

    def after(self, resources: list[Resource], at: Position | None) -> Cursor:
        mark, seen = self.mark, list(self.seen)
        for resource in resources:
            updated = (resource.get("attributes") or {}).get("updatedAt")
            if not isinstance(updated, str):
                continue
            if mark is None or updated > mark:
                mark, seen = updated, [int(resource["id"])]
            elif updated == mark:
                seen.append(int(resource["id"]))
        return Cursor(mark, tuple(seen), at)
