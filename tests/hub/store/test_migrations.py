"""Upgrading a store keeps its data: each migration is run over real rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hub.store.database import Store


def test_0002_folds_provenance_rows_into_the_customer_and_back(store_url: str) -> None:
    store = Store(store_url)
    store.migrate("0001")
    observed = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO customer (hub_id, data, created_at, updated_at) "
                "VALUES ('h1', '{\"first_name\": \"Ann\"}', :t, :t)"
            ),
            {"t": observed.replace(tzinfo=None)},
        )
        connection.execute(
            sa.text(
                "INSERT INTO identifier (kind, value, hub_id, shared) "
                "VALUES ('email', 'ann@example.com', 'h1', false)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO provenance (hub_id, field, source, observed_at) "
                "VALUES ('h1', 'first_name', 'shop', :t)"
            ),
            {"t": observed.replace(tzinfo=None)},
        )

    store.migrate()
    with store.engine.connect() as connection:
        row = connection.execute(sa.text("SELECT data, provenance FROM customer")).one()
    provenance = row.provenance if isinstance(row.provenance, dict) else json.loads(row.provenance)
    assert provenance == {"first_name": ["shop", observed.isoformat()]}
    with store.engine.connect() as connection:
        kept = connection.execute(sa.text("SELECT hub_id FROM identifier")).scalars().all()
    assert kept == ["h1"], "rebuilding the customer table must not cascade into identifiers"

    store.migrate("0001", downgrade=True)
    with store.engine.connect() as connection:
        back = connection.execute(sa.text("SELECT hub_id, field, source FROM provenance")).all()
    assert [tuple(r) for r in back] == [("h1", "first_name", "shop")]
    store.close()


def test_0005_adds_analytics_tables_over_existing_customers_and_drops_them_cleanly(
    store_url: str,
) -> None:
    store = Store(store_url)
    store.migrate("0003")
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).replace(tzinfo=None)
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO customer (hub_id, data, provenance, created_at, updated_at) "
                "VALUES ('h1', '{\"first_name\": \"Ann\"}', '{}', :t, :t)"
            ),
            {"t": now},
        )

    store.migrate("0005")
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO customer_metrics (hub_id, computed_at, frequency, "
                "repeat_purchases, rfm_segment, revenue) VALUES ('h1', :t, 3, 2, 'loyal', 1250000)"
            ),
            {"t": now},
        )
        connection.execute(
            sa.text(
                "INSERT INTO segment_member (segment, hub_id, joined_at) VALUES ('vip', 'h1', :t)"
            ),
            {"t": now},
        )
        connection.execute(
            sa.text(
                "INSERT INTO trigger_firing (trigger, hub_id, occasion, fired_at, action, result) "
                "VALUES ('birthday', 'h1', '2026', :t, 'segment', 'queued')"
            ),
            {"t": now},
        )
    with store.engine.connect() as connection:
        kept = connection.execute(sa.text("SELECT data FROM customer")).scalar_one()
        segment = connection.execute(sa.text("SELECT rfm_segment FROM customer_metrics")).scalar()
    assert "Ann" in (kept if isinstance(kept, str) else json.dumps(kept))
    assert segment == "loyal"

    store.migrate("0003", downgrade=True)
    with store.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        customers = connection.execute(sa.text("SELECT hub_id FROM customer")).scalars().all()
    assert not {"customer_metrics", "segment_member", "trigger_firing"} & tables
    assert customers == ["h1"], "dropping the analytics tables must keep the customers"
    store.close()


def test_0004_adds_the_webhook_inbox_beside_existing_rows_and_drops_it_on_the_way_back(
    store_url: str,
) -> None:
    store = Store(store_url)
    store.migrate("0003")
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO customer (hub_id, data, provenance, created_at, updated_at) "
                "VALUES ('h1', '{}', '{}', :t, :t)"
            ),
            {"t": datetime(2024, 5, 1, tzinfo=UTC).replace(tzinfo=None)},
        )
    store.migrate()
    insert = sa.text(
        "INSERT INTO webhook_inbox (connection, delivery_id, method, headers, query, body, "
        "status, received_at) VALUES ('shop', :d, 'POST', '{}', '{}', :b, 'pending', :t)"
    )
    at = datetime(2024, 5, 2, tzinfo=UTC).replace(tzinfo=None)
    with store.engine.begin() as connection:
        connection.execute(insert, {"d": "evt_1", "b": b'{"id": 1}', "t": at})
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as connection:
        connection.execute(insert, {"d": "evt_1", "b": b"{}", "t": at})
    with store.engine.connect() as connection:
        [body] = connection.execute(sa.text("SELECT body FROM webhook_inbox")).scalars().all()
    assert bytes(body) == b'{"id": 1}'

    store.migrate("0003", downgrade=True)
    with store.engine.connect() as connection:
        assert "webhook_inbox" not in sa.inspect(connection).get_table_names()
        kept = connection.execute(sa.text("SELECT hub_id FROM customer")).scalars().all()
    assert kept == ["h1"]
    store.close()


def test_0006_adds_next_best_product_to_metrics_already_computed_and_removes_it(
    store_url: str,
) -> None:
    store = Store(store_url)
    store.migrate("0005")
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).replace(tzinfo=None)
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO customer (hub_id, data, provenance, created_at, updated_at) "
                "VALUES ('h1', '{}', '{}', :t, :t)"
            ),
            {"t": now},
        )
        connection.execute(
            sa.text(
                "INSERT INTO customer_metrics (hub_id, computed_at, frequency, "
                "repeat_purchases, rfm_segment) VALUES ('h1', :t, 2, 1, 'loyal')"
            ),
            {"t": now},
        )

    store.migrate("0006")
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE customer_metrics SET next_best_product = 'stove'"))
        row = connection.execute(
            sa.text("SELECT rfm_segment, next_best_product FROM customer_metrics")
        ).one()
    assert tuple(row) == ("loyal", "stove")

    store.migrate("0005", downgrade=True)
    with store.engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("customer_metrics")}
        kept = connection.execute(sa.text("SELECT rfm_segment FROM customer_metrics")).scalar()
    assert "next_best_product" not in columns and kept == "loyal"
    store.close()


def test_0007_gives_existing_firings_nothing_pending_and_drops_the_columns_cleanly(
    store_url: str,
) -> None:
    store = Store(store_url)
    store.migrate("0006")
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).replace(tzinfo=None)
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO customer (hub_id, data, provenance, created_at, updated_at) "
                "VALUES ('h1', '{}', '{}', :t, :t)"
            ),
            {"t": now},
        )
        connection.execute(
            sa.text(
                'INSERT INTO trigger_firing ("trigger", hub_id, occasion, fired_at, action, '
                "result) VALUES ('welcome', 'h1', 'first_order', :t, 'segment:new', 'member')"
            ),
            {"t": now},
        )

    store.migrate("0007")
    with store.engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT result, pending, attempts, outcomes FROM trigger_firing")
        ).one()
    assert (row.result, bool(row.pending), row.attempts, row.outcomes) == ("member", False, 0, None)

    store.migrate("0006", downgrade=True)
    with store.engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("trigger_firing")}
        kept = connection.execute(sa.text("SELECT occasion FROM trigger_firing")).scalar()
    assert not {"pending", "attempts", "outcomes"} & columns and kept == "first_order"
    store.close()


def test_0008_adds_raw_hash_to_existing_links_and_removes_it(store_url: str) -> None:
    store = Store(store_url)
    store.migrate("0007")
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC).replace(tzinfo=None)
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO customer (hub_id, data, provenance, created_at, updated_at) "
                "VALUES ('h1', '{}', '{}', :t, :t)"
            ),
            {"t": now},
        )
        connection.execute(
            sa.text(
                "INSERT INTO link (connection, object, external_id, hub_id, base, seen_hash, "
                "deleted, updated_at) VALUES ('shop', 'customer', '7', 'h1', "
                "'{\"first_name\": \"Ann\"}', 'abc', false, :t)"
            ),
            {"t": now},
        )

    store.migrate("0008")
    with store.engine.begin() as connection:
        before = connection.execute(sa.text("SELECT raw_hash, seen_hash FROM link")).one()
        connection.execute(sa.text("UPDATE link SET raw_hash = :h"), {"h": "f" * 64})
        after = connection.execute(sa.text("SELECT raw_hash FROM link")).scalar_one()
    assert tuple(before) == (None, "abc"), "existing links start without a payload hash"
    assert after == "f" * 64

    store.migrate("0007", downgrade=True)
    with store.engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("link")}
        kept = connection.execute(sa.text("SELECT external_id, seen_hash FROM link")).one()
        customers = connection.execute(sa.text("SELECT hub_id FROM customer")).scalars().all()
    assert "raw_hash" not in columns and tuple(kept) == ("7", "abc")
    assert customers == ["h1"], "rebuilding the link table must not touch customers"
    store.close()


def test_0009_drops_the_unused_customer_indexes_keeps_the_rows_and_restores_them(
    store_url: str,
) -> None:
    store = Store(store_url)
    store.migrate("0008")
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC).replace(tzinfo=None)
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO customer (hub_id, data, provenance, first_name, primary_email, "
                "created_at, updated_at) "
                "VALUES ('h1', '{}', '{}', 'Ann', 'ann@example.com', :t, :t)"
            ),
            {"t": now},
        )

    def indexes() -> set[str]:
        with store.engine.connect() as connection:
            return {str(i["name"]) for i in sa.inspect(connection).get_indexes("customer")}

    dropped = {"ix_customer_first_name", "ix_customer_primary_email"}
    assert dropped <= indexes()
    store.migrate("0009")
    assert not dropped & indexes()
    assert {"ix_customer_last_name", "ix_customer_updated_at"} <= indexes()
    store.migrate("0008", downgrade=True)
    assert dropped <= indexes()
    with store.engine.connect() as connection:
        row = connection.execute(sa.text("SELECT first_name, primary_email FROM customer")).one()
    assert tuple(row) == ("Ann", "ann@example.com")
    store.close()
