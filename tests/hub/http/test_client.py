from __future__ import annotations

import itertools
import json
from collections.abc import Callable, MutableMapping
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hub.errors import AuthError, RetriableError
from hub.http import (
    ApiClient,
    BasicAuth,
    HeaderAuth,
    LeakyBucket,
    QueryAuth,
    Redactor,
    RetrySettings,
    VirtualClock,
    bearer,
)

pytestmark = pytest.mark.anyio
MakeClient = Callable[..., ApiClient]
SECRET = "shpat_0123456789abcdefSECRET"


def echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "url": str(request.url),
            "headers": dict(request.headers),
            "body": request.content.decode(),
            "timeout": request.extensions.get("timeout"),
        },
    )


async def test_request_reaches_the_vendor_as_asked(make_client: MakeClient) -> None:
    client = make_client(echo, headers={"X-Shopify-Api-Features": "x"})
    response = await client.post(
        "customers.json", params={"limit": 250}, json={"customer": {"email": "a@b.c"}}
    )
    seen = response.json()
    assert seen["url"] == "https://shop.example/admin/api/2024-01/customers.json?limit=250"
    assert json.loads(seen["body"]) == {"customer": {"email": "a@b.c"}}
    assert seen["headers"]["accept"] == "application/json"
    assert seen["headers"]["x-shopify-api-features"] == "x"


