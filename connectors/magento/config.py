"""Settings of a Magento connection: the shop, its store view, the token and the write rules."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

__all__ = ["MagentoConfig"]


class MagentoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: HttpUrl = Field(description="Root URL of the shop; the API is under /rest/")
    access_token: SecretStr = Field(
        description="Integration access token (System > Integrations), sent as a Bearer token"
    )
    store_code: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Store view code in the path (/rest/{store_code}/V1); none: /rest/V1",
    )
    page_size: int = Field(default=100, ge=1, le=300, description="Records per page (1-300)")
    overlap_seconds: int = Field(
        default=60,
        ge=0,
        le=3600,
        description="Each sync re-reads this many seconds before the last change it saw, so a "
        "change saved late (a long transaction) is not missed; what it already read is dropped",
    )
    website_id: int = Field(default=1, ge=0, description="Website of customers the hub creates")
    group_id: int = Field(
        default=1, ge=0, description="Customer group of customers the hub creates"
    )
    stale_link: Literal["dead_letter", "recreate"] = Field(
        default="dead_letter",
        description="When a linked customer is gone in Magento (404): park the change in dead "
        "letters for review, or create the customer again",
    )
    unsubscribed_is_opt_out: bool = Field(
        default=True,
        description="Read is_subscribed=false as an opt-out that reaches every system; false: "
        "read it as 'never subscribed', so Magento never unsubscribes anyone elsewhere",
    )
