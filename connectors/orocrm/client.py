"""Oro's JSON:API over HTTP: typed calls; retries, errors and tokens are the ApiClient's.

Contacts (and accounts, opportunities, Magento customers) are walked in
(updatedAt, id) order from a position, with ``filter[updatedAt][gte]`` at
the position's time and ``page[number]=1``; records at that time up to the
position's id are dropped on arrival. Page numbers alone would shift under a
record edited during the walk. Oro's
filters are ANDed, so "later, or as late with a higher id" cannot be asked
for directly; when a whole page shares one second, the walk turns to the next
page number at that same time, so it always moves on. A short page is the end.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.orocrm.auth import ClientCredentials
from connectors.orocrm.config import OroConfig
from connectors.orocrm.mapping import Resource
from hub.http import DEFAULT_POLICY, Action, ApiClient, Clock, Rule, SystemClock

__all__ = ["CONTACT_INCLUDES", "JSON_API", "OroClient", "Position", "ResourcePage", "errors_of"]

JSON_API = "application/vnd.api+json"
CONTACT_INCLUDES = "addresses,accounts"
"""What a contact is read with: its addresses, and its accounts for the company name."""


def errors_of(response: httpx.Response) -> str | None:
    """JSON:API error objects as "title: detail (at pointer)", one after another."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return response.text[:300] or None
    if not isinstance(errors, list):
        return None
    said = []
    for error in errors:
        source = error.get("source") or {}
        where = source.get("pointer") or source.get("parameter")
        text = f"{error.get('title')}: {error.get('detail')}"
        said.append(f"{text} (at {where})" if where else text)
    return "; ".join(said) or None


def _code(response: httpx.Response) -> str | None:
    """A 404 on a collection (no id in the path) is an API resource this Oro lacks."""
    last = response.request.url.path.rstrip("/").rsplit("/", 1)[-1]
    return "no_resource" if response.status_code == 404 and not last.isdigit() else None


POLICY = DEFAULT_POLICY.extend(
    {
        401: Rule(
            Action.FATAL_AUTH,
            "Oro refused the access token even after renewing it; check the OAuth "
            "application's client id and secret and that its user may use the API",
        ),
        404: Rule(
            Action.DEAD_LETTER,
            "Oro no longer has this record, so the hub's link to it is stale; the change is "
            "in dead letters",
        ),
    },
    {
        "no_resource": Rule(
            Action.FATAL_CONFIG,
            "this Oro has no such API resource: magentocustomers needs Oro's Magento "
            "integration, accounts and opportunities OroCRM's account and sales bundles; "
            "remove the stream from this connection's streams",
        )
    },
    code_of=_code,
    message_of=errors_of,
)


@dataclass(frozen=True, slots=True)
class Position:
    """The last resource read (its updatedAt text and id) and the page number at that time."""

    updated_at: str
    record_id: int
    page: int = 1


@dataclass(frozen=True, slots=True)
class ResourcePage:
    resources: list[Resource]
    next: Position | None


class OroClient:
    def __init__(
        self,
        config: OroConfig,
        *,
        connection: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.page_size = config.page_size
        root = str(config.base_url).rstrip("/")
        clock = clock or SystemClock()
        auth = ClientCredentials(
            f"{root}/oauth2-token", config.client_id, config.client_secret, clock=clock
        )
        self._api = ApiClient(
            f"{root}/api/",
            connection=connection,
            auth=auth,
            policy=POLICY,
            clock=clock,
            transport=transport,
            headers={"Accept": JSON_API},
        )

    async def walk(
        self, kind: str, after: Position | None, include: str | None = None
    ) -> AsyncIterator[ResourcePage]:
        """Resources of ``kind`` after ``after`` (all when None), oldest change first."""
        position = after
        while True:
            params: dict[str, str | int] = {
                "sort": "updatedAt,id",
                "page[size]": self.page_size,
                "page[number]": position.page if position else 1,
            }
            if include:
                params["include"] = include
            if position is not None:
                params["filter[updatedAt][gte]"] = position.updated_at
            document = (await self._api.get(kind, params=params)).json()
            batch = [dict(r) for r in document.get("data") or []]
            if include:
                batch = [_with_included(r, document) for r in batch]
            fresh = [r for r in batch if position is None or _key(r) > _key_of(position)]
            following = _next(batch, position) if len(batch) >= self.page_size else None
            yield ResourcePage(fresh, following)
            if following is None:
                return
            position = following

    async def contacts_by_id(self, ids: list[str]) -> list[Resource]:
        """These contacts with their addresses and accounts (one request, no paging)."""
        if not ids:
            return []
        params = {
            "filter[id]": ",".join(ids),
            "include": CONTACT_INCLUDES,
            "page[size]": -1,
            "sort": "id",
        }
        document = (await self._api.get("contacts", params=params)).json()
        return [_with_included(r, document) for r in document.get("data") or []]

    async def find_by_email(self, email: str) -> Resource | None:
        """The contact with this primary e-mail, with its addresses and accounts, or None."""
        params = {"filter[primaryEmail]": email, "page[size]": 1, "include": CONTACT_INCLUDES}
        document = (await self._api.get("contacts", params=params)).json()
        found = document.get("data") or []
        return _with_included(found[0], document) if found else None

    async def exists(self, kind: str, resource_id: str) -> bool:
        params = {"filter[id]": resource_id, "page[size]": 1}
        return bool((await self._api.get(kind, params=params)).json().get("data"))

    async def create(
        self, kind: str, attributes: dict[str, Any], relationships: dict[str, Any] | None = None
    ) -> Resource:
        data: dict[str, Any] = {"type": kind, "attributes": attributes}
        if relationships:
            data["relationships"] = relationships
        response = await self._api.post(kind, **_body({"data": data}))
        return dict(response.json()["data"])

    async def update(
        self,
        kind: str,
        resource_id: str,
        attributes: dict[str, Any],
        relationships: dict[str, Any] | None = None,
    ) -> Resource:
        data: dict[str, Any] = {"type": kind, "id": resource_id, "attributes": attributes}
        if relationships:
            data["relationships"] = relationships
        response = await self._api.patch(f"{kind}/{resource_id}", **_body({"data": data}))
        return dict(response.json()["data"])

    async def delete(self, kind: str, resource_id: str) -> None:
        await self._api.delete(f"{kind}/{resource_id}")

    async def aclose(self) -> None:
        await self._api.aclose()


def _body(document: dict[str, Any]) -> dict[str, Any]:
    return {"content": json.dumps(document), "headers": {"Content-Type": JSON_API}}


def _with_included(resource: Resource, document: dict[str, Any]) -> Resource:
    """The contact with the resources included for it, as one record for the engine."""
    wanted = {
        (item.get("type"), str(item.get("id")))
        for relation in (resource.get("relationships") or {}).values()
        for item in _items((relation or {}).get("data"))
    }
    included = [
        item
        for item in document.get("included") or []
        if (item.get("type"), str(item.get("id"))) in wanted
    ]
    return {**resource, "included": included}


def _items(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        return [data]
    return [item for item in data or [] if isinstance(item, dict)]


def _key(resource: Resource) -> tuple[str, int]:
    updated = str((resource.get("attributes") or {}).get("updatedAt") or "")
    return updated, int(resource.get("id") or 0)


def _key_of(position: Position) -> tuple[str, int]:
    return position.updated_at, position.record_id


def _next(batch: list[Resource], position: Position | None) -> Position:
    updated, record_id = _key(batch[-1])
    if position is not None and updated == position.updated_at:
        return Position(updated, record_id, position.page + 1)  # a page all in one second
    return Position(updated, record_id)
