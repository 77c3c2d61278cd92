"""The ``service:`` section: how ``crmhub run`` and ``crmhub worker`` serve and pace themselves.

Both commands read the same section, so a deployment that grows from one
machine to several changes the command it starts, not its config.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, Self

from pydantic import Field, IPvAnyAddress, model_validator
from pydantic_core import PydanticCustomError

from hub.config.fields import ConfigModel, Duration

__all__ = ["ServiceConfig"]


class ServiceConfig(ConfigModel):
    """Settings of the long-running modes; the defaults suit one machine."""

    host: IPvAnyAddress = Field(
        "127.0.0.1",
        validate_default=True,
        description="Address the webhook endpoint listens on. The default accepts only "
        "this machine: put a TLS-terminating proxy in front, or write 0.0.0.0 knowingly.",
    )
    port: int = Field(
        8780, ge=0, le=65535, description="Port of the webhook endpoint (0: any free port)."
    )
    poll: Duration = Field(
        "2s",
        validate_default=True,
        description="How often the outbox and the webhook inbox are checked for work when "
        "nothing has woken them sooner.",
    )
    grace: Duration = Field(
        "30s",
        validate_default=True,
        description="On SIGTERM, how long the page in flight may take to finish before it "
        "is abandoned (its transaction rolls back; the next run repeats it).",
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="How crmhub run and crmhub worker write their log to stderr: text for "
        "people, or json, one object a line (time, level, logger, message, and the "
        "connection, stream and run_id it is about) for a log pipeline. --log-format on "
        "the command line overrides it.",
    )
    stall_after: Duration = Field(
        "2m",
        validate_default=True,
        description="crmhub worker: a job whose worker has sent no heartbeat for this long "
        "is taken to be dead and is retried by another worker.",
    )

    @model_validator(mode="after")
    def _positive(self) -> Self:
        for name in ("poll", "stall_after"):
            if getattr(self, name) <= timedelta(0):
                raise PydanticCustomError("duration", f"'{name}' must be longer than 0s")
        return self
