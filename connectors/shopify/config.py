"""Settings of a Shopify connection: which shop, which token, which API version."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator

from hub.model import Recommendations

__all__ = ["DEFAULT_API_VERSION", "METAFIELD_TARGETS", "ShopifyConfig"]

DEFAULT_API_VERSION = "2025-01"
"""A stable GraphQL Admin version with every field the connector uses (admin.graphql)."""

METAFIELD_TARGETS = frozenset(f"recommendations.{name}" for name in Recommendations.model_fields)
"""What a customer metafield can carry: the hub's recommendations, for the storefront."""
_METAFIELD = re.compile(r"^[A-Za-z0-9_-]{3,255}\.[A-Za-z0-9_-]{2,64}$")


class ShopifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop: str = Field(
        description="The shop's myshopify.com domain, e.g. acme.myshopify.com",
        pattern=r"^[a-z0-9][a-z0-9\-]*\.myshopify\.(com|io)$",
    )
    access_token: SecretStr = Field(
        description="Admin API access token (shpat_...), sent as X-Shopify-Access-Token"
    )
    api_version: str = Field(
        default=DEFAULT_API_VERSION,
        pattern=r"^\d{4}-(01|04|07|10)$",
        description="GraphQL Admin API version, YYYY-MM (Shopify releases quarterly)",
    )
    base_url: HttpUrl | None = Field(
        default=None,
        description="Where the Admin API is; https://<shop> when unset (set it for a sandbox)",
    )
    app_secret: SecretStr | None = Field(
        default=None,
        description="The app's client secret: verifies webhook signatures (X-Shopify-Hmac-Sha256)",
    )
    page_size: int = Field(
        default=100, ge=1, le=250, description="Customers per query page (1-250)"
    )
    orders_page_size: int = Field(
        default=20,
        ge=1,
        le=250,
        description="Orders per query page; with line_items it must keep a query under "
        "Shopify's 1000-point single-query limit",
    )
    line_items: int = Field(
        default=5, ge=1, le=250, description="Line items read per order in paged reads"
    )
    bulk_initial: bool = Field(
        default=True,
        description="Read the first sync of a stream through a bulk operation (one JSONL "
        "download instead of thousands of pages)",
    )
    bulk_poll: float = Field(
        default=2.0, gt=0, description="Seconds between checks of a running bulk operation"
    )
    overlap: float = Field(
        default=60.0,
        ge=0,
        description="Seconds an incremental read reaches back before the last change read, "
        "so records Shopify's search index shows late are not missed",
    )
    segment_tag_prefix: str = Field(
        default="crmhub-",
        description="Prefix of the customer tags that carry hub segments (segment_members)",
    )

    metafields: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Customer metafield (namespace.key) -> the canonical field it holds: "
            "recommendations.next_best_product, recommendations.up_sell or "
            "recommendations.affinity; written as single_line_text_field, deleted when empty "
            "(needs the write_customers scope only)"
        ),
    )

    @field_validator("metafields")
    @classmethod
    def _metafields(cls, value: dict[str, str]) -> dict[str, str]:
        for name, target in value.items():
            if not _METAFIELD.match(name):
                raise ValueError(
                    f"metafield {name!r} is not namespace.key (a namespace of 3-255 and a key "
                    "of 2-64 letters, digits, - or _)"
                )
            if target not in METAFIELD_TARGETS:
                raise ValueError(
                    f"metafield {name!r}: {target!r} is not one of {sorted(METAFIELD_TARGETS)}"
                )
        if len(set(value.values())) != len(value):
            raise ValueError("two metafields hold the same canonical field")
        return value

    @property
    def endpoint(self) -> str:
        """The GraphQL path, relative to :attr:`root`."""
        return f"/admin/api/{self.api_version}/graphql.json"

    @property
    def root(self) -> str:
        return str(self.base_url).rstrip("/") if self.base_url else f"https://{self.shop}"
