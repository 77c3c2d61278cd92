from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hub.errors import AuthError, ConfigError, RecordError, RetriableError
from hub.http import DEFAULT_POLICY, Action, Rule, vendor_message


def response(status: int, body: Any = None, **kwargs: Any) -> httpx.Response:
    request = httpx.Request("GET", "https://shop.example/admin/api/2024-01/customers.json")
    return httpx.Response(status, json=body, request=request, **kwargs)


def graphql_code(resp: httpx.Response) -> str | None:
    for error in resp.json().get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code:
            return str(code)
    return None


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (401, Action.FATAL_AUTH),
        (403, Action.FATAL_AUTH),
        (400, Action.DEAD_LETTER),
        (404, Action.DEAD_LETTER),
        (422, Action.DEAD_LETTER),
        (408, Action.BACKOFF),
        (425, Action.BACKOFF),
        (429, Action.BACKOFF),
        (500, Action.RETRY),
        (502, Action.RETRY),
        (503, Action.RETRY),
        (504, Action.RETRY),
        (418, Action.DEAD_LETTER),  # unlisted 4xx: the request itself is at fault
        (599, Action.RETRY),  # unlisted 5xx: the vendor is at fault
    ],
)
def test_default_table(status: int, action: Action) -> None:
    rule = DEFAULT_POLICY.classify(response(status, {}))
    assert rule is not None and rule.action is action


@pytest.mark.parametrize("status", [200, 201, 204, 304])
def test_success_is_not_an_error(status: int) -> None:
    assert DEFAULT_POLICY.classify(response(status, {})) is None


def test_extend_returns_a_new_table_and_keeps_the_old(
    vendor_json: Callable[[str], Any],
) -> None:
    shopify = DEFAULT_POLICY.extend(
        {404: Action.FATAL_CONFIG},
        {"THROTTLED": Action.BACKOFF},
        code_of=graphql_code,
    )
    throttled = response(200, vendor_json("shopify/graphql/throttled_error.json"))

    assert shopify.classify(throttled) == Rule(Action.BACKOFF)
    assert shopify.classify(response(404, {})) == Rule(Action.FATAL_CONFIG)
    assert shopify.classify(response(401, {})) == Rule(Action.FATAL_AUTH)
    assert DEFAULT_POLICY.classify(throttled) is None
    assert DEFAULT_POLICY.classify(response(404, {})) == Rule(Action.DEAD_LETTER)


def test_vendor_code_wins_over_status() -> None:
    meta = DEFAULT_POLICY.extend(
        codes={"17": Action.BACKOFF, "190": Action.FATAL_AUTH},
        code_of=lambda r: str(r.json()["error"]["code"]),
    )
    limit = response(400, {"error": {"message": "(#17) User request limit reached", "code": 17}})
    expired = response(400, {"error": {"message": "Session has expired", "code": 190}})
    other = response(400, {"error": {"message": "Invalid parameter", "code": 100}})
    assert [meta.classify(r) for r in (limit, expired, other)] == [
        Rule(Action.BACKOFF),
        Rule(Action.FATAL_AUTH),
        Rule(Action.DEAD_LETTER),
    ]


def test_an_extractor_that_trips_on_an_unexpected_body_falls_back_to_the_status() -> None:
    meta = DEFAULT_POLICY.extend(
        codes={"4": Action.BACKOFF}, code_of=lambda r: str(r.json()["error"]["code"])
    )
    request = httpx.Request("GET", "https://graph.example/")
    html = httpx.Response(502, text="<html>Bad Gateway</html>", request=request)
    assert meta.classify(html) == Rule(Action.RETRY)
    assert meta.classify(response(500, {"data": []})) == Rule(Action.RETRY)


