"""insert_rows stores exactly what the ORM path stores, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from hub.store.bulk import Encoded, insert_rows
from hub.store.database import Store
from hub.store.tables import CustomerRow, Identifier, Link, table_of


def test_rows_come_back_with_json_timestamps_and_booleans_as_given(store: Store) -> None:
    madrid = timezone(timedelta(hours=1))
    at = datetime(2026, 12, 2, 15, 30, tzinfo=madrid)
    data = {"first_name": "Zoë", "emails": ["zoe@example.com"], "score": 1.5, "nested": {"a": [1]}}
    with store.session() as session:
        insert_rows(
            session,
            table_of(CustomerRow),
            [
                {
                    "hub_id": f"h{n}",
                    "data": data,
                    "provenance": {"*": ["shop", at.isoformat()]},
                    "first_name": "Zoë",
                    "last_name": None,
                    "primary_email": "zoe@example.com",
                    "created_at": at,
                    "updated_at": at,
                }
                for n in range(3)
            ],
        )
        insert_rows(
            session,
            table_of(Identifier),
            [{"kind": "email", "value": "zoe@example.com", "hub_id": "h0", "shared": True}],
        )
        insert_rows(session, table_of(Link), [])  # nothing to do, no statement
        session.commit()
    with store.session() as session:
        rows = session.exec(select(CustomerRow).order_by(CustomerRow.hub_id)).all()  # type: ignore[arg-type]
        ident = session.exec(select(Identifier)).one()
    assert [r.hub_id for r in rows] == ["h0", "h1", "h2"]
    assert rows[0].data == data and rows[0].last_name is None
    assert rows[0].created_at == at.astimezone(UTC)
    assert ident.shared is True


def test_a_column_set_that_is_not_a_plain_insert_is_refused(store: Store) -> None:
    """An unknown key would be dropped and a left-out column's default never applied."""
    with store.session() as session, pytest.raises(ValueError, match="cannot insert"):
        insert_rows(session, table_of(Identifier), [{"kind": "email", "nope": 1}])


def test_each_row_gets_its_own_values_and_encoded_json_is_stored_as_given(store: Store) -> None:
    """Values shared by consecutive rows are processed once; the others each on their own."""
    at = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)
    later = at + timedelta(hours=1)
    times = [at, at, later, later.astimezone(timezone(timedelta(hours=-5))), at]
    with store.session() as session:
        insert_rows(
            session,
            table_of(Link),
            [
                {
                    "connection": "shop",
                    "object": "customer",
                    "external_id": str(n),
                    "hub_id": "h0",
                    "base": Encoded('{"first_name":"Zoë","n":1}') if n == 1 else {"n": n},
                    "seen_hash": None,
                    "raw_hash": None,
                    "deleted": n % 2 == 0,
                    "updated_at": when,
                }
                for n, when in enumerate(times)
            ],
        )
        session.commit()
    with store.session() as session:
        links = session.exec(select(Link).order_by(Link.external_id)).all()  # type: ignore[arg-type]
    assert [link.base for link in links] == [{"n": 0}, {"first_name": "Zoë", "n": 1}] + [
        {"n": n} for n in range(2, 5)
    ]
    assert [link.deleted for link in links] == [True, False, True, False, True]
    assert [link.updated_at for link in links] == [at, at, later, later, at]