async def test_default_and_custom_timeouts(make_client: MakeClient) -> None:
    default = (await make_client(echo).get("x")).json()["timeout"]
    assert default == {"connect": 10.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    custom = (await make_client(echo, timeout=5).get("x")).json()["timeout"]
    assert custom == {"connect": 5, "read": 5, "write": 5, "pool": 5}


@pytest.mark.parametrize(
    ("auth", "header", "value"),
    [
        (HeaderAuth("X-Shopify-Access-Token", SecretStr(SECRET)), "x-shopify-access-token", SECRET),
        (bearer(SecretStr(SECRET)), "authorization", f"Bearer {SECRET}"),
        (
            BasicAuth("anystring", SecretStr(SECRET)),
            "authorization",
            "Basic YW55c3RyaW5nOnNocGF0XzAxMjM0NTY3ODlhYmNkZWZTRUNSRVQ=",
        ),
    ],
)
async def test_credentials_are_injected_per_request(
    make_client: MakeClient, auth: httpx.Auth, header: str, value: str
) -> None:
    seen = (await make_client(echo, auth=auth).get("shop.json")).json()
    assert seen["headers"][header] == value


async def test_query_auth_adds_the_token_to_the_sent_request_only(make_client: MakeClient) -> None:
    client = make_client(echo, auth=QueryAuth("access_token", SecretStr(SECRET)))
    response = await client.get("me", params={"fields": "id"})
    assert response.json()["url"].endswith(f"me?fields=id&access_token={SECRET}")


async def test_a_secret_never_shows_in_logs_or_errors(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Success, refused credentials (echoed back by the vendor), 5xx retries, network failure."""
    sent: list[str] = []
    script = itertools.chain(["ok", "401", "500", "500", "500"], itertools.repeat("connect"))

    def vendor(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["authorization"] + str(request.url))
        step = next(script)
        if step == "connect":
            raise httpx.ConnectError(f"cannot reach {request.url}")
        if step == "401":
            return httpx.Response(401, json={"errors": f"[API] Invalid token {SECRET}"})
        if step == "500":
            return httpx.Response(500, text=f"upstream failed for access_token={SECRET}")
        return httpx.Response(200, json={"customers": []})

    client = make_client(
        vendor,
        auth=bearer(SecretStr(SECRET)),
        secrets=[SecretStr("second-secret-value")],
        retry=RetrySettings(max_attempts=3),
    )
    url = f"customers.json?access_token={SECRET}&note=second-secret-value"
    errors: list[Exception] = []
    with caplog.at_level("DEBUG"):
        await client.get(url)
        for _ in range(3):
            try:
                await client.get(url)
            except (AuthError, RetriableError) as error:
                errors.append(error)

    assert all(SECRET in request for request in sent)  # the vendor did get the credentials
    assert len(errors) == 3 and isinstance(errors[0], AuthError)
    assert all(isinstance(error, RetriableError) for error in errors[1:])
    assert "HTTP Request: GET" in caplog.text  # httpx's own line was captured...
    assert "-> 500" in caplog.text and "retry 2 of 2" in caplog.text  # ...and ours
    everything = caplog.text + "".join(f"{e!s}{e!r}{e.args}" for e in errors)
    assert SECRET not in everything
    assert "second-secret-value" not in everything
    assert "***" in everything


async def test_auth_error_message_is_plain(make_client: MakeClient) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"errors": "[API] Invalid API key or access token"})

    client = make_client(refuse, auth=HeaderAuth("X-Shopify-Access-Token", SecretStr(SECRET)))
    with pytest.raises(AuthError) as caught:
        await client.get("shop.json")
    assert str(caught.value) == (
        "crmhub: connection 'shop': GET https://shop.example/admin/api/2024-01/shop.json -> "
        "HTTP 401: '[API] Invalid API key or access token'; check the credentials in this "
        "connection's config: the env var is set, the token is current and not revoked, and it "
        "grants the scopes this sync needs"
    )


async def test_redaction_lists_are_extensible(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(echo, redact_headers=["X-Vendor-Key"], redact_params=["sig"])
    with caplog.at_level("DEBUG", logger="crmhub.http"):
        await client.get("x", params={"sig": "abcdef"}, headers={"X-Vendor-Key": "k-123456"})
    assert "sig=***" in caplog.text and "'X-Vendor-Key': '***'" in caplog.text.replace(
        "x-vendor-key", "X-Vendor-Key"
    )
    assert "abcdef" not in caplog.text and "k-123456" not in caplog.text


def test_redactor_masks_by_name_and_by_value() -> None:
    redactor = Redactor(lambda: [SecretStr("p@ss word/1")])
    text = "GET /x?apikey=zzz&limit=2 said p@ss word/1 or p%40ss%20word%2F1 or p%40ss+word%2F1"
    assert redactor.scrub(text) == "GET /x?apikey=***&limit=2 said *** or *** or ***"
    assert redactor.headers({"OAuth-Token": "t", "Accept": "p@ss word/1"}) == {
        "OAuth-Token": "***",
        "Accept": "***",
    }
    assert redactor.strip_params("https://graph.example/v19/ads?after=Q&access_token=EAAB") == (
        "https://graph.example/v19/ads?after=Q"
    )
    assert redactor.extend(params=["sig"]).scrub("/x?sig=1") == "/x?sig=***"


async def test_transport_failure_becomes_a_retriable_error(make_client: MakeClient) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out")

    with pytest.raises(RetriableError) as caught:
        await make_client(down, retry=RetrySettings(max_attempts=2)).get("shop.json")
    assert "ConnectTimeout: timed out; check the network and the base URL" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


async def test_context_manager_closes_the_client(make_client: MakeClient) -> None:
    async with make_client(echo) as client:
        assert (await client.delete("customers/1.json")).status_code == 200
    with pytest.raises(RuntimeError, match="closed"):
        await client.get("shop.json")


def test_client_and_limiter_must_share_a_clock() -> None:
    with pytest.raises(ValueError, match="another clock"):
        ApiClient(
            "https://x.example/", connection="shop", clock=VirtualClock(), limiter=LeakyBucket()
        )


async def test_an_asgi_sandbox_can_stand_in_for_the_vendor() -> None:
    async def sandbox(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        token = dict(scope["headers"]).get(b"x-shopify-access-token", b"").decode()
        status = 200 if token == SECRET else 401
        body = json.dumps({"customers": []} if status == 200 else {"errors": "bad token"})
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body.encode()})

    async with ApiClient(
        "https://shop.example/admin/api/2024-01/",
        connection="shop",
        auth=HeaderAuth("X-Shopify-Access-Token", SecretStr(SECRET)),
        transport=httpx.ASGITransport(app=sandbox),
    ) as client:
        assert (await client.get("customers.json")).json() == {"customers": []}
