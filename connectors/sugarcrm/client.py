"""Sugar's REST API over HTTP: typed calls; tokens, limits, retries and errors are handled below.

Reads use ``POST /<module>/filter`` as keyset pages: each request asks for what
sorts after the last record read, by ``date_modified`` and then ``id``, with
``offset`` 0. Offsets over a list sorted by modification time shift whenever
a record in it changes during the walk (it jumps to the end), which would skip
another record for good; the keyset does not shift. Sugar's ``next_offset`` of
-1 still says the last page has been served.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from connectors.sugarcrm.auth import SugarSession
from connectors.sugarcrm.config import SugarConfig
from connectors.sugarcrm.mapping import SugarRecord
from hub.errors import RecordError
from hub.http import DEFAULT_POLICY, Action, ApiClient, Clock, SystemClock

__all__ = ["POLICY", "SugarClient"]


def _error_code(response: httpx.Response) -> str | None:
    body = response.json()
    return str(body["error"]) if isinstance(body, dict) and "error" in body else None


POLICY = DEFAULT_POLICY.extend(
    statuses={412: Action.FATAL_CONFIG},  # the instance wants a newer client (metadata hash)
    codes={
        "invalid_grant": Action.FATAL_AUTH,
        "need_login": Action.FATAL_AUTH,
        "not_authorized": Action.FATAL_AUTH,
        "too_many_requests": Action.BACKOFF,
        "maintenance": Action.RETRY,
    },
    code_of=_error_code,
)
"""Sugar's ``error`` codes; a 401 reaches it only once the session could not be renewed."""


class SugarClient:
    """One connection's client on ``/rest/<version>/``."""

    def __init__(
        self,
        config: SugarConfig,
        *,
        connection: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.page_size = config.page_size
        root = f"{str(config.base_url).rstrip('/')}/rest/{config.api_version}/"
        clock = clock or SystemClock()
        self._api = ApiClient(
            root,
            connection=connection,
            auth=SugarSession(config, root + "oauth2/token", clock),
            policy=POLICY,
            clock=clock,
            transport=transport,
            redact_headers=["OAuth-Token"],
        )

    async def changed(
        self, module: str, *, after: tuple[str, str] | None
    ) -> AsyncIterator[list[SugarRecord]]:
        """Pages of ``module`` records modified after ``(date_modified, id)``, oldest first."""
        while True:
            body: dict[str, Any] = {
                "filter": _after(after),
                "order_by": "date_modified:ASC,id:ASC",
                "max_num": self.page_size,
                "offset": 0,
            }
            response = await self._api.post(f"{module}/filter", json=body, safe_to_retry=True)
            page = response.json()
            records: list[SugarRecord] = list(page["records"])
            if records:
                yield records
                after = (records[-1]["date_modified"], records[-1]["id"])
            if page["next_offset"] == -1 or not records:
                return

    async def related(self, module: str, field: str, ids: list[str]) -> list[SugarRecord]:
        """Every ``module`` record whose ``field`` is one of ``ids``, paged to ``next_offset`` -1.

        Offsets are safe here: the list is sorted by id, which no edit moves.
        """
        records: list[SugarRecord] = []
        offset = 0
        while ids and offset != -1:
            body = {
                "filter": [{field: {"$in": ids}}],
                "order_by": "id:ASC",
                "max_num": self.page_size,
                "offset": offset,
            }
            response = await self._api.post(f"{module}/filter", json=body, safe_to_retry=True)
            page = response.json()
            records += page["records"]
            offset = int(page["next_offset"])
        return records

    async def find_by_email(self, module: str, email: str) -> SugarRecord | None:
        body = {"filter": [{"email_addresses.email_address": email}], "max_num": 1}
        response = await self._api.post(f"{module}/filter", json=body, safe_to_retry=True)
        records = response.json()["records"]
        return dict(records[0]) if records else None

    async def upsert_by_sync_key(self, module: str, key: str, record: SugarRecord) -> SugarRecord:
        """Create or update the record whose ``sync_key`` is ``key``; safe to resend."""
        path = f"{module}/sync_key/{key}"
        response = await self._api.patch(path, json=record, safe_to_retry=True)
        return dict(response.json())

    async def create(self, module: str, record: SugarRecord) -> SugarRecord:
        return dict((await self._api.post(module, json=record)).json())

    async def update(self, module: str, record_id: str, record: SugarRecord) -> SugarRecord:
        return dict((await self._api.put(f"{module}/{record_id}", json=record)).json())

    async def find_by_name(self, module: str, name: str, **fields: str) -> SugarRecord | None:
        """The oldest record called ``name`` (with these field values), if any."""
        body = {
            "filter": [{"name": {"$equals": name}}, *({k: v} for k, v in fields.items())],
            "order_by": "date_entered:ASC,id:ASC",
            "max_num": 1,
        }
        response = await self._api.post(f"{module}/filter", json=body, safe_to_retry=True)
        records = response.json()["records"]
        return dict(records[0]) if records else None

    async def relate(self, module: str, record_id: str, link: str, remote_id: str) -> None:
        """Relate two records through ``link``; relating them again changes nothing."""
        path = f"{module}/{record_id}/link/{link}/{remote_id}"
        await self._api.post(path, safe_to_retry=True)

    async def unrelate(
        self, module: str, record_id: str, link: str, remote: tuple[str, str]
    ) -> None:
        """End a relationship with ``remote`` (module, id); ending one that is not there
        changes nothing, and neither does one whose record is gone (Sugar answers 404)."""
        remote_module, remote_id = remote
        try:
            await self._api.delete(f"{module}/{record_id}/link/{link}/{remote_id}")
        except RecordError:
            if await self._holds(module, record_id) and await self._holds(remote_module, remote_id):
                raise

    async def delete(self, module: str, record_id: str) -> None:
        """Delete; a record that is already gone counts as deleted (Sugar answers 404)."""
        try:
            await self._api.delete(f"{module}/{record_id}")
        except RecordError:
            if await self._holds(module, record_id):
                raise

    async def _holds(self, module: str, record_id: str) -> bool:
        body = {"filter": [{"id": {"$equals": record_id}}], "max_num": 1}
        response = await self._api.post(f"{module}/filter", json=body, safe_to_retry=True)
        return bool(response.json()["records"])

    async def aclose(self) -> None:
        await self._api.aclose()


def _after(mark: tuple[str, str] | None) -> list[dict[str, Any]]:
    if mark is None:
        return []
    modified, record_id = mark
    return [
        {
            "$or": [
                {"date_modified": {"$gt": modified}},
                {"$and": [{"date_modified": {"$equals": modified}}, {"id": {"$gt": record_id}}]},
            ]
        }
    ]
