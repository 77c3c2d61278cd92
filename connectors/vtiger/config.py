"""Settings of a vTiger connection: the instance, the user and its access key."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

__all__ = ["VtigerConfig"]


class VtigerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: HttpUrl = Field(
        description="Root URL of the vTiger instance; the API is <base_url>/webservice.php"
    )
    username: str = Field(description="vTiger user the hub signs in as")
    access_key: SecretStr = Field(
        description="That user's access key (My Preferences > Access Key), not the password"
    )
    read_with: Literal["sync", "query"] = Field(
        default="sync",
        description="sync: the incremental sync operation (sees deletions); query: "
        "SELECT ... ORDER BY modifiedtime LIMIT paging, for instances where sync is disabled",
    )
    page_size: int = Field(
        default=100, ge=1, le=100, description="Rows per query when read_with is query (max 100)"
    )
