"""The raw limit: fetch and parse the sandbox's pages with nothing else, then the same into SQLite.

    python -m bench.raw fetch URL TOKEN
    python -m bench.raw sqlite URL TOKEN DB

``fetch`` is the floor of any loader of this API: one httpx client, the same
page size as the connectors, JSON parsed, nothing kept. ``sqlite`` adds the
cheapest storage there is: flat rows into one table by ``executemany``, one
transaction per page, no validation, no identity, no merge. Each prints the
number of records as JSON.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from typing import Any

import httpx

PAGE = 100
COLUMNS = ("id", "email", "first_name", "last_name", "phone", "birthday", "updated_at")


def pages(url: str, token: str) -> Iterator[list[dict[str, Any]]]:
    params: dict[str, str | int] = {"limit": PAGE}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
        while True:
            body = client.get("/api/v1/contacts", params=params).raise_for_status().json()
            yield body["data"]
            if body["next_page_token"] is None:
                return
            params = {"limit": PAGE, "page_token": body["next_page_token"]}


def fetch(url: str, token: str) -> int:
    return sum(len(page) for page in pages(url, token))


def into_sqlite(url: str, token: str, database: str) -> int:
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(f"CREATE TABLE contact ({', '.join(COLUMNS)}, PRIMARY KEY (id))")
    count = 0
    insert = f"INSERT OR REPLACE INTO contact VALUES ({', '.join('?' * len(COLUMNS))})"
    for page in pages(url, token):
        with connection:
            connection.executemany(insert, [tuple(row[c] for c in COLUMNS) for row in page])
        count += len(page)
    connection.close()
    return count


def main(argv: list[str]) -> None:
    mode, url, token, *rest = argv
    count = fetch(url, token) if mode == "fetch" else into_sqlite(url, token, rest[0])
    print(json.dumps({"records": count}))


if __name__ == "__main__":
    main(sys.argv[1:])
