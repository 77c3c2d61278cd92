"""Keep credentials out of every string the HTTP layer lets go of.

Logs, exception messages, dead-letter entries and saved paging cursors all end
up somewhere people read or the store keeps. Two nets catch secrets there: by
*name* (headers such as Authorization, query parameters such as access_token=,
which also hides tokens we do not hold, like one a vendor echoes in a next-page
link) and by *value* (whatever secrets the connection holds, also URL-encoded,
wherever they show up, e.g. quoted back in a vendor's error message).

httpx logs every request URL at INFO itself; a filter on its logger runs the
same scrubbing, so a token sent in a query string does not leak through it.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote, quote_plus

import httpx
from pydantic import SecretStr

__all__ = ["MASK", "SECRET_HEADERS", "SECRET_PARAMS", "Redactor", "strip_params"]

MASK = "***"
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-shopify-access-token",
        "oauth-token",
        "x-api-key",
        "api-key",
    }
)
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "refresh_token",
        "apikey",
        "api_key",
        "key",
        "token",
        "client_secret",
        "password",
        "appsecret_proof",
    }
)
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary text and protect nothing

SecretSource = Callable[[], Iterable[SecretStr]]


class Redactor:
    """Masks the secrets of one connection; extend the name lists per vendor."""

    def __init__(
        self,
        secrets: SecretSource = tuple,
        *,
        headers: Iterable[str] = SECRET_HEADERS,
        params: Iterable[str] = SECRET_PARAMS,
    ) -> None:
        self._secrets = secrets
        self.header_names = frozenset(name.lower() for name in headers)
        self.param_names = frozenset(name.lower() for name in params)
        names = "|".join(sorted(map(re.escape, self.param_names)))
        self._param_pattern = re.compile(rf"(?i)([?&;](?:{names})=)[^&#\s\"'<>]*")
        _LIVE.add(self)

    def extend(self, *, headers: Iterable[str] = (), params: Iterable[str] = ()) -> Redactor:
        """A redactor that also masks these header and query-parameter names."""
        return Redactor(
            self._secrets,
            headers=self.header_names | {name.lower() for name in headers},
            params=self.param_names | {name.lower() for name in params},
        )

    def scrub(self, text: str) -> str:
        """``text`` with secret query parameters and every known secret value masked."""
        text = self._param_pattern.sub(rf"\g<1>{MASK}", text)
        values = {secret.get_secret_value() for secret in self._secrets()}
        forms = {form for v in values for form in (v, quote(v, safe=""), quote_plus(v))}
        for form in sorted(forms, key=len, reverse=True):  # a secret inside another: longest first
            if len(form) >= _MIN_SECRET_LENGTH:
                text = text.replace(form, MASK)
        return text

    def url(self, url: httpx.URL | str) -> str:
        return self.scrub(str(url))

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            name: MASK if name.lower() in self.header_names else self.scrub(value)
            for name, value in headers.items()
        }

    def strip_params(self, url: str) -> str:
        return strip_params(url, self.param_names)


def strip_params(url: str, names: Iterable[str] = SECRET_PARAMS) -> str:
    """``url`` without secret query parameters, for cursors that get stored.

    Auth is injected again on every request, so dropping them loses nothing.
    """
    secret = {name.lower() for name in names}
    parsed = httpx.URL(url)
    params = parsed.params
    for name in set(params.keys()):
        if name.lower() in secret:
            params = params.remove(name)
    return str(parsed.copy_with(params=params))


_LIVE: weakref.WeakSet[Redactor] = weakref.WeakSet()
_BY_NAME = Redactor()  # masks secret parameters in httpx's lines even when no client is alive


class _ScrubHttpxLog(logging.Filter):
    """Rewrites httpx's own request log lines through every live redactor."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for redactor in list(_LIVE):
            message = redactor.scrub(message)
        record.msg, record.args = message, None
        return True


logging.getLogger("httpx").addFilter(_ScrubHttpxLog())
