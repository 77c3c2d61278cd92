"""Settings of an OroCRM connection: the application URL and its OAuth2 client."""

from __future__ import annotations

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
