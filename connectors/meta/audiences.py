"""Writing hub segments to customer-list custom audiences.

Each membership becomes one hashed row (:mod:`connectors.meta.audience`):
additions are POSTed to ``/{audience_id}/users`` and removals DELETEd there,
at most 10,000 rows a call; a write of more rows is one upload session
(``session_id``, ``batch_seq`` from 1, ``last_batch_flag`` on the last,
``estimated_num_total``), so Meta treats the batches as one upload. Both calls
are idempotent at Meta: resending a batch after a crash changes nothing.

What a result keeps (``written``) is :meth:`AudienceWriter.row_of`, the
hashed row and the membership, never raw values; the hub compares the same
before a push, so it keeps what the audience holds and sends only what
changed. The external id names the audience and the person's first match key
by hash (``<audience>:EMAIL:<hex>``), so an erasure, which brings no customer
data, can still remove them.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any

from connectors.meta.audience import MATCH_KEYS, SCHEMA, hashed_row
from connectors.meta.client import MetaClient
from connectors.meta.config import MetaConfig
from hub.connector import Change, RawRecord, WriteResult
from hub.errors import ConfigError, RecordError
from hub.model import SegmentMembership

__all__ = ["MAX_ROWS", "AudienceWriter"]

MAX_ROWS = 10_000


class AudienceWriter:
    def __init__(self, client: MetaClient, config: MetaConfig) -> None:
        self.client = client
        self.config = config
        self._audience_ids = dict(config.audiences)

    def row_of(self, membership: SegmentMembership) -> RawRecord:
        row = hashed_row(membership.customer)
        return {"segment": membership.segment, "member": membership.member, "row": row}

    async def write(self, changes: list[Change]) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        batches: dict[tuple[str, bool], list[tuple[int, Change, dict[str, str], str]]] = (
            defaultdict(list)
        )
        for index, change in enumerate(changes):
            try:
                audience, add, row, key = await self._plan(change)
            except RecordError as exc:
                results[index] = WriteResult(change.hub_id, change.external_id, error=str(exc))
                continue
            if audience is None:
                results[index] = WriteResult(change.hub_id, change.external_id)
                continue
            batches[(audience, add)].append((index, change, row, key))
        for (audience, add), planned in batches.items():
            results.update(await self._send(audience, add, planned))
        return [results[index] for index in range(len(changes))]

    async def _plan(self, change: Change) -> tuple[str | None, bool, dict[str, str], str]:
        """(audience, add?, hashed row, match key) of one change; audience None: nothing to do."""
        if change.op == "delete":
            if not change.external_id:
                return None, False, {}, ""
            audience, key, digest = change.external_id.split(":", 2)
            return audience, False, {key: digest}, key
        membership = change.record
        if not isinstance(membership, SegmentMembership):
            raise RecordError(f"segment_members takes memberships, not {type(membership).__name__}")
        row = hashed_row(membership.customer)
        matched = next((k for k in MATCH_KEYS if row[k]), None)
        if matched is None:
            raise RecordError(
                f"{change.hub_id} has no e-mail or phone, which a custom audience matches on"
            )
        audience = await self._audience(membership.segment)
        return audience, membership.member, row, matched

    async def _audience(self, segment: str) -> str:
        if segment in self._audience_ids:
            return self._audience_ids[segment]
        account = self.config.ad_account_id
        if account is None:
            raise ConfigError(
                f"meta: segment {segment!r} has no audience id in 'audiences' and no "
                "ad_account_id to create one in"
            )
        name = f"crmhub: {segment}"
        found = await self.client.find_audience(account, name)
        self._audience_ids[segment] = found or await self.client.create_audience(
            account,
            name=name,
            description=f"Members of the crmhub segment {segment}",
            source=self.config.customer_file_source,
        )
        return self._audience_ids[segment]

    async def _send(
        self, audience: str, add: bool, planned: list[tuple[int, Change, dict[str, str], str]]
    ) -> dict[int, WriteResult]:
        schema = list(SCHEMA) if add else sorted({k for *_, row, _ in planned for k in row})
        chunks = [planned[i : i + MAX_ROWS] for i in range(0, len(planned), MAX_ROWS)]
        session_id = secrets.randbits(62)
        results: dict[int, WriteResult] = {}
        for seq, chunk in enumerate(chunks, 1):
            session: dict[str, Any] | None = None
            if len(chunks) > 1:
                session = {
                    "session_id": session_id,
                    "batch_seq": seq,
                    "last_batch_flag": seq == len(chunks),
                    "estimated_num_total": len(planned),
                }
            rows = [[row.get(key, "") for key in schema] for _, _, row, _ in chunk]
            try:
                await self.client.audience_users(
                    audience, add=add, schema=schema, rows=rows, session=session
                )
            except RecordError as exc:
                results.update(
                    {
                        i: WriteResult(c.hub_id, c.external_id, error=str(exc))
                        for i, c, _, _ in chunk
                    }
                )
                continue
            for index, change, row, key in chunk:
                record = change.record
                written = self.row_of(record) if isinstance(record, SegmentMembership) else None
                results[index] = WriteResult(
                    change.hub_id, f"{audience}:{key}:{row[key]}", written=written
                )
        return results
