"""vTiger's webservice API over HTTP: one URL, an ``operation`` parameter, a session.

Signing in takes two calls: ``getchallenge`` gives a token, and ``login`` sends
``accessKey = md5(token + the user's access key)`` for a ``sessionName``. Every
later call carries that session. Sessions expire when idle, so a call refused
with ``INVALID_SESSIONID`` signs in again once and is repeated.

Every answer is HTTP 200 with ``{"success": true, "result": ...}`` or
``{"success": false, "error": {"code", "message"}}``. A false one is always an
error, whatever its code: the error policy below turns known codes into what
the engine must do and any other into a dead letter, so an error body can
never be taken for data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.vtiger.config import VtigerConfig
from connectors.vtiger.mapping import VtigerRecord
from hub.errors import AuthError, RecordError
from hub.http import DEFAULT_POLICY, Action, ApiClient, Clock, SecretAuth

__all__ = ["POLICY", "VtigerClient"]

ENDPOINT = "webservice.php"
_CODES: dict[str, Action] = {
    "INVALID_SESSIONID": Action.FATAL_AUTH,
    "AUTHENTICATION_REQUIRED": Action.FATAL_AUTH,
    "INVALID_AUTH_TOKEN": Action.FATAL_AUTH,
    "INVALID_USER_CREDENTIALS": Action.FATAL_AUTH,
    "INVALID_MODULE": Action.FATAL_CONFIG,
    "UNKNOWN_OPERATION": Action.FATAL_CONFIG,  # e.g. sync on an instance without it
    "ACCESS_DENIED": Action.FATAL_CONFIG,  # the user's profile lacks the operation
    "QUERY_SYNTAX_ERROR": Action.FATAL_CONFIG,
    "TOO_MANY_REQUESTS": Action.BACKOFF,
    "DATABASE_QUERY_ERROR": Action.RETRY,
}
_OTHER = "UNKNOWN_ERROR"


def _error_code(response: httpx.Response) -> str | None:
    body = response.json()
    if not isinstance(body, dict) or body.get("success") is not False:
        return None
    code = str((body.get("error") or {}).get("code") or "")
    return code if code in _CODES else _OTHER


POLICY = DEFAULT_POLICY.extend(codes={**_CODES, _OTHER: Action.DEAD_LETTER}, code_of=_error_code)


class _Session(SecretAuth):
    """Adds ``sessionName`` to every call once signed in; vTiger reads it from GET or POST."""

    def __init__(self, access_key: SecretStr) -> None:
        self.access_key = access_key
        self.name: SecretStr | None = None

    def secrets(self) -> Sequence[SecretStr]:
        return (self.access_key,) if self.name is None else (self.access_key, self.name)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.name is not None:
            session = {"sessionName": self.name.get_secret_value()}
            request.url = request.url.copy_merge_params(session)
        yield request


class VtigerClient:
    """One connection's client on ``webservice.php``."""

    def __init__(
        self,
        config: VtigerConfig,
        *,
        connection: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._config = config
        self._session = _Session(config.access_key)
        self.user_id: str | None = None
        """The signed-in user's id (``19x1``): new records are assigned to it."""
        self._api = ApiClient(
            f"{str(config.base_url).rstrip('/')}/",
            connection=connection,
            auth=self._session,
            policy=POLICY,
            clock=clock,
            transport=transport,
            redact_params=["sessionName", "accessKey"],
        )

    async def sync(self, module: str, since: int) -> dict[str, Any]:
        """Records of ``module`` changed or deleted after ``since`` (Unix seconds).

        The result holds ``updated`` (records), ``deleted`` (ids),
        ``lastModifiedTime`` (where the next call starts) and ``more``.
        """
        params = {"operation": "sync", "elementType": module, "modifiedTime": since}
        return dict(await self._call("GET", params))

    async def query(self, statement: str) -> list[VtigerRecord]:
        return list(await self._call("GET", {"operation": "query", "query": statement}))

    async def create(self, module: str, element: VtigerRecord) -> VtigerRecord:
        if self.user_id is None:
            await self._login()
        element = {"assigned_user_id": self.user_id, **element}
        fields = {"operation": "create", "elementType": module, "element": json.dumps(element)}
        return dict(await self._call("POST", fields))

    async def revise(self, element: VtigerRecord) -> VtigerRecord:
        """Update only the fields in ``element`` (with its ``id``); safe to resend."""
        fields = {"operation": "revise", "element": json.dumps(element)}
        return dict(await self._call("POST", fields, safe_to_retry=True))

    async def delete(self, record_id: str) -> None:
        await self._call("POST", {"operation": "delete", "id": record_id}, safe_to_retry=True)

    async def aclose(self) -> None:
        await self._api.aclose()

    async def _call(
        self, method: str, fields: dict[str, Any], *, safe_to_retry: bool = False
    ) -> Any:
        if self._session.name is None:
            await self._login()
        try:
            return await self._send(method, fields, safe_to_retry=safe_to_retry)
        except AuthError:
            await self._login()  # the session expired or was ended: sign in again, once
            return await self._send(method, fields, safe_to_retry=safe_to_retry)

    async def _login(self) -> None:
        self._session.name = None
        username = self._config.username
        challenge = await self._send("GET", {"operation": "getchallenge", "username": username})
        key = str(challenge["token"]) + self._config.access_key.get_secret_value()
        login = {
            "operation": "login",
            "username": username,
            "accessKey": hashlib.md5(key.encode()).hexdigest(),
        }
        result = await self._send("POST", login, safe_to_retry=True)
        self._session.name = SecretStr(str(result["sessionName"]))
        self.user_id = str(result["userId"])

    async def _send(
        self, method: str, fields: dict[str, Any], *, safe_to_retry: bool = False
    ) -> Any:
        if method == "GET":
            response = await self._api.get(ENDPOINT, params=fields)
        else:
            response = await self._api.post(ENDPOINT, data=fields, safe_to_retry=safe_to_retry)
        body = response.json()
        if not isinstance(body, dict) or body.get("success") is not True or "result" not in body:
            raise RecordError(
                f"crmhub: connection {self._api.connection!r}: {fields['operation']} answered "
                f"without success or result: {response.text[:200]!r}"
            )
        return body["result"]
