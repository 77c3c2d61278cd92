"""openCRX's REST servlet over HTTP: the account1 package of one provider and segment.

Objects live at ``/opencrx-rest-{provider}/org.opencrx.kernel.account1/provider/
{provider}/segment/{segment}/account[/{id}[/address[/{id}]]]``. Lists are
openMDX result sets (``objects``, ``@hasMore``) paged by ``position`` and
``size`` and filtered by ``queryType`` and an openMDX ``query``. Users sign in
with HTTP Basic.
"""

from __future__ import annotations

from typing import Any

import httpx

from connectors.opencrx.config import OpenCrxConfig
from connectors.opencrx.mapping import OpenCrxRecord
from hub.http import ApiClient, BasicAuth, Clock

__all__ = ["CONTACT_QUERY_TYPE", "OpenCrxClient"]

CONTACT_QUERY_TYPE = "org:opencrx:kernel:account1:Contact"


class OpenCrxClient:
    """One connection's client on the account1 segment."""

    def __init__(
        self,
        config: OpenCrxConfig,
        *,
        connection: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.page_size = config.page_size
        root = str(config.base_url).rstrip("/")
        self._activities = (
            f"{root}/opencrx-rest-{config.provider}/org.opencrx.kernel.activity1/provider/"
            f"{config.provider}/segment/{config.segment}/activity"
        )
        self._api = ApiClient(
            f"{root}/opencrx-rest-{config.provider}/org.opencrx.kernel.account1/provider/"
            f"{config.provider}/segment/{config.segment}/",
            connection=connection,
            auth=BasicAuth(config.username, config.password),
            clock=clock,
            transport=transport,
        )

    async def contacts(self, query: str, position: int) -> tuple[list[OpenCrxRecord], bool]:
        """One page of contacts matching ``query``, and whether more follow."""
        return await self._page("account", query, position, CONTACT_QUERY_TYPE)

    async def activities(self, query: str, position: int) -> tuple[list[OpenCrxRecord], bool]:
        """One page of activities (incidents, calls ...) of the activity1 package."""
        return await self._page(self._activities, query, position, None)

    async def _page(
        self, url: str, query: str, position: int, query_type: str | None
    ) -> tuple[list[OpenCrxRecord], bool]:
        params: dict[str, Any] = {"query": query, "position": position, "size": self.page_size}
        if query_type:
            params["queryType"] = query_type
        body = (await self._api.get(url, params=params)).json()
        return list(body.get("objects") or []), str(body.get("@hasMore")).lower() == "true"

    async def addresses(self, account_id: str) -> list[OpenCrxRecord]:
        body = (await self._api.get(f"account/{account_id}/address")).json()
        return list(body.get("objects") or [])

    async def create_contact(self, contact: OpenCrxRecord) -> OpenCrxRecord:
        return dict((await self._api.post("account", json=contact)).json())

    async def update_contact(self, account_id: str, contact: OpenCrxRecord) -> OpenCrxRecord:
        return dict((await self._api.put(f"account/{account_id}", json=contact)).json())

    async def create_address(self, account_id: str, address: OpenCrxRecord) -> OpenCrxRecord:
        path = f"account/{account_id}/address"
        return dict((await self._api.post(path, json=address)).json())

    async def update_address(
        self, account_id: str, address_id: str, address: OpenCrxRecord
    ) -> OpenCrxRecord:
        path = f"account/{account_id}/address/{address_id}"
        return dict((await self._api.put(path, json=address)).json())

    async def aclose(self) -> None:
        await self._api.aclose()
