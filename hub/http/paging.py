"""Walking a vendor's pages, with a resume point after each one.

Each helper yields ``(items, resume)``: ``resume`` is what to pass back as
``start`` to continue *after* that page, or None when that page was the last.
The engine stores it with the page's records, so a crash resumes at the next
page. A connector supplies ``fetch`` (how to ask for one page) and small
functions that find the items and the paging fields in the body.

The stop rules guard against vendors that never say "end": Magento answers a
page number past the end with the last page again (not yielded, so nothing is
read twice), and some APIs hand back, on their last page, the cursor or link
they were given (taken as the end, so the walk cannot loop).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import httpx

from hub.http.redact import SECRET_PARAMS, strip_params

__all__ = ["cursor_pages", "link_pages", "numbered_pages", "offset_pages"]

log = logging.getLogger("crmhub.http")

Items = Callable[[Any], list[Any]]
Count = Callable[[Any], int | None]


async def cursor_pages(
    fetch: Callable[[str | None], Awaitable[httpx.Response]],
    *,
    items: Items,
    next_cursor: Callable[[Any], str | None],
    start: str | None = None,
) -> AsyncIterator[tuple[list[Any], str | None]]:
    """Pages linked by a token in the body (GraphQL ``pageInfo.endCursor``, ``next_offset``)."""
    cursor = start
    while True:
        body = (await fetch(cursor)).json()
        following = next_cursor(body)
        if following is not None and following == cursor:
            log.warning("the vendor returned the cursor it was given; stopping to avoid a loop")
            following = None
        yield items(body), following
        if following is None:
            return
        cursor = following


async def numbered_pages(
    fetch: Callable[[int], Awaitable[httpx.Response]],
    *,
    items: Items,
    page_size: int,
    total: Count | None = None,
    start: int = 1,
    first: int = 1,
) -> AsyncIterator[tuple[list[Any], int | None]]:
    """Page-number paging (Magento ``searchCriteria[currentPage]``, ``total_count``).

    Stops at an empty or short page, at ``total``, and at a page equal to the
    one before it (Magento's answer past the end). ``first`` is the vendor's
    number for the first page (1 for Magento, 0 for some).
    """
    page, previous = start, None
    while True:
        body = (await fetch(page)).json()
        batch = items(body)
        count = total(body) if total else None
        before = (page - first) * page_size
        if not batch or batch == previous or (count is not None and before >= count):
            return
        last = len(batch) < page_size or (count is not None and before + len(batch) >= count)
        yield batch, None if last else page + 1
        if last:
            return
        page, previous = page + 1, batch


async def offset_pages(
    fetch: Callable[[int], Awaitable[httpx.Response]],
    *,
    items: Items,
    total: Count | None = None,
    page_size: int | None = None,
    start: int = 0,
) -> AsyncIterator[tuple[list[Any], int | None]]:
    """Offset + count paging (Mailchimp ``offset``/``count`` with ``total_items``)."""
    offset = start
    while True:
        body = (await fetch(offset)).json()
        batch = items(body)
        count = total(body) if total else None
        if not batch or (count is not None and offset >= count):
            return
        offset += len(batch)
        short = page_size is not None and len(batch) < page_size
        last = short or (count is not None and offset >= count)
        yield batch, None if last else offset
        if last:
            return


async def link_pages(
    fetch: Callable[[str | None], Awaitable[httpx.Response]],
    *,
    items: Items,
    start: str | None = None,
    secret_params: Iterable[str] = SECRET_PARAMS,
) -> AsyncIterator[tuple[list[Any], str | None]]:
    """``Link: <...>; rel="next"`` paging (Shopify REST ``page_info``).

    ``fetch(None)`` asks for the first page, ``fetch(url)`` for a next link. The
    resume point is that URL without credential parameters (Meta's next links
    carry the access token), since it is stored; auth adds them again.
    """
    url = start
    while True:
        response = await fetch(url)
        link = response.links.get("next", {}).get("url")
        following = strip_params(link, secret_params) if link else None
        if following is not None and following == url:
            log.warning("the vendor linked a page to itself; stopping to avoid a loop")
            following = None
        yield items(response.json()), following
        if following is None:
            return
        url = following
