"""Store round trips and migrations, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, select

from hub.errors import ConfigError
from hub.store.database import Store, open_store, sqlalchemy_url
from hub.store.tables import CustomerRow, Identifier, Link, OrderLineRow, OrderRow, SyncState


def test_migrations_build_exactly_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_opening_twice_keeps_the_data(store_url: str) -> None:
    first = open_store(store_url)
    with first.session() as session:
        session.add(CustomerRow(hub_id="h1", data={"first_name": "Ann"}))
        session.commit()
    first.close()
    again = open_store(store_url)
    with again.session() as session:
        assert session.get_one(CustomerRow, "h1").data == {"first_name": "Ann"}
    again.close()


def test_customer_identifier_and_link_round_trip(store: Store) -> None:
    with store.session() as session:
        session.add(
            CustomerRow(
                hub_id="h1", data={"emails": ["ann@example.com"]}, primary_email="ann@example.com"
            )
        )
        session.add(Identifier(kind="email", value="ann@example.com", hub_id="h1"))
        session.add(
            Link(
                connection="shop",
                object="customer",
                external_id="7",
                hub_id="h1",
                base={"first_name": "Ann"},
                seen_hash="abc",
            )
        )
        session.commit()
    with store.session() as session:
        link = session.exec(select(Link).where(Link.external_id == "7")).one()
        assert (link.hub_id, link.base, link.shadow) == ("h1", {"first_name": "Ann"}, None)
        owner = session.exec(select(Identifier).where(Identifier.value == "ann@example.com")).one()
        assert owner.hub_id == "h1"


def test_identifier_value_is_unique_per_kind(store: Store) -> None:
    with store.session() as session:
        session.add(CustomerRow(hub_id="h1"))
        session.add(CustomerRow(hub_id="h2"))
        session.add(Identifier(kind="email", value="x@example.com", hub_id="h1"))
        session.commit()
        session.add(Identifier(kind="email", value="x@example.com", hub_id="h2"))
        with pytest.raises(sa.exc.IntegrityError):
            session.commit()


def test_money_is_exact_and_timestamps_come_back_utc(store: Store) -> None:
    placed = datetime(2024, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    with store.session() as session:
        session.add(
            OrderRow(
                id="o1",
                source="shop",
                placed_at=placed,
                currency="EUR",
                total=Decimal("0.1") + Decimal("0.2"),
                status="open",
            )
        )
        session.flush()
        session.add(
            OrderLineRow(
                order_id="o1",
                position=0,
                name="Mug",
                quantity=3,
                unit_price=Decimal("9.9999"),
                total=Decimal("29.9997"),
            )
        )
        session.commit()
    with store.session() as session:
        order = session.get_one(OrderRow, "o1")
        assert order.total == Decimal("0.3")
        assert order.placed_at == placed and order.placed_at.tzinfo == UTC
        assert session.exec(select(sa.func.sum(OrderLineRow.total))).one() == Decimal("29.9997")
        raw = session.connection().execute(sa.text("SELECT total FROM order_line")).scalar()
        assert raw == 299_997  # stored as an exact scaled integer on both backends


def test_deleting_a_customer_cascades_to_identifiers(store: Store) -> None:
    with store.session() as session:
        session.add(CustomerRow(hub_id="h1"))
        session.add(Identifier(kind="phone", value="+34612345678", hub_id="h1"))
        session.commit()
        session.delete(session.get_one(CustomerRow, "h1"))
        session.commit()
        assert session.exec(select(Identifier)).all() == []


def test_naive_timestamps_are_refused(store: Store) -> None:
    with store.session() as session:
        session.add(SyncState(connection="c", stream="s", updated_at=datetime(2024, 1, 1)))
        with pytest.raises(sa.exc.StatementError, match="naive datetime"):
            session.commit()


def test_urls_map_to_the_shipped_drivers() -> None:
    assert sqlalchemy_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    with pytest.raises(ConfigError, match="not supported"):
        sqlalchemy_url("mysql://u@h/db")
    with pytest.raises(ConfigError, match="not a database URL"):
        sqlalchemy_url("crmhub.db")
