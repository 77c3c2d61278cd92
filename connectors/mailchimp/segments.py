"""Hub segments as Mailchimp static segments: found or created by name, filled in batches.

Mailchimp adds and removes static segment members by address, at most 500 of
each per request (``POST /lists/{list_id}/segments/{segment_id}`` with
``members_to_add`` / ``members_to_remove``); more is refused whole with 400
"Invalid Resource". So one push sends, per segment, one request per 500
joins and 500 leaves, and reads each address's fate from the answer's
``errors``. A segment is looked up among the audience's static segments once
per connection and created (empty) when missing, since Mailchimp keys them
by id and the hub by name.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import zip_longest

from connectors.mailchimp.client import MailchimpClient
from connectors.mailchimp.mapping import subscriber_hash
from hub.connector import Change, WriteResult
from hub.errors import RecordError
from hub.model import SegmentMembership

__all__ = ["MAX_ADDRESSES", "StaticSegmentWriter"]

MAX_ADDRESSES = 500
"""Addresses per list in one batch add/remove request: Mailchimp's limit."""


class StaticSegmentWriter:
    def __init__(self, client: MailchimpClient) -> None:
        self.client = client
        self._ids: dict[str, int] | None = None

    async def write(self, changes: list[Change]) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        by_segment: dict[str, list[tuple[int, Change, str, bool]]] = defaultdict(list)
        for index, change in enumerate(changes):
            membership = change.record
            if not isinstance(membership, SegmentMembership) or not (
                email := membership.customer.primary_email
            ):
                results[index] = WriteResult(
                    change.hub_id, None, error="a segment membership needs the person's e-mail"
                )
                continue
            by_segment[membership.segment].append((index, change, email, membership.member))
        for name, items in by_segment.items():
            try:
                errors = await self._apply(name, items)
            except RecordError as exc:
                errors = {email.lower(): str(exc) for _, _, email, _ in items}
            for index, change, email, member in items:
                error = errors.get(email.lower())
                if error is not None and not member:
                    error = None  # not in the audience: not in its segment either
                results[index] = WriteResult(change.hub_id, subscriber_hash(email), error=error)
        return [results[index] for index in range(len(changes))]

    async def _apply(self, name: str, items: list[tuple[int, Change, str, bool]]) -> dict[str, str]:
        """Send the joins and leaves of one segment; return the refused addresses' errors."""
        segment_id = await self._segment_id(name)
        joins = [email for _, _, email, member in items if member]
        leaves = [email for _, _, email, member in items if not member]
        errors: dict[str, str] = {}
        nothing: list[str] = []
        pairs = zip_longest(_chunks(joins), _chunks(leaves), fillvalue=nothing)
        for add, remove in pairs:
            answer = await self.client.update_static_segment(segment_id, add, remove)
            for refused in answer.get("errors") or []:
                for email in refused.get("email_addresses") or []:
                    errors[str(email).lower()] = (
                        f"static segment {name!r}: {refused.get('error') or 'refused'}"
                    )
        return errors

    async def _segment_id(self, name: str) -> int:
        if self._ids is None:
            self._ids = {}
            async for segments, _ in self.client.static_segment_pages():
                for segment in segments:
                    self._ids.setdefault(str(segment["name"]), int(segment["id"]))
        if name not in self._ids:
            created = await self.client.create_static_segment(name)
            self._ids[name] = int(created["id"])
        return self._ids[name]


def _chunks(emails: list[str]) -> list[list[str]]:
    return [emails[start : start + MAX_ADDRESSES] for start in range(0, len(emails), MAX_ADDRESSES)]
