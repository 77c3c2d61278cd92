"""Magento's REST API over HTTP: typed calls; retries, limits and errors are the ApiClient's.

Reads walk ``updated_at`` with keyset paging built from the searchCriteria
grammar: after the last record read at (time t, id i), the next page is
``updated_at >= t AND (updated_at > t OR entity_id > i)`` in (updated_at,
entity_id) order, always ``currentPage=1``. Page numbers would shift under a
record that changes during the walk (it moves to the end, and the record
after the page boundary slides into a page already read, never to be seen);
a position does not. Each answer's ``total_count`` says how many records are
left, so the walk ends on the page that holds them all and never asks past the
end, where Magento would repeat the last page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from connectors.magento.config import MagentoConfig
from connectors.magento.criteria import Filter, Sort, encode
from connectors.magento.mapping import MagentoRecord
from hub.errors import CrmhubError
from hub.http import DEFAULT_POLICY, Action, ApiClient, Clock, Rule, bearer

__all__ = ["MagentoClient", "Position", "SearchPage"]


def _code(response: httpx.Response) -> str | None:
    """Magento has no error codes; its unknown-store 404 is told apart by its words."""
    if response.status_code == 404 and "store that was requested" in response.text:
        return "store_not_found"
    return None


POLICY = DEFAULT_POLICY.extend(
    {
        401: Rule(
            Action.FATAL_AUTH,
            "check the integration access token in this connection's config: the integration "
            "is active in System > Integrations and its API resources include Customers and "
            "Sales (Magento answers 401 also for a resource the token may not use)",
        ),
        404: Rule(
            Action.DEAD_LETTER,
            "Magento no longer has this record, so the hub's link to it is stale; the change "
            "is in dead letters",
        ),
    },
    {
        "store_not_found": Rule(
            Action.FATAL_CONFIG,
            "Magento has no store view with this connection's store_code; set it to a store "
            "view code (Stores > All Stores), or leave it out for /rest/V1",
        )
    },
    code_of=_code,
)
ENTITY = {"customers": "customers/search", "orders": "orders"}


@dataclass(frozen=True, slots=True)
class Position:
    """The last record a walk read: its ``updated_at`` (Magento's text) and entity id."""

    updated_at: str
    entity_id: int


@dataclass(frozen=True, slots=True)
class SearchPage:
    items: list[MagentoRecord]
    next: Position | None
    """Where the next page starts; None when this page held every record left."""


class MagentoClient:
    """One connection's client, rooted at ``/rest/V1/`` or ``/rest/{store_code}/V1/``."""

    def __init__(
        self,
        config: MagentoConfig,
        *,
        connection: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.page_size = config.page_size
        self.website_id = config.website_id
        scope = f"{config.store_code}/" if config.store_code else ""
        self._api = ApiClient(
            f"{str(config.base_url).rstrip('/')}/rest/{scope}V1/",
            connection=connection,
            auth=bearer(config.access_token),
            policy=POLICY,
            clock=clock,
            transport=transport,
        )

    async def changed(self, stream: str, after: Position | None) -> AsyncIterator[SearchPage]:
        """Records of ``stream`` after ``after`` (all when None), oldest change first."""
        position = after
        while True:
            groups: list[list[Filter]] = []
            if position is not None:
                groups = [
                    [Filter("updated_at", position.updated_at, "gteq")],
                    [
                        Filter("updated_at", position.updated_at, "gt"),
                        Filter("entity_id", str(position.entity_id), "gt"),
                    ],
                ]
            params = encode(
                groups,
                sort=[Sort("updated_at", "ASC"), Sort("entity_id", "ASC")],
                page_size=self.page_size,
                current_page=1,
            )
            body = (await self._api.get(ENTITY[stream], params=params)).json()
            items = [item for item in body.get("items") or [] if isinstance(item, dict)]
            if not items or len(items) >= int(body.get("total_count") or 0):
                yield SearchPage(items, None)
                return
            position = _position_of(stream, items[-1], position)
            yield SearchPage(items, position)

    async def find_customer(self, customer_id: str) -> MagentoRecord | None:
        """The customer with this id, or None when Magento no longer has it."""
        return await self._one(Filter("entity_id", customer_id))

    async def find_by_email(self, email: str) -> MagentoRecord | None:
        """The customer with this e-mail in the connection's website, if any."""
        return await self._one(Filter("email", email), Filter("website_id", str(self.website_id)))

    async def create_customer(self, customer: MagentoRecord) -> MagentoRecord:
        response = await self._api.post("customers", json={"customer": customer})
        return dict(response.json())

    async def update_customer(self, customer_id: str, customer: MagentoRecord) -> MagentoRecord:
        """Replace the customer: Magento's PUT clears what the body leaves out."""
        response = await self._api.put(f"customers/{customer_id}", json={"customer": customer})
        return dict(response.json())

    async def delete_customer(self, customer_id: str) -> None:
        await self._api.delete(f"customers/{customer_id}")

    async def _one(self, *filters: Filter) -> MagentoRecord | None:
        params = encode([[one] for one in filters], page_size=1, current_page=1)
        body = (await self._api.get(ENTITY["customers"], params=params)).json()
        items = body.get("items") or []
        return dict(items[0]) if items and body.get("total_count") else None

    async def aclose(self) -> None:
        await self._api.aclose()


def _position_of(stream: str, item: MagentoRecord, before: Position | None) -> Position:
    """Where the next page starts: after the page's last record.

    Magento sets ``updated_at`` on every save, so a record without one (or
    without an id) is damaged data; the walk cannot step past it.
    """
    key = "id" if stream == "customers" else "entity_id"
    updated, entity = item.get("updated_at"), item.get(key)
    if isinstance(updated, str) and isinstance(entity, int):
        return Position(updated, entity)
    if before is None:
        raise CrmhubError(
            f"a Magento {stream} record without updated_at or id ends a page, so the walk "
            "cannot go past it; check the record in Magento"
        )
    return before
