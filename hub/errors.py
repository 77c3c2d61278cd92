"""Errors grouped by what the runner must do with them.

A connector raises one of these and the engine decides: stop the run and tell
the integrator (config, auth), try again later (retriable), or park one record
in dead letters and go on (record). Messages are for people: they name the
thing, quote the bad value and end with what to do. They never carry secrets.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "CrmhubError",
    "PluginError",
    "RecordError",
    "RetriableError",
    "WebhookRejected",
]


class CrmhubError(Exception):
    """Base of every error crmhub reports to a person instead of a traceback."""

    exit_code = 1


class ConfigError(CrmhubError):
    """The configuration is wrong; nothing was read or written. Exit code 2."""

    exit_code = 2


class PluginError(CrmhubError):
    """A plugin breaks the contract (duplicate name, bad hook result)."""


class AuthError(CrmhubError):
    """The vendor refused our credentials: fatal for the run, fix the config."""


class RetriableError(CrmhubError):
    """A passing fault (outage, throttling): the run is retried and resumes."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RecordError(CrmhubError):
    """One record cannot be mapped, validated or written: it goes to dead letters."""

    def __init__(self, message: str, *, external_id: str | None = None) -> None:
        super().__init__(message)
        self.external_id = external_id


class WebhookRejected(CrmhubError):
    """A webhook call failed verification (bad signature or token): answer 401, store nothing."""
