"""Settings of an OroCRM connection: the application URL and its OAuth2 client."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

__all__ = ["OroConfig"]


class OroConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: HttpUrl = Field(description="Application URL; the API is under /api/")
    client_id: str = Field(
        min_length=1, description="OAuth application client id (System > User Management > OAuth)"
    )
    client_secret: SecretStr = Field(description="OAuth application client secret")
    page_size: int = Field(default=100, ge=1, le=1000, description="Records per page (1-1000)")
    stale_link: Literal["dead_letter", "recreate"] = Field(
        default="dead_letter",
        description="When a linked contact is gone in Oro: park the change in dead letters for "
        "review, or create the contact again",
    )
