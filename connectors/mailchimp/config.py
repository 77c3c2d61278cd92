"""Settings of a Mailchimp connection: which account, which audience, how fields map.

Mailchimp serves each account from one data centre, named by the suffix of its
API key (``...-us6`` is served at ``https://us6.api.mailchimp.com/3.0/``).
OAuth tokens carry no suffix, so with a token the data centre (``server``) or
the ``base_url`` must be given. ``base_url`` also points a connection at the
sandbox.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, model_validator

from hub.model import Recommendations

__all__ = [
    "DEFAULT_MERGE_FIELDS",
    "MERGE_TARGETS",
    "RECOMMENDATION_TARGETS",
    "MailchimpConfig",
    "is_merge_target",
]

MERGE_TARGETS = frozenset(
    {"first_name", "last_name", "phone", "birth_date", "birthday", "address", "note"}
)
"""Canonical fields a merge field can hold; ``attribute:NAME`` names a custom attribute.

``birth_date`` needs a merge field of type date (``YYYY-MM-DD``). ``birthday``
is Mailchimp's own birthday type (``MM/DD``, no year): written from the
birth date, read into the attribute ``birthday``, since a month and day
cannot make a birth date."""

DEFAULT_MERGE_FIELDS = {
    "FNAME": "first_name",
    "LNAME": "last_name",
    "PHONE": "phone",
    "BIRTHDAY": "birthday",
    "ADDRESS": "address",
}
"""The merge fields every new Mailchimp audience has (BIRTHDAY of type birthday), and what
each holds."""

_SERVER = re.compile(r"^[a-z]{2}\d{1,3}$")
_TAG = re.compile(r"^[A-Z0-9_]{1,10}$")


RECOMMENDATION_TARGETS = frozenset(
    f"recommendations.{name}" for name in Recommendations.model_fields
)
"""The hub's recommendations (next_best_product, up_sell, affinity), for one-to-one content."""


def is_merge_target(target: str) -> bool:
    return (
        target in MERGE_TARGETS
        or target in RECOMMENDATION_TARGETS
        or (target.startswith("attribute:") and bool(target.removeprefix("attribute:")))
    )


class MailchimpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    list_id: str = Field(min_length=1, description="Audience (list) id, from Audience settings")
    api_key: SecretStr | None = Field(
        default=None,
        description="API key (ends in the data centre, e.g. -us6); sent with HTTP Basic auth",
    )
    access_token: SecretStr | None = Field(
        default=None, description="OAuth 2 access token, sent as a Bearer token (instead of a key)"
    )
    server: str | None = Field(
        default=None,
        description="Data centre such as us6; taken from the API key when omitted",
    )
    base_url: HttpUrl | None = Field(
        default=None,
        description="API root; https://{server}.api.mailchimp.com/3.0/ when omitted (sandbox)",
    )
    page_size: int = Field(
        default=500, ge=1, le=1000, description="Records per request (count, 1-1000)"
    )
    merge_fields: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_MERGE_FIELDS),
        description=(
            "Merge tag -> canonical field (first_name, last_name, phone, birth_date, birthday, "
            "address, note, attribute:NAME, recommendations.next_best_product, "
            "recommendations.up_sell, recommendations.affinity). birth_date needs a merge field "
            "of type date (YYYY-MM-DD); birthday is Mailchimp's birthday type (MM/DD), read into "
            "the attribute birthday"
        ),
    )
    without_consent: Literal["transactional", "skip"] = Field(
        default="transactional",
        description=(
            "A new person without recorded e-mail consent: added as a transactional "
            "(non-marketing) contact, or not added at all"
        ),
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Token in the webhook URL (/webhooks/CONNECTION/TOKEN); Mailchimp signs nothing, "
            "so this is what proves a delivery came from the URL you gave it"
        ),
    )
    segments_as: Literal["tags", "static_segments"] = Field(
        default="tags",
        description=(
            "How a hub segment reaches the audience (stream segment_members): a member tag "
            "named after it, or a static segment of that name the connector creates and fills"
        ),
    )
    batch_threshold: int = Field(
        default=200,
        ge=1,
        description="Pushes of more members than this go through POST /batches",
    )
    batch_poll_seconds: float = Field(
        default=2.0, gt=0, le=300, description="Wait between checks of a running batch"
    )
    batch_timeout_seconds: float = Field(
        default=1800, gt=0, description="Give up on a batch that has not finished after this long"
    )

    @model_validator(mode="after")
    def _credentials_and_server(self) -> MailchimpConfig:
        if (self.api_key is None) == (self.access_token is None):
            raise ValueError("give exactly one of api_key and access_token")
        if self.server is not None and not _SERVER.match(self.server):
            raise ValueError(f"server {self.server!r} is not a data centre such as 'us6'")
        if self.base_url is None and self.data_centre is None:
            raise ValueError(
                "the API key has no data centre suffix (such as -us6) and no server is given; "
                "set server (needed with an access_token) or base_url"
            )
        for tag, target in self.merge_fields.items():
            if not _TAG.match(tag):
                raise ValueError(f"merge field {tag!r} is not a merge tag (A-Z, 0-9, _; max 10)")
            if not is_merge_target(target):
                raise ValueError(
                    f"merge field {tag!r}: {target!r} is not one of "
                    f"{sorted(MERGE_TARGETS | RECOMMENDATION_TARGETS)} or attribute:NAME"
                )
        held = [t for t in self.merge_fields.values() if not t.startswith("attribute:")]
        if len(held) != len(set(held)):
            raise ValueError("two merge fields hold the same canonical field")
        return self

    @property
    def data_centre(self) -> str | None:
        if self.server:
            return self.server
        if self.api_key is None:
            return None
        _, _, suffix = self.api_key.get_secret_value().rpartition("-")
        return suffix if _SERVER.match(suffix) else None

    @property
    def root(self) -> str:
        """The API root every path is relative to, with a trailing slash."""
        if self.base_url is not None:
            return str(self.base_url).rstrip("/") + "/"
        return f"https://{self.data_centre}.api.mailchimp.com/3.0/"
