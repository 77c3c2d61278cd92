"""Settings of an example connection: where the API is and which token to send."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

__all__ = ["ExampleConfig"]


class ExampleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: HttpUrl = Field(description="Root URL of the example API")
    api_token: SecretStr = Field(description="API token, sent as a Bearer token")
    page_size: int = Field(default=100, ge=1, le=100, description="Contacts per page (1-100)")
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Secret the API signs webhook deliveries with (X-Example-Signature); "
        "without it the connection refuses every delivery",
    )
