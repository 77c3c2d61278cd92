"""select_in reads what a Core select reads, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.store.bulk import insert_rows
from hub.store.database import Store
from hub.store.lookup import select_in, select_pairs
from hub.store.tables import CustomerRow, Identifier, Link, table_of

AT = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)


def _fill(store: Store) -> None:
    with store.session() as session:
        insert_rows(
            session,
            table_of(CustomerRow),
            [
                {
                    "hub_id": hub_id,
                    "data": {"first_name": "Zoë", "n": n},
                    "provenance": {},
                    "first_name": "Zoë",
                    "last_name": None,
                    "primary_email": None,
                    "created_at": AT,
                    "updated_at": AT,
                }
                for n, hub_id in enumerate(("h0", "h1"))
            ],
        )
        insert_rows(
            session,
            table_of(Link),
            [
                {
                    "connection": connection,
                    "object": "customer",
                    "external_id": "7",
                    "hub_id": hub_id,
                    "base": {"from": connection},
                    "seen_hash": None,
                    "raw_hash": None,
                    "deleted": connection == "crm",
                    "updated_at": AT,
                }
                for connection, hub_id in (("shop", "h0"), ("crm", "h1"))
            ],
        )
        insert_rows(
            session,
            table_of(Identifier),
            [
                {"kind": "email", "value": "a@example.com", "hub_id": "h0", "shared": True},
                {"kind": "phone", "value": "a@example.com", "hub_id": "h1", "shared": False},
            ],
        )
        session.commit()


def test_rows_are_filtered_and_come_back_typed(store: Store) -> None:
    _fill(store)
    link, ident, customer = table_of(Link), table_of(Identifier), table_of(CustomerRow)
    with store.session() as session:
        columns = ("hub_id", "base", "deleted")
        links = select_in(session, link, columns, "external_id", ["7", "8"], connection="crm")
        idents = select_in(
            session, ident, ("hub_id", "shared"), "value", ["a@example.com"], kind="email"
        )
        customers = select_in(session, customer, ("hub_id", "data", "created_at"), "hub_id", ["h1"])
        nothing = select_in(session, customer, ("hub_id",), "hub_id", [])
        pairs = select_pairs(
            session,
            ident,
            ("kind", "hub_id"),
            ("kind", "value"),
            {"email": ["a@example.com", "b@example.com"], "phone": ["a@example.com"], "id": []},
        )
        none_paired = select_pairs(session, ident, ("kind",), ("kind", "value"), {"phone": []})
    assert links == [("h1", {"from": "crm"}, True)]
    assert idents == [("h0", True)]
    assert customers == [("h1", {"first_name": "Zoë", "n": 1}, AT)]
    assert nothing == [] and none_paired == []
    assert sorted(pairs) == [("email", "h0"), ("phone", "h1")]


def test_a_column_that_is_not_bound_as_given_is_refused(store: Store) -> None:
    with store.session() as session, pytest.raises(ValueError, match="cannot bind"):
        select_in(session, table_of(Link), ("id",), "base", [{"a": 1}])
