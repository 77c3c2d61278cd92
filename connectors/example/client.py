"""The example API over HTTP: typed calls; limits, retries and errors are the ApiClient's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from connectors.example.config import ExampleConfig
from connectors.example.mapping import Contact
from hub.http import ApiClient, Clock, HeaderWindow, bearer, cursor_pages

__all__ = ["CONTACTS", "ExampleClient"]

CONTACTS = "api/v1/contacts"


class ExampleClient:
    """One connection's client; the vendor's X-RateLimit-* headers pace it."""

    def __init__(
        self,
        config: ExampleConfig,
        *,
        connection: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.page_size = config.page_size
        self._api = ApiClient(
            str(config.base_url),
            connection=connection,
            auth=bearer(config.api_token),
            limiter=HeaderWindow(clock=clock),
            transport=transport,
        )

    def contact_pages(
        self, *, since: str | None, page_token: str | None
    ) -> AsyncIterator[tuple[list[Contact], str | None]]:
        """Contacts changed at or after ``since``, continuing at ``page_token`` when given.

        Each item is one page and the token of the page after it (None after
        the last). A token carries its filter, so a next page sends only it.
        """

        async def fetch(token: str | None) -> httpx.Response:
            params: dict[str, str | int] = {"limit": self.page_size}
            if token:
                params["page_token"] = token
            elif since:
                params["updated_since"] = since
            return await self._api.get(CONTACTS, params=params)

        return cursor_pages(
            fetch,
            items=lambda body: list(body["data"]),
            next_cursor=lambda body: body.get("next_page_token"),
            start=page_token,
        )

    async def upsert_contact(self, contact: Contact) -> Contact:
        """Create or update the contact with this e-mail; safe to resend."""
        response = await self._api.post(CONTACTS, json=contact, safe_to_retry=True)
        return dict(response.json())

    async def update_contact(self, contact_id: str, contact: Contact) -> Contact:
        response = await self._api.put(f"{CONTACTS}/{contact_id}", json=contact)
        return dict(response.json())

    async def delete_contact(self, contact_id: str) -> None:
        """Delete; the API answers 204 also when the contact is already gone."""
        await self._api.delete(f"{CONTACTS}/{contact_id}")

    async def aclose(self) -> None:
        await self._api.aclose()
