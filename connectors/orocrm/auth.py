"""OAuth2 client credentials for Oro: a token from /oauth2-token, renewed when it expires.

The token request is made inside the httpx auth flow, so every API request
of the connection (and its retries) carries a current token without the
connector asking: before the token's ``expires_in`` runs out (less a margin)
it is renewed, and a 401 from the API (revoked, or expired early) renews it
once and resends the request.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence

import httpx
from pydantic import SecretStr

from hub.errors import AuthError, RetriableError
from hub.http import Clock, SecretAuth

__all__ = ["ClientCredentials"]

_MARGIN = 60.0


class ClientCredentials(SecretAuth):
    requires_response_body = True

    def __init__(
        self, token_url: str, client_id: str, client_secret: SecretStr, *, clock: Clock
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self._clock = clock
        self._token: SecretStr | None = None
        self._expires = 0.0

    def secrets(self) -> Sequence[SecretStr]:
        return (self._secret, *([self._token] if self._token else []))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or self._clock.monotonic() >= self._expires - _MARGIN:
            self._take((yield self._token_request()))
        response = yield self._signed(request)
        if response.status_code == 401:
            self._take((yield self._token_request()))
            yield self._signed(request)

    def _signed(self, request: httpx.Request) -> httpx.Request:
        assert self._token is not None
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        return request

    def _token_request(self) -> httpx.Request:
        body = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret.get_secret_value(),
        }
        return httpx.Request("POST", self.token_url, json=body)

    def _take(self, response: httpx.Response) -> None:
        if response.status_code == 429 or response.status_code >= 500:
            raise RetriableError(
                f"crmhub: Oro's token endpoint {self.token_url} answered HTTP "
                f"{response.status_code}; the run resumes from its last checkpoint"
            )
        if response.status_code != 200:
            try:
                said = response.json().get("error_description") or response.json().get("error")
            except ValueError:
                said = response.text[:200]
            raise AuthError(
                f"crmhub: Oro refused the OAuth client {self.client_id!r} at {self.token_url} "
                f"(HTTP {response.status_code}: {said}); check client_id and client_secret, "
                "and that the OAuth application uses the client credentials grant"
            )
        token = response.json()
        self._token = SecretStr(str(token["access_token"]))
        self._expires = self._clock.monotonic() + float(token.get("expires_in") or 3600)
