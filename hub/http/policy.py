"""What a failed response means for the run: the error-policy table.

Vendors signal the same things in different ways (Shopify GraphQL says
``THROTTLED`` inside an HTTP 200, Meta sends rate-limit error codes on a 400),
so a connector extends the shared table with its own status codes and vendor
error codes instead of writing its own retry logic. Each outcome becomes one of
the :mod:`hub.errors` classes the engine already knows how to handle.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

import httpx

from hub.errors import AuthError, ConfigError, CrmhubError, RecordError, RetriableError

__all__ = ["DEFAULT_POLICY", "Action", "ErrorPolicy", "Rule", "vendor_message"]


class Action(Enum):
    """What the engine does about a failed response; the classes of :mod:`hub.errors`."""

    RETRY = "retry"  # a passing fault of this one request: send it again
    BACKOFF = "backoff"  # the vendor asks the whole connection to slow down, then retry
    DEAD_LETTER = "dead_letter"  # this record is refused; park it, go on with the rest
    FATAL_AUTH = "fatal_auth"  # credentials refused: stop the run, a person must act
    FATAL_CONFIG = "fatal_config"  # the connection's settings are wrong: stop the run


@dataclass(frozen=True, slots=True)
class Rule:
    """An action plus, optionally, the fix to tell people (vendor-specific wording)."""

    action: Action
    hint: str | None = None


_HINTS = {
    Action.FATAL_AUTH: "check the credentials in this connection's config: the env var is set, "
    "the token is current and not revoked, and it grants the scopes this sync needs",
    Action.FATAL_CONFIG: "check this connection's settings (base URL, store or list id, API "
    "version) in the config",
    Action.DEAD_LETTER: "the record goes to dead letters; fix it at the source or in the hub, "
    "then run 'crmhub deadletters retry'",
    Action.RETRY: "the run resumes from its last checkpoint",
    Action.BACKOFF: "the vendor is throttling this connection; the run resumes from its last "
    "checkpoint",
}

_MAX_MESSAGE = 300


def vendor_message(response: httpx.Response) -> str | None:
    """The vendor's own words about an error, from the usual body shapes.

    Shopify ``errors`` (string, list or field map), Magento ``message`` with
    ``%1`` placeholders, SugarCRM ``error_message``, problem+json ``detail``,
    Meta/OAuth ``error``, GraphQL ``errors[].message``; else the start of the body.
    """
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text.strip()
        return text[:_MAX_MESSAGE] or None
    said = _message_in(body) if isinstance(body, dict) else None
    return said[:_MAX_MESSAGE] if said else None


def _message_in(body: dict[str, Any]) -> str | None:
    for key in ("error_message", "detail", "error_description"):
        if isinstance(body.get(key), str):
            return str(body[key])
    if isinstance(body.get("message"), str):
        return _fill_placeholders(body["message"], body.get("parameters"))
    for key in ("errors", "error"):
        if key in body:
            return _flatten(body[key])
    return None


def _flatten(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_flatten(item) for item in value)
    if isinstance(value, dict):
        if "message" in value:
            return str(value["message"])
        return "; ".join(f"{k} {_flatten(v)}" for k, v in value.items())
    return str(value)


def _fill_placeholders(message: str, parameters: Any) -> str:
    if isinstance(parameters, list):
        lookup = {str(i): str(p) for i, p in enumerate(parameters, start=1)}
    elif isinstance(parameters, dict):
        lookup = {str(k): str(v) for k, v in parameters.items()}
    else:
        return message
    return re.sub(r"%(\w+)", lambda m: lookup.get(m.group(1), m.group(0)), message)


CodeExtractor = Callable[[httpx.Response], str | None]
MessageExtractor = Callable[[httpx.Response], str | None]


def _no_code(response: httpx.Response) -> str | None:
    return None


def _read(extract: Callable[[httpx.Response], str | None], response: httpx.Response) -> str | None:
    """A connector's extractor, made safe: an error page it did not expect reads as nothing."""
    try:
        return extract(response)
    except (ValueError, LookupError, TypeError, AttributeError):
        return None


def _as_rule(entry: Action | Rule) -> Rule:
    return entry if isinstance(entry, Rule) else Rule(entry)


@dataclass(frozen=True)
class ErrorPolicy:
    """Status code and vendor error code -> :class:`Rule`; vendor codes win."""

    statuses: Mapping[int, Rule]
    codes: Mapping[str, Rule] = field(default_factory=dict)
    code_of: CodeExtractor = _no_code
    message_of: MessageExtractor = vendor_message

    def classify(self, response: httpx.Response) -> Rule | None:
        """The rule for ``response``, or None when it is a success to hand back."""
        code = _read(self.code_of, response)
        if code is not None and code in self.codes:
            return self.codes[code]
        status = response.status_code
        if status < 400:
            return None
        if status in self.statuses:
            return self.statuses[status]
        return Rule(Action.RETRY if status >= 500 else Action.DEAD_LETTER)

    def extend(
        self,
        statuses: Mapping[int, Action | Rule] | None = None,
        codes: Mapping[str, Action | Rule] | None = None,
        *,
        code_of: CodeExtractor | None = None,
        message_of: MessageExtractor | None = None,
    ) -> ErrorPolicy:
        """A new table with these entries added or replaced; this one is unchanged."""
        return replace(
            self,
            statuses={**self.statuses, **{k: _as_rule(v) for k, v in (statuses or {}).items()}},
            codes={**self.codes, **{k: _as_rule(v) for k, v in (codes or {}).items()}},
            code_of=code_of or self.code_of,
            message_of=message_of or self.message_of,
        )

    def error(
        self,
        rule: Rule,
        response: httpx.Response,
        *,
        connection: str,
        scrub: Callable[[str], str],
        retry_after: float | None = None,
    ) -> CrmhubError:
        """The :mod:`hub.errors` exception for ``response``, worded for people."""
        request = response.request
        said = _read(self.message_of, response)
        quoted = f": {said!r}" if said else ""
        text = scrub(
            f"crmhub: connection {connection!r}: {request.method} {request.url} "
            f"-> HTTP {response.status_code}{quoted}; {rule.hint or _HINTS[rule.action]}"
        )
        if rule.action is Action.FATAL_AUTH:
            return AuthError(text)
        if rule.action is Action.FATAL_CONFIG:
            return ConfigError(text)
        if rule.action is Action.DEAD_LETTER:
            return RecordError(text)
        return RetriableError(text, retry_after=retry_after)


DEFAULT_POLICY = ErrorPolicy(
    statuses={
        **dict.fromkeys((401, 403), Rule(Action.FATAL_AUTH)),
        **dict.fromkeys((400, 404, 409, 422), Rule(Action.DEAD_LETTER)),
        **dict.fromkeys((408, 425, 429), Rule(Action.BACKOFF)),
        **dict.fromkeys((500, 502, 503, 504), Rule(Action.RETRY)),
    }
)
