"""Oro's JSON:API over HTTP: typed calls; retries, errors and tokens are the ApiClient's.

Contacts are walked in (updatedAt, id) order from a position, with
``filter[updatedAt][gte]`` at the position's time and ``page[number]=1``;
records at that time up to the position's id are dropped on arrival. Page
numbers alone would shift under a contact edited during the walk. Oro's
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

__all__ = ["JSON_API", "OroClient", "Position", "errors_of"]

JSON_API = "application/vnd.api+json"


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


POLICY = DEFAULT_POLICY.extend(
    {
        401: Rule(
            Action.FATAL_AUTH,
            "Oro refused the access token even after renewing it; check the OAuth "
            "application's client id and secret and that its user may use the API",
        ),
        404: Rule(
            Action.DEAD_LETTER,
            "Oro no longer has this contact, so the hub's link to it is stale; the change is "
            "in dead letters",
        ),
    },
    message_of=errors_of,
)


@dataclass(frozen=True, slots=True)
class Position:
    """The last contact read (its updatedAt text and id) and the page number at that time."""

    updated_at: str
    contact_id: int
    page: int = 1


@dataclass(frozen=True, slots=True)
class ContactPage:
    contacts: list[Resource]
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

    async def contacts(self, after: Position | None) -> AsyncIterator[ContactPage]:
        """Contacts after ``after`` (all when None), oldest change first, addresses included."""
        position = after
        while True:
            params: dict[str, str | int] = {
                "sort": "updatedAt,id",
                "include": "addresses",
                "page[size]": self.page_size,
                "page[number]": position.page if position else 1,
            }
            if position is not None:
                params["filter[updatedAt][gte]"] = position.updated_at
            document = (await self._api.get("contacts", params=params)).json()
            batch = [_with_included(r, document) for r in document.get("data") or []]
            fresh = [r for r in batch if position is None or _key(r) > _key_of(position)]
            following = _next(batch, position) if len(batch) >= self.page_size else None
            yield ContactPage(fresh, following)
            if following is None:
                return
            position = following

    async def find_by_email(self, email: str) -> Resource | None:
        params = {"filter[primaryEmail]": email, "page[size]": 1}
        document = (await self._api.get("contacts", params=params)).json()
        found = document.get("data") or []
        return dict(found[0]) if found else None

    async def exists(self, contact_id: str) -> bool:
        params = {"filter[id]": contact_id, "page[size]": 1}
        return bool((await self._api.get("contacts", params=params)).json().get("data"))

    async def create_contact(self, attributes: dict[str, Any]) -> Resource:
        document = {"data": {"type": "contacts", "attributes": attributes}}
        response = await self._api.post("contacts", **_body(document))
        return dict(response.json()["data"])

    async def update_contact(self, contact_id: str, attributes: dict[str, Any]) -> Resource:
        document = {"data": {"type": "contacts", "id": contact_id, "attributes": attributes}}
        response = await self._api.patch(f"contacts/{contact_id}", **_body(document))
        return dict(response.json()["data"])

    async def delete_contact(self, contact_id: str) -> None:
        await self._api.delete(f"contacts/{contact_id}")

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
    return position.updated_at, position.contact_id


def _next(batch: list[Resource], position: Position | None) -> Position:
    updated, contact_id = _key(batch[-1])
    if position is not None and updated == position.updated_at:
        return Position(updated, contact_id, position.page + 1)  # a page all in one second
    return Position(updated, contact_id)