@pytest.mark.parametrize(
    ("action", "error_type"),
    [
        (Action.FATAL_AUTH, AuthError),
        (Action.FATAL_CONFIG, ConfigError),
        (Action.DEAD_LETTER, RecordError),
        (Action.RETRY, RetriableError),
        (Action.BACKOFF, RetriableError),
    ],
)
def test_each_action_raises_its_hub_error(action: Action, error_type: type[Exception]) -> None:
    error = DEFAULT_POLICY.error(
        Rule(action), response(418, {"errors": "No"}), connection="shop", scrub=str
    )
    assert type(error) is error_type


def test_auth_message_names_connection_status_vendor_words_and_fix(
    vendor_json: Callable[[str], Any],
) -> None:
    forbidden = vendor_json("shopify/headers/rest_paging_rate_limit_and_errors.json")[
        "rest_error_responses"
    ][2]
    error = DEFAULT_POLICY.error(
        Rule(Action.FATAL_AUTH),
        response(forbidden["status"], forbidden["body"]),
        connection="shop",
        scrub=str,
    )
    text = str(error)
    assert "connection 'shop'" in text
    assert "HTTP 403" in text
    assert "'Error 403'" in text
    assert "check the credentials" in text


def test_connector_hint_replaces_the_generic_fix() -> None:
    policy = DEFAULT_POLICY.extend(
        {404: Rule(Action.FATAL_CONFIG, "check 'shop' is the myshopify.com domain")}
    )
    rule = policy.classify(response(404, {"errors": "Not Found"}))
    assert rule is not None
    text = str(
        policy.error(rule, response(404, {"errors": "Not Found"}), connection="s", scrub=str)
    )
    assert text.endswith("check 'shop' is the myshopify.com domain")


def test_error_text_goes_through_scrub() -> None:
    body = {"errors": "invalid token shpat_abc123"}
    error = DEFAULT_POLICY.error(
        Rule(Action.FATAL_AUTH),
        response(401, body),
        connection="shop",
        scrub=lambda text: text.replace("shpat_abc123", "***"),
    )
    assert "shpat_abc123" not in str(error)
    assert "invalid token ***" in str(error)


def test_retriable_error_carries_retry_after() -> None:
    error = DEFAULT_POLICY.error(
        Rule(Action.BACKOFF), response(429, {}), connection="s", scrub=str, retry_after=2.0
    )
    assert isinstance(error, RetriableError) and error.retry_after == 2.0


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"errors": "Error 429"}, "Error 429"),
        ({"errors": {"email": ["has already been taken"]}}, "email has already been taken"),
        ({"errors": [{"message": "Throttled"}]}, "Throttled"),
        (
            {"message": "Invalid product data: %1", "parameters": ["sku is required"]},
            "Invalid product data: sku is required",
        ),
        (
            {
                "message": "No such entity with %fieldName = %fieldValue",
                "parameters": {"fieldName": "email", "fieldValue": "a@b.c"},
            },
            "No such entity with email = a@b.c",
        ),
        ({"error": "invalid_grant", "error_message": "Invalid credentials"}, "Invalid credentials"),
        (
            {"title": "Resource Not Found", "detail": "The list does not exist."},
            "The list does not exist.",
        ),
        (
            {"error": {"message": "(#4) Application request limit reached", "code": 4}},
            "(#4) Application request limit reached",
        ),
        ({"data": {}}, None),
    ],
)
def test_vendor_message_shapes(body: Any, said: str | None) -> None:
    assert vendor_message(response(400, body)) == said


def test_vendor_message_of_graphql_error(vendor_json: Callable[[str], Any]) -> None:
    body = vendor_json("shopify/graphql/query_error_with_cost_extensions.json")
    assert vendor_message(response(200, body)) == "you must provide one of first or last"


def test_vendor_message_of_non_json_body_is_cut_short() -> None:
    request = httpx.Request("GET", "https://x.example/")
    html = httpx.Response(502, text="<html>" + "x" * 1000, request=request)
    said = vendor_message(html)
    assert said is not None and said.startswith("<html>") and len(said) == 300
