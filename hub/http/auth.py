"""Credential injection that reads the secret only while a request is built.

Secrets live as pydantic ``SecretStr`` from the config until the last moment, so
a repr, a log line or a validation error of the config never shows them. Each
auth also reports the secrets it holds, so the connection's :class:`Redactor`
can mask them wherever they turn up (vendor error bodies quote keys back).
Connectors with refreshing tokens (OAuth) subclass :class:`SecretAuth` and
return the current tokens from :meth:`SecretAuth.secrets`.
"""

from __future__ import annotations

import base64
from collections.abc import Generator, Sequence

import httpx
from pydantic import SecretStr

__all__ = ["BasicAuth", "HeaderAuth", "QueryAuth", "SecretAuth", "bearer"]


class SecretAuth(httpx.Auth):
    """An ``httpx.Auth`` that can name the secrets it sends."""

    def secrets(self) -> Sequence[SecretStr]:
        raise NotImplementedError


class HeaderAuth(SecretAuth):
    """The secret in one header, e.g. ``X-Shopify-Access-Token`` or ``OAuth-Token``."""

    def __init__(self, header: str, secret: SecretStr, *, prefix: str = "") -> None:
        self.header = header
        self.prefix = prefix
        self._secret = secret

    def secrets(self) -> Sequence[SecretStr]:
        return (self._secret,)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self.prefix + self._secret.get_secret_value()
        yield request


def bearer(token: SecretStr) -> HeaderAuth:
    """``Authorization: Bearer <token>`` (Magento admin tokens, OAuth access tokens)."""
    return HeaderAuth("Authorization", token, prefix="Bearer ")


class BasicAuth(SecretAuth):
    """HTTP Basic; Mailchimp takes any user name with the API key as password."""

    def __init__(self, username: str, password: SecretStr) -> None:
        self.username = username
        self._password = password

    def secrets(self) -> Sequence[SecretStr]:
        pair = f"{self.username}:{self._password.get_secret_value()}"
        encoded = base64.b64encode(pair.encode()).decode()
        return (self._password, SecretStr(encoded))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Basic " + self.secrets()[1].get_secret_value()
        yield request


class QueryAuth(SecretAuth):
    """The secret as a query parameter (Meta's ``access_token``), added per request.

    Only the sent request carries it: the URL a connector builds, and any cursor
    stored from it, stays clean.
    """

    def __init__(self, param: str, secret: SecretStr) -> None:
        self.param = param
        self._secret = secret

    def secrets(self) -> Sequence[SecretStr]:
        return (self._secret,)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.url = request.url.copy_merge_params({self.param: self._secret.get_secret_value()})
        yield request
