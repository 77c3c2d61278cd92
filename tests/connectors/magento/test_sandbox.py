"""The Magento sandbox keeps Magento's contract, checked against Adobe's schema and doc pages.

The schema extract and the doc pages are in tests/fixtures/vendor/magento2/
(Apache-2.0, see tests/fixtures/vendor/SOURCES.md).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import yaml

from connectors.magento.criteria import Filter, encode, parse
from connectors.magento.sandbox import TOKEN, MagentoSandbox
from hub.http import VirtualClock
from hub.testing.faults import Fault

pytestmark = pytest.mark.anyio
VENDOR = Path(__file__).parents[2] / "fixtures" / "vendor" / "magento2"
SCHEMA = yaml.safe_load((VENDOR / "openapi" / "admin-schema-2.4.9-extract.yaml").read_text())
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEARCH = "/rest/V1/customers/search"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def _properties(definition: str) -> set[str]:
    return set(SCHEMA["definitions"][definition]["properties"])


def _doc_queries() -> list[str]:
    """The PaaS request of every searchCriteria example on the searches page, as query strings."""
    page = (VENDOR / "docs" / "performing-searches.md").read_text()
    blocks = re.findall(r"#### PaaS\s+```http\s+GET [^?]+\?(.*?)```", page, re.DOTALL)
    return ["".join(line.strip() for line in block.splitlines()) for block in blocks]


@pytest.fixture
def sandbox() -> MagentoSandbox:
    sandbox = MagentoSandbox(clock=VirtualClock(), store_codes=("de",))
    sandbox.populate(25, seed=3)
    return sandbox


@pytest.fixture
async def api(sandbox: MagentoSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with sandbox.client(headers=AUTH) as client:
        yield client


def _criteria(*filters: Filter, **paging: Any) -> dict[str, str]:
    return encode([[one] for one in filters], **paging)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
async def test_a_missing_or_wrong_token_is_magentos_401(
    sandbox: MagentoSandbox, headers: dict[str, str]
) -> None:
    async with sandbox.client(headers=headers) as client:
        response = await client.get(SEARCH)
    assert response.status_code == 401
    assert response.json() == {
        "message": "The consumer isn't authorized to access %resources.",
        "parameters": {"resources": "Magento_Customer::customer"},
    }
    assert set(response.json()) <= _properties("error-response")


@pytest.mark.parametrize("root", ["/rest/V1", "/rest/default/V1", "/rest/de/V1"])
async def test_both_path_forms_and_every_known_store_code_answer(
    api: httpx.AsyncClient, root: str
) -> None:
    response = await api.get(f"{root}/customers/search", params={"searchCriteria[pageSize]": 1})
    assert response.status_code == 200 and response.json()["total_count"] == 25


async def test_unknown_routes_and_store_codes_are_404_in_magentos_words(
    api: httpx.AsyncClient,
) -> None:
    route = await api.get("/rest/V1/nothing")
    store = await api.get("/rest/fr/V1/customers/search")
    assert (route.status_code, route.json()) == (
        404,
        {"message": "Request does not match any route."},
    )
    assert store.status_code == 404 and "store that was requested" in store.json()["message"]


async def test_a_search_answers_the_schema_envelope_with_the_criteria_echoed(
    api: httpx.AsyncClient,
) -> None:
    params = _criteria(Filter("group_id", "1"), page_size=10, current_page=2)
    body = (await api.get(SEARCH, params=params)).json()
    required = SCHEMA["definitions"]["customer-data-customer-search-results-interface"]["required"]
    assert set(body) == set(required)
    assert set(body["search_criteria"]) <= _properties("framework-search-criteria-interface")
    assert body["search_criteria"]["filter_groups"] == [
        {"filters": [{"field": "group_id", "value": "1", "condition_type": "eq"}]}
    ]
    assert (body["search_criteria"]["page_size"], body["search_criteria"]["current_page"]) == (
        10,
        2,
    )
    customer = body["items"][0]
    assert set(customer) <= _properties("customer-data-customer-interface")
    assert set(customer["addresses"][0]) <= _properties("customer-data-address-interface")
    assert set(customer["extension_attributes"]) <= _properties(
        "customer-data-customer-extension-interface"
    )
    assert TIMESTAMP.match(customer["created_at"]) and TIMESTAMP.match(customer["updated_at"])


async def test_a_page_past_the_end_repeats_the_last_page(api: httpx.AsyncClient) -> None:
    async def page(number: int) -> dict[str, Any]:
        params = _criteria(page_size=10, current_page=number)
        return dict((await api.get(SEARCH, params=params)).json())

    third, tenth = await page(3), await page(10)
    assert [c["id"] for c in third["items"]] == [21, 22, 23, 24, 25]
    assert tenth["items"] == third["items"]
    assert tenth["total_count"] == 25 and tenth["search_criteria"]["current_page"] == 10


def test_every_example_on_the_searches_page_parses_as_the_page_explains() -> None:
    parsed = [parse(dict(parse_qsl(query))) for query in _doc_queries()]
    shapes = [[[(f.field, f.condition_type) for f in group] for group in c.groups] for c in parsed]
    assert shapes[:6] == [
        [[("category_gear", "finset")]],
        [[("created_at", "gt")]],
        [[("entity_id", "in")]],
        [[("name", "like"), ("name", "like")]],  # logical OR: one group
        [[("sku", "like")], [("price", "lt")]],  # logical AND: two groups
        [[("sku", "like"), ("sku", "like")], [("price", "from")], [("price", "to")]],
    ]
    assert parsed[3].groups[0][0].value == "%Leggings%"  # %25 is the SQL wildcard
    assert parsed[6].groups[0][0].condition_type == "eq"  # condition_type is optional for eq
    assert [(s.field, s.direction) for s in parsed[6].sort] == [("increment_id", "DESC")]


PRODUCTS = [
    dict(zip(("entity_id", "sku", "name", "price", "category_gear"), row, strict=True))
    for row in (
        (1, "WSH02-29-Yellow", "Erika Short", 45, "86,3"),
        (2, "WP01-29-Black", "Leggings", 40, None),
        (3, "WSH03-31-Blue", "Gwen Short", 29, "3"),
        (4, "WP05-29-Gray", "Parachute Pant", 49.99, "86"),
        (5, "WSH04-29-Red", "Ina Short", 55, None),
    )
]


@pytest.mark.parametrize(
    ("example", "expected"),
    [(0, [1, 4]), (2, [1, 2, 3, 4, 5]), (3, [2, 4]), (4, [3]), (5, [1, 2, 4])],
    ids=["finset", "in", "or", "and", "and-or"],
)
def test_the_doc_examples_select_what_the_page_says(example: int, expected: list[int]) -> None:
    criteria = parse(dict(parse_qsl(_doc_queries()[example])))
    rows, total = criteria.select(PRODUCTS, lambda row, name: row.get(name))
    assert sorted(row["entity_id"] for row in rows) == expected and total == len(expected)


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ("eq", "40", [2]),
        ("gt", "45", [4, 5]),
        ("like", "%Short", [1, 3, 5]),
        ("in", "29,55", [3, 5]),
        ("neq", "40", [1, 3, 4, 5]),
        ("nin", "40,45", [3, 4, 5]),
        ("gteq", "49.99", [4, 5]),
        ("lteq", "40", [2, 3]),
        ("null", "", [2, 5]),
        ("notnull", "", [1, 3, 4]),
        ("nlike", "%Short", [2, 4]),
    ],
)
def test_each_condition_type_selects_what_magento_would(
    condition: str, value: str, expected: list[int]
) -> None:
    names = {"null": "category_gear", "notnull": "category_gear", "nlike": "name", "like": "name"}
    field = names.get(condition, "price")
    criteria = parse(encode([[Filter(field, value, condition)]]))
    rows, _ = criteria.select(PRODUCTS, lambda row, name: row.get(name))
    assert sorted(row["entity_id"] for row in rows) == expected


async def test_the_schemas_camel_case_keys_and_a_default_descending_sort(
    api: httpx.AsyncClient,
) -> None:
    params = {
        "searchCriteria[filterGroups][0][filters][0][field]": "entity_id",
        "searchCriteria[filterGroups][0][filters][0][value]": "5",
        "searchCriteria[filterGroups][0][filters][0][conditionType]": "lteq",
        "searchCriteria[sortOrders][0][field]": "entity_id",
    }
    body = (await api.get(SEARCH, params=params)).json()
    assert [c["id"] for c in body["items"]] == [5, 4, 3, 2, 1]


@pytest.mark.parametrize(
    ("params", "message", "parameters"),
    [
        (_criteria(Filter("id", "1")), "Invalid attribute name: %1", ["id"]),
        (
            _criteria(Filter("email", "x", "sounds_like")),
            "Invalid condition type: %1",
            ["sounds_like"],
        ),
        (
            {"searchCriteria[pageSize]": "ten"},
            '"%1" is not a valid value for %2.',
            ["ten", "pageSize"],
        ),
    ],
)
async def test_bad_criteria_are_400_with_placeholders(
    api: httpx.AsyncClient, params: dict[str, str], message: str, parameters: list[str]
) -> None:
    response = await api.get(SEARCH, params=params)
    assert (response.status_code, response.json()) == (
        400,
        {"message": message, "parameters": parameters},
    )


async def test_orders_search_by_customer_and_state(api: httpx.AsyncClient) -> None:
    params = encode([[Filter("customer_is_guest", "0")], [Filter("state", "new,complete", "in")]])
    body = (await api.get("/rest/V1/orders", params=params)).json()
    assert body["total_count"] == len(body["items"]) > 0
    assert all(o["state"] in ("new", "complete") and o["customer_id"] for o in body["items"])
    assert set(body) == set(
        SCHEMA["definitions"]["sales-data-order-search-result-interface"]["required"]
    )


async def test_put_replaces_the_customer_and_needs_the_required_fields(
    sandbox: MagentoSandbox, api: httpx.AsyncClient
) -> None:
    customer = sandbox.records("customers")["1"]
    required = SCHEMA["definitions"]["customer-data-customer-interface"]["required"]
    sparse = {name: customer[name] for name in required}
    replaced = (await api.put("/rest/V1/customers/1", json={"customer": sparse})).json()
    assert "dob" not in replaced  # left out, so cleared
    assert replaced["addresses"] == customer["addresses"]  # absent addresses are kept
    assert replaced["extension_attributes"] == customer["extension_attributes"]
    assert replaced["updated_at"] >= customer["updated_at"]
    for name in required:
        missing = {key: value for key, value in sparse.items() if key != name}
        response = await api.put("/rest/V1/customers/1", json={"customer": missing})
        assert response.status_code == 400
        assert response.json()["parameters"] == {"fieldName": name}


async def test_unknown_ids_taken_emails_and_deletes(
    sandbox: MagentoSandbox, api: httpx.AsyncClient
) -> None:
    first, second = list(sandbox.records("customers").values())[:2]
    missing = await api.get("/rest/V1/customers/999")
    assert (missing.status_code, missing.json()) == (
        404,
        {
            "message": "No such entity with %fieldName = %fieldValue",
            "parameters": {"fieldName": "customerId", "fieldValue": "999"},
        },
    )
    body = {
        "customer": {k: second[k] for k in ("firstname", "lastname")} | {"email": first["email"]}
    }
    for taken in (
        await api.post("/rest/V1/customers", json=body),
        await api.put("/rest/V1/customers/2", json=body),
    ):
        assert taken.status_code == 400 and "same email address" in taken.json()["message"]
    assert (await api.delete("/rest/V1/customers/1")).json() is True
    assert (await api.delete("/rest/V1/customers/1")).status_code == 404


async def test_a_throttled_or_failing_magento_answers_in_its_words(
    sandbox: MagentoSandbox, api: httpx.AsyncClient
) -> None:
    sandbox.faults.add(Fault.throttle(2))
    sandbox.faults.add(Fault.error(503))
    throttled, failed = await api.get(SEARCH), await api.get(SEARCH)
    assert (throttled.status_code, throttled.json()) == (
        429,
        {"message": "Too Many Requests", "trace": None},
    )
    assert "Retry-After" not in throttled.headers
    assert failed.status_code == 503 and failed.json()["message"].startswith("Internal Error.")
