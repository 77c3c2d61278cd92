"""Settings of a Meta connection: Graph API version, system-user token, forms, ad account."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

from hub.model import Channel

__all__ = ["MetaConfig"]

Level = Literal["campaign", "adset"]


class MetaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: HttpUrl = Field(
        default=HttpUrl("https://graph.facebook.com"), description="Graph API host"
    )
    api_version: str = Field(
        default="v21.0",
        pattern=r"^v\d+\.0$",
        description="Graph API version, pinned so that a Meta release never changes a sync",
    )
    access_token: SecretStr = Field(
        description="System-user access token (leads_retrieval, ads_management, ads_read)"
    )
    app_secret: SecretStr | None = Field(
        default=None, description="App secret: verifies X-Hub-Signature-256 on leadgen webhooks"
    )
    verify_token: SecretStr | None = Field(
        default=None, description="The token you typed in the app's webhook subscription"
    )
    form_ids: list[str] = Field(
        default_factory=list, description="Lead form ids whose leads are read"
    )
    ad_account_id: str | None = Field(
        default=None,
        pattern=r"^\d+$",
        description="Ad account id without 'act_': insights in, custom audiences out",
    )
    consent: dict[str, Channel] = Field(
        default_factory=dict,
        description="Lead form consent checkbox or question key -> the channel it consents to",
    )
    audiences: dict[str, str] = Field(
        default_factory=dict,
        description="Hub segment -> custom audience id; a segment without one gets an "
        "audience named 'crmhub: <segment>', found or created in the ad account",
    )
    customer_file_source: Literal[
        "USER_PROVIDED_ONLY", "PARTNER_PROVIDED_ONLY", "BOTH_USER_AND_PARTNER_PROVIDED"
    ] = Field(
        default="USER_PROVIDED_ONLY",
        description="Where the customer list came from, as Meta's terms require it declared",
    )
    insights_levels: list[Level] = Field(
        default_factory=lambda: list[Level](["campaign"]),
        description="Reporting levels read into campaigns",
    )
    page_size: int = Field(default=100, ge=1, le=500, description="Records per page (1-500)")
