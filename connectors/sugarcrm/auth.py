"""Sugar's OAuth2 session: a password grant, then refresh-token grants as tokens expire.

Every call carries ``OAuth-Token: <access token>``. The token is renewed before
it runs out (``expires_in``, with a margin) and again whenever Sugar refuses it
with 401, since admins can revoke sessions and a clock can drift. A refresh
token Sugar no longer honours falls back to a fresh password grant. Only when
that fails too does the call end, with the token endpoint's answer, so the
error the engine reports names the real cause (a wrong password, a disabled
platform).

The renewal runs inside the request's auth flow, on the same transport, so
every caller gets it without wrapping its calls; retries and the error
policy stay the ApiClient's. A connection makes its calls one at a time: Sugar
keeps one session per user and platform, so parallel renewals would end each
other's sessions.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.sugarcrm.config import SugarConfig
from hub.http import Clock, SecretAuth

__all__ = ["SugarSession"]

_MARGIN = 60.0
"""Seconds before expiry at which a token counts as spent."""
_REFUSED = frozenset({"invalid_grant", "need_login"})


@dataclass(frozen=True, slots=True)
class _Tokens:
    access: SecretStr
    refresh: SecretStr | None
    expires_at: float


class SugarSession(SecretAuth):
    """OAuth2 tokens of one connection, renewed on the way."""

    def __init__(self, config: SugarConfig, token_url: str, clock: Clock) -> None:
        self._config = config
        self._token_url = token_url
        self._clock = clock
        self._tokens: _Tokens | None = None

    def secrets(self) -> Sequence[SecretStr]:
        held = [self._config.password, self._config.client_secret]
        if self._tokens is not None:
            held.append(self._tokens.access)
            if self._tokens.refresh is not None:
                held.append(self._tokens.refresh)
        return [secret for secret in held if secret.get_secret_value()]

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        for renewing in (self._spent(), True):
            if renewing:
                for grant in self._grants():
                    answer = yield httpx.Request("POST", self._token_url, json=grant)
                    await answer.aread()
                    if answer.status_code == 200:
                        self._keep(answer.json())
                        break
                else:
                    return  # the token endpoint's refusal is the answer the caller gets
            request.headers["OAuth-Token"] = self._access()
            response = yield request
            await response.aread()
            if response.status_code != 401 or _code(response) not in _REFUSED:
                return

    def _spent(self) -> bool:
        tokens = self._tokens
        return tokens is None or self._clock.time() >= tokens.expires_at - _MARGIN

    def _grants(self) -> list[dict[str, str]]:
        """A refresh when there is a refresh token, then the password grant."""
        client = {
            "client_id": self._config.client_id,
            "client_secret": self._config.client_secret.get_secret_value(),
        }
        grants = []
        if self._tokens is not None and self._tokens.refresh is not None:
            refresh = self._tokens.refresh.get_secret_value()
            grants.append({"grant_type": "refresh_token", "refresh_token": refresh, **client})
        grants.append(
            {
                "grant_type": "password",
                "username": self._config.username,
                "password": self._config.password.get_secret_value(),
                "platform": self._config.platform,
                **client,
            }
        )
        return grants

    def _keep(self, body: Any) -> None:
        refresh = body.get("refresh_token")
        self._tokens = _Tokens(
            access=SecretStr(str(body["access_token"])),
            refresh=SecretStr(str(refresh)) if refresh else None,
            expires_at=self._clock.time() + float(body.get("expires_in") or 0),
        )

    def _access(self) -> str:
        assert self._tokens is not None, "a token is fetched before the first call"
        return self._tokens.access.get_secret_value()


def _code(response: httpx.Response) -> str | None:
    try:
        body: Any = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None
