"""insert_rows stores exactly what the ORM path stores, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from hub.store.bulk import insert_rows
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


def test_each_row_keeps_its_own_values_when_some_rows_share_one_object(store: Store) -> None:
    """Guards converting a value once per run of rows holding that same object."""
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    shared = {"first_name": "Ann"}
    stamps = [early, early, late, early]
    datas = [shared, shared, {"first_name": "Bob"}, shared]
    with store.session() as session:
        insert_rows(
            session,
            table_of(CustomerRow),
            [
                {"hub_id": f"h{n}", "data": d, "created_at": at, "updated_at": late}
                for n, (d, at) in enumerate(zip(datas, stamps, strict=True))
            ],
        )
        session.commit()
    with store.session() as session:
        rows = session.exec(select(CustomerRow).order_by(CustomerRow.hub_id)).all()  # type: ignore[arg-type]
    assert [(r.data["first_name"], r.created_at) for r in rows] == [
        ("Ann", early),
        ("Ann", early),
        ("Bob", late),
        ("Ann", early),
    ]
