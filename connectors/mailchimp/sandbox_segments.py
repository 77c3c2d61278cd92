"""The sandbox audience's static segments: their state and Mailchimp's rules for them.

Shapes follow the recorded static segment in tests/fixtures/vendor/mailchimp
(``id`` a number from the same sequence as tag ids, ``name``,
``member_count``, ``type: "static"``, ``created_at``/``updated_at`` with
``+00:00``, ``list_id``); the calls and limits follow Mailchimp's public API
reference, which is not in the vendor material:

- ``POST /lists/{list_id}/segments`` takes ``name`` (required) and
  ``static_segment`` (addresses; those not in the audience are ignored), or
  ``options`` for a saved segment, never both;
- ``POST /lists/{list_id}/segments/{segment_id}`` takes ``members_to_add`` and
  ``members_to_remove``, at most 500 each (more is a 400 "Invalid Resource"
  whose detail Mailchimp words as below), and answers ``members_added``,
  ``members_removed``, ``errors`` (``email_addresses`` + ``error``),
  ``total_added``, ``total_removed``, ``error_count``. Addresses not in the
  audience come back in ``errors``; the wording of that error is ours.

Simplification: in Mailchimp's app a static segment is also shown as a tag on
its members; here static segments and member tags are kept apart.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_MEMBER_ITEMS", "SegmentRefused", "StaticSegments"]

MAX_MEMBER_ITEMS = 500
Member = dict[str, Any]


class SegmentRefused(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title = status, title


@dataclass
class _Segment:
    id: int
    name: str
    created_at: str
    updated_at: str
    members: list[str] = field(default_factory=list)  # member ids, in the order added


class StaticSegments:
    """One audience's static segments; ``members`` is the sandbox's member table (by id)."""

    def __init__(
        self,
        list_id: str,
        members: dict[str, Member],
        member_id: Callable[[str], str],
        stamp: Callable[[], str],
    ) -> None:
        self.list_id, self.members = list_id, members
        self._member_id, self._stamp = member_id, stamp
        self.segments: dict[int, _Segment] = {}
        self._ids = itertools.count(13_506_140)

    def view(self, segment: _Segment) -> dict[str, Any]:
        return {
            "id": segment.id,
            "name": segment.name,
            "member_count": len(segment.members),
            "type": "static",
            "created_at": segment.created_at,
            "updated_at": segment.updated_at,
            "options": {},
            "list_id": self.list_id,
        }

    def listed(self, kind: str | None) -> list[dict[str, Any]]:
        if kind not in (None, "", "static"):
            return []  # the sandbox holds no saved or fuzzy segments
        return [self.view(s) for s in sorted(self.segments.values(), key=lambda s: s.id)]

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SegmentRefused(400, "Invalid Resource", "The segment name is required.")
        if "static_segment" in body and "options" in body:
            raise SegmentRefused(
                400, "Invalid Resource", "static_segment cannot be provided with options."
            )
        emails = _addresses(body.get("static_segment") or [], "static_segment")
        now = self._stamp()
        segment = _Segment(next(self._ids), name, now, now)
        segment.members = [m for m in map(self._member_id, emails) if m in self.members]
        self.segments[segment.id] = segment
        return self.view(segment)

    def update(self, segment_id: str, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Batch add/remove; returns the answer and whether anything changed."""
        segment = self.find(segment_id)
        add = _addresses(body.get("members_to_add") or [], "members_to_add")
        remove = _addresses(body.get("members_to_remove") or [], "members_to_remove")
        if len(add) > MAX_MEMBER_ITEMS or len(remove) > MAX_MEMBER_ITEMS:
            raise SegmentRefused(
                400,
                "Invalid Resource",
                "Maximum allowed member items exceeded, please provide at most "
                f"{MAX_MEMBER_ITEMS} items in members_to_add field or members_to_remove field",
            )
        added, removed, unknown = [], [], []
        for email in add:
            member_id = self._member_id(email)
            if member_id not in self.members:
                unknown.append(email)
            elif member_id not in segment.members:
                segment.members.append(member_id)
                added.append(self.members[member_id])
        for email in remove:
            member_id = self._member_id(email)
            if member_id not in self.members:
                unknown.append(email)
            elif member_id in segment.members:
                segment.members.remove(member_id)
                removed.append(self.members[member_id])
        if added or removed:
            segment.updated_at = self._stamp()
        errors = (
            [{"email_addresses": unknown, "error": "Email addresses are not in this audience."}]
            if unknown
            else []
        )
        answer = {
            "members_added": added,
            "members_removed": removed,
            "errors": errors,
            "total_added": len(added),
            "total_removed": len(removed),
            "error_count": len(unknown),
            "_links": [],
        }
        return answer, bool(added or removed)

    def find(self, segment_id: str) -> _Segment:
        segment = self.segments.get(int(segment_id)) if segment_id.isdigit() else None
        if segment is None:
            raise SegmentRefused(
                404,
                "Resource Not Found",
                f"A Static Segment with an id of {segment_id} does not exist for this list.",
            )
        return segment

    def member_views(self, segment_id: str) -> list[Member]:
        return [self.members[m] for m in self.find(segment_id).members if m in self.members]

    def named(self, name: str) -> list[str]:
        """Addresses in the static segment called ``name`` (for tests and the demo)."""
        return [
            str(self.members[m]["email_address"])
            for s in self.segments.values()
            if s.name == name
            for m in s.members
            if m in self.members
        ]


def _addresses(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(e, str) for e in value):
        raise SegmentRefused(400, "Invalid Resource", f"{name} must be a list of addresses.")
    return list(value)
