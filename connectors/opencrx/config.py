"""Settings of an openCRX connection: the server, the provider and segment, the user."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

__all__ = ["OpenCrxConfig"]


class OpenCrxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: HttpUrl = Field(
        description="Root URL of the openCRX server, e.g. https://crm.acme.example"
    )
    provider: str = Field(default="CRX", pattern=r"^\w+$", description="openCRX provider name")
    segment: str = Field(default="Standard", pattern=r"^\w+$", description="Data segment")
    username: str = Field(description="openCRX user the hub signs in as (HTTP Basic)")
    password: SecretStr = Field(description="That user's password")
    page_size: int = Field(default=100, ge=1, le=500, description="Accounts per request (size)")
