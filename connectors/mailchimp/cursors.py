"""Where a Mailchimp stream resumes: saved with each page, so a crash skips and repeats nothing.

Members are read oldest change first with ``since_last_changed``, which
Mailchimp keeps to the second; many members share a second, so the cursor
holds the newest ``last_changed`` read (the mark) and the ids read at exactly
that second. The next walk asks from the mark and drops those ids. Inside a
walk the offset moves on; a walk interrupted by a crash continues at its
offset with the same filter.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

__all__ = ["ActivityCursor", "MemberCursor", "later"]


def later(a: str | None, b: str | None) -> str | None:
    """The later of two Mailchimp times (either may be missing)."""
    if not a or not b:
        return a or b
    return a if datetime.fromisoformat(a) >= datetime.fromisoformat(b) else b


@dataclass(frozen=True, slots=True)
class MemberCursor:
    since: str | None = None
    """The filter of the walk in progress (the mark when it started)."""
    skip: tuple[str, ...] = ()
    """Ids read at exactly ``since`` before this walk: already in the hub."""
    offset: int = 0
    mark: str | None = None
    seen: tuple[str, ...] = ()

    @classmethod
    def load(cls, text: str | None) -> MemberCursor:
        if not text:
            return cls()
        saved = json.loads(text)
        return cls(
            saved["since"],
            tuple(saved["skip"]),
            saved["offset"],
            saved["mark"],
            tuple(saved["seen"]),
        )

    def dump(self) -> str:
        return json.dumps(asdict(self))

    def already_read(self, member: dict[str, Any]) -> bool:
        return member.get("last_changed") == self.since and member.get("id") in self.skip

    def after(self, members: list[dict[str, Any]], next_offset: int | None) -> MemberCursor:
        mark, seen = self.mark, list(self.seen)
        for member in members:
            changed = member.get("last_changed") or None
            if not changed:
                continue  # unreadable: it goes to dead letters and moves nothing
            if changed == mark:
                seen.append(str(member.get("id")))
            elif later(mark, changed) == changed:
                mark, seen = changed, [str(member.get("id"))]
        if next_offset is None:  # the walk is over: the next one starts at the mark
            return MemberCursor(mark, tuple(seen), 0, mark, tuple(seen))
        return replace(self, offset=next_offset, mark=mark, seen=tuple(seen))


@dataclass(frozen=True, slots=True)
class ActivityCursor:
    """E-mail activity after ``since`` in every campaign; ``done`` lists campaigns walked."""

    since: str | None = None
    mark: str | None = None
    done: tuple[str, ...] = ()
    campaign: str | None = None
    offset: int = 0

    @classmethod
    def load(cls, text: str | None) -> ActivityCursor:
        if not text:
            return cls()
        saved = json.loads(text)
        return cls(
            saved["since"], saved["mark"], tuple(saved["done"]), saved["campaign"], saved["offset"]
        )

    def dump(self) -> str:
        return json.dumps(asdict(self))
