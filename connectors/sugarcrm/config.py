"""Settings of a SugarCRM connection: the instance, the REST version and the OAuth2 client."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator

from connectors.sugarcrm.custom import CUSTOM_TARGETS

__all__ = ["SugarConfig"]


class SugarConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: HttpUrl = Field(
        description="Root URL of the Sugar instance, e.g. https://acme.sugarondemand.com"
    )
    api_version: str = Field(
        default="v11",
        pattern=r"^v1[01](_\d+)?$",
        description="REST API version in the path (/rest/<version>/), e.g. v11 or v11_20",
    )
    username: str = Field(description="Sugar user the hub signs in as (an API user)")
    password: SecretStr = Field(description="That user's password")
    client_id: str = Field(default="sugar", description="OAuth2 client (OAuth Keys in Admin)")
    client_secret: SecretStr = Field(
        default=SecretStr(""), description="OAuth2 client secret; empty for the default client"
    )
    platform: str = Field(
        default="crmhub",
        description="Platform name sent at login; a platform of its own keeps the hub's "
        "session from logging the user out of the web UI (allow it in Admin > Platforms)",
    )
    page_size: int = Field(
        default=100, ge=1, le=1000, description="Records per filter request (max_num)"
    )
    custom_fields: dict[str, str] = Field(
        default_factory=dict,
        description="Contact custom field (made in Studio, ends in _c) -> the hub field it "
        "shows: recommendations.next_best_product, recommendations.up_sell or "
        "recommendations.affinity, e.g. {crmhub_next_product_c: "
        "recommendations.next_best_product}",
    )
    upsert_by_sync_key: bool = Field(
        default=True,
        description="Create contacts with PATCH /Contacts/sync_key/<hub id> (Sugar 11.2+); "
        "false looks the e-mail up with a filter, then creates or updates",
    )

    @field_validator("custom_fields")
    @classmethod
    def _custom_fields(cls, value: dict[str, str]) -> dict[str, str]:
        for field, target in value.items():
            if not field.endswith("_c"):
                raise ValueError(f"custom field {field!r}: Sugar's custom fields end in _c")
            if target not in CUSTOM_TARGETS:
                raise ValueError(
                    f"custom field {field!r}: {target!r} is not one of {sorted(CUSTOM_TARGETS)}"
                )
        return value
