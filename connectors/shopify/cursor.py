"""A stream's read position: the high-water mark, what was read near it, and paging state.

Shopify's search index can show a change a little after later ones, so an
incremental read asks from ``overlap`` seconds before the newest
``updatedAt`` read (the mark), and drops what it has already read there:
the cursor remembers a short digest of every record read within the overlap,
so a record comes again only when it changed, even within the same second
(Shopify's times have no fractions). Mid-stream it also holds the window
the pages were asked with and the page cursor (or, for a bulk read, the
operation and the byte offset in its result), so a crash resumes at the
next page of the same listing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

__all__ = ["Cursor", "digest"]

Json = dict[str, Any]


def digest(node: Json) -> str:
    text = json.dumps(node, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Cursor:
    mark: str | None = None
    recent: dict[str, list[str]] = field(default_factory=dict)
    """GID -> [updatedAt, digest] of what was read within the overlap before the mark."""
    window: str | None = None
    after: str | None = None
    bulk: Json | None = None
    """{"id": operation GID, "created": its createdAt, "offset": bytes consumed}."""

    @classmethod
    def load(cls, text: str | None) -> Cursor:
        return cls(**json.loads(text)) if text else cls()

    def dump(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    def window_start(self, overlap: float) -> str | None:
        if self.mark is None:
            return None
        start = _time(self.mark) - timedelta(seconds=overlap)
        return start.strftime("%Y-%m-%dT%H:%M:%SZ")

    def already_read(self, node: Json) -> bool:
        seen = self.recent.get(str(node.get("id")))
        return seen is not None and seen[1] == digest(node)

    def reading(self, nodes: list[Json], overlap: float, *, floor: str | None = None) -> Cursor:
        """The cursor once ``nodes`` are stored: mark moved, near ones remembered.

        ``floor`` keeps the mark from moving past a bulk operation's start,
        since changes after it may be missing from its snapshot.
        """
        mark, recent = self.mark, dict(self.recent)
        for node in nodes:
            changed = node.get("updatedAt")
            if not isinstance(changed, str):
                continue
            recent[str(node["id"])] = [changed, digest(node)]
            if floor is None and (mark is None or _time(changed) > _time(mark)):
                mark = changed
        if floor is not None:
            mark = floor
        if mark is not None:
            start = _time(mark) - timedelta(seconds=overlap)
            recent = {key: seen for key, seen in recent.items() if _time(seen[0]) >= start}
        return replace(self, mark=mark, recent=recent)
