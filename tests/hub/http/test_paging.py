from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from hub.http import ApiClient, cursor_pages, link_pages, numbered_pages, offset_pages

pytestmark = pytest.mark.anyio
MakeClient = Callable[..., ApiClient]
RECORDS = [{"id": n} for n in range(1, 24)]  # 23 records: pages of 10 end on a short page


async def collect(pages: AsyncIterator[tuple[list[Any], Any]]) -> list[tuple[list[int], Any]]:
    return [([item["id"] for item in items], resume) async for items, resume in pages]


Handler = Callable[[httpx.Request], httpx.Response]


def magento(
    *, repeat_last: bool = True, records: list[dict[str, int]] = RECORDS
) -> tuple[Handler, list[int]]:
    """Magento search: past the last page it answers with the last page again."""
    asked: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        size = int(request.url.params["searchCriteria[pageSize]"])
        page = int(request.url.params["searchCriteria[currentPage]"])
        asked.append(page)
        assert len(asked) < 10, "the paginator does not stop"
        last = max(1, -(-len(records) // size))
        if repeat_last:
            page = min(page, last)
        items = records[(page - 1) * size : page * size]
        return httpx.Response(
            200, json={"items": items, "search_criteria": {}, "total_count": len(records)}
        )

    return handler, asked


def fetch_magento(client: ApiClient, size: int) -> Callable[[int], Any]:
    def fetch(page: int) -> Any:
        params = {"searchCriteria[pageSize]": size, "searchCriteria[currentPage]": page}
        return client.get("V1/customers/search", params=params)

    return fetch


async def test_numbered_pages_stop_at_total_count(make_client: MakeClient) -> None:
    handler, asked = magento()
    pages = numbered_pages(
        fetch_magento(make_client(handler), 10),
        items=lambda body: body["items"],
        total=lambda body: body["total_count"],
        page_size=10,
    )
    assert await collect(pages) == [
        (list(range(1, 11)), 2),
        (list(range(11, 21)), 3),
        ([21, 22, 23], None),
    ]
    assert asked == [1, 2, 3]


async def test_numbered_pages_stop_when_magento_repeats_the_last_page(
    make_client: MakeClient,
) -> None:
    records = RECORDS[:20]  # the last page is full, so only the repeat can end the walk
    handler, asked = magento(records=records)
    pages = numbered_pages(
        fetch_magento(make_client(handler), 10), items=lambda body: body["items"], page_size=10
    )
    assert await collect(pages) == [(list(range(1, 11)), 2), (list(range(11, 21)), 3)]
    assert asked == [1, 2, 3]


async def test_resuming_past_the_end_yields_nothing_twice(make_client: MakeClient) -> None:
    handler, _ = magento(records=RECORDS[:20])
    pages = numbered_pages(
        fetch_magento(make_client(handler), 10),
        items=lambda body: body["items"],
        total=lambda body: body["total_count"],
        page_size=10,
        start=3,
    )
    assert await collect(pages) == []


async def test_numbered_pages_resume_and_stop_on_an_empty_page(make_client: MakeClient) -> None:
    handler, asked = magento(repeat_last=False, records=RECORDS[:20])
    pages = numbered_pages(
        fetch_magento(make_client(handler), 10),
        items=lambda body: body["items"],
        page_size=10,
        start=2,
    )
    assert await collect(pages) == [(list(range(11, 21)), 3)]
    assert asked == [2, 3]


async def test_numbered_pages_counting_from_zero() -> None:
    asked: list[int] = []

    async def fetch(page: int) -> httpx.Response:
        asked.append(page)
        return httpx.Response(200, json={"rows": RECORDS[page * 10 : page * 10 + 10], "n": 23})

    pages = numbered_pages(
        fetch, items=lambda b: b["rows"], total=lambda b: b["n"], page_size=10, first=0, start=0
    )
    assert [resume for _, resume in await collect(pages)] == [1, 2, None]
    assert asked == [0, 1, 2]


def mailchimp(records: list[dict[str, int]] = RECORDS) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        count = int(request.url.params["count"])
        offset = int(request.url.params["offset"])
        members = records[offset : offset + count]
        return httpx.Response(200, json={"members": members, "total_items": len(records)})

    return handler


async def test_offset_pages_follow_total_items(make_client: MakeClient) -> None:
    client = make_client(mailchimp())
    pages = offset_pages(
        lambda offset: client.get("lists/a1/members", params={"count": 10, "offset": offset}),
        items=lambda body: body["members"],
        total=lambda body: body["total_items"],
    )
    assert await collect(pages) == [
        (list(range(1, 11)), 10),
        (list(range(11, 21)), 20),
        ([21, 22, 23], None),
    ]


async def test_offset_pages_resume_and_stop_on_empty(make_client: MakeClient) -> None:
    client = make_client(mailchimp())
    asked: list[int] = []

    def fetch(offset: int) -> Any:
        asked.append(offset)
        return client.get("lists/a1/members", params={"count": 10, "offset": offset})

    pages = offset_pages(fetch, items=lambda body: body["members"], start=20)
    assert await collect(pages) == [([21, 22, 23], 23)]
    assert asked == [20, 23]  # no total given: only the empty page ends it


async def test_offset_pages_stop_on_a_short_page(make_client: MakeClient) -> None:
    client = make_client(mailchimp())
    asked: list[int] = []

    def fetch(offset: int) -> Any:
        asked.append(offset)
        return client.get("lists/a1/members", params={"count": 10, "offset": offset})

    pages = offset_pages(fetch, items=lambda body: body["members"], page_size=10)
    assert [resume for _, resume in await collect(pages)] == [10, 20, None]
    assert asked == [0, 10, 20]


async def test_cursor_pages_follow_graphql_page_info(make_client: MakeClient) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        variables = json.loads(request.content)["variables"]
        after = int(variables["after"] or 0)
        edges = [{"node": r, "cursor": str(r["id"])} for r in RECORDS[after : after + 10]]
        info = {"hasNextPage": after + 10 < len(RECORDS), "endCursor": edges[-1]["cursor"]}
        return httpx.Response(200, json={"data": {"customers": {"edges": edges, "pageInfo": info}}})

    client = make_client(handler)

    def fetch(cursor: str | None) -> Any:
        body = {"query": "query($after: String) {...}", "variables": {"after": cursor}}
        return client.post("graphql.json", json=body, safe_to_retry=True)

    def next_cursor(body: Any) -> str | None:
        info = body["data"]["customers"]["pageInfo"]
        return info["endCursor"] if info["hasNextPage"] else None

    def nodes(body: Any) -> list[Any]:
        return [edge["node"] for edge in body["data"]["customers"]["edges"]]

    assert await collect(cursor_pages(fetch, items=nodes, next_cursor=next_cursor)) == [
        (list(range(1, 11)), "10"),
        (list(range(11, 21)), "20"),
        ([21, 22, 23], None),
    ]
    resumed = cursor_pages(fetch, items=nodes, next_cursor=next_cursor, start="20")
    assert await collect(resumed) == [([21, 22, 23], None)]


async def test_cursor_pages_stop_when_the_cursor_does_not_move() -> None:
    async def stuck(cursor: str | None) -> httpx.Response:
        return httpx.Response(200, json={"records": [{"id": 1}], "next_offset": "same"})

    pages = cursor_pages(
        stuck, items=lambda body: body["records"], next_cursor=lambda body: body["next_offset"]
    )
    assert await collect(pages) == [([1], "same"), ([1], None)]


def shopify(link_template: str) -> tuple[Handler, list[str]]:
    """Shopify REST: a Link header with page_info; Meta-style links also carry the token."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        start = int(request.url.params.get("page_info") or request.url.params.get("after") or 0)
        customers = RECORDS[start : start + 10]
        headers = {}
        if start + 10 < len(RECORDS):
            url = link_template.format(shop="shop.example", info=start + 10)
            headers["Link"] = f'<{url}>; rel="next"'
        return httpx.Response(200, json={"customers": customers}, headers=headers)

    return handler, seen


async def test_link_pages_follow_rel_next(make_client: MakeClient, vendor_json: Any) -> None:
    header = vendor_json("shopify/headers/rest_paging_rate_limit_and_errors.json")
    template = header["link_header_next"].split(";")[0].strip("<>").replace("FOOBAR", "{info}")
    template = template.replace("products", "customers")
    handler, seen = shopify(template)
    client = make_client(handler)

    def fetch(url: str | None) -> Any:
        return client.get(url or "customers.json", params=None if url else {"limit": 10})

    pages = await collect(link_pages(fetch, items=lambda body: body["customers"]))
    next_url = "https://shop.example/admin/api/unstable/customers.json?limit=2&page_info={}"
    assert pages == [
        (list(range(1, 11)), next_url.format(10)),
        (list(range(11, 21)), next_url.format(20)),
        ([21, 22, 23], None),
    ]
    assert seen[1:] == [next_url.format(10), next_url.format(20)]

    resumed = await collect(link_pages(fetch, items=lambda b: b["customers"], start=pages[1][1]))
    assert resumed == [([21, 22, 23], None)]


async def test_link_pages_keep_tokens_out_of_the_resume_point(make_client: MakeClient) -> None:
    handler, _ = shopify("https://{shop}/v19/ads?after={info}&access_token=EAABsecret")
    client = make_client(handler)
    pages = await collect(
        link_pages(lambda url: client.get(url or "ads"), items=lambda body: body["customers"])
    )
    assert [resume for _, resume in pages] == [
        "https://shop.example/v19/ads?after=10",
        "https://shop.example/v19/ads?after=20",
        None,
    ]
