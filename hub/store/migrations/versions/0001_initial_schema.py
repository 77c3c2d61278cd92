"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 14:13:48.256003
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.store.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", hub.store.types.UtcDateTime(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("hub_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_hub_id"), ["hub_id"], unique=False)

    op.create_table(
        "campaign",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("sent_at", hub.store.types.UtcDateTime(), nullable=True),
        sa.Column("sends", sa.Integer(), nullable=True),
        sa.Column("opens", sa.Integer(), nullable=True),
        sa.Column("clicks", sa.Integer(), nullable=True),
        sa.Column("unsubscribes", sa.Integer(), nullable=True),
        sa.Column("bounces", sa.Integer(), nullable=True),
        sa.Column("impressions", sa.Integer(), nullable=True),
        sa.Column("leads", sa.Integer(), nullable=True),
        sa.Column("spend", hub.store.types.ScaledMoney(), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
        sa.Column("updated_at", hub.store.types.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("hub_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("resolution", sa.JSON(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.Column("resolved_at", hub.store.types.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("conflict", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conflict_hub_id"), ["hub_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_conflict_status"), ["status"], unique=False)

    op.create_table(
        "customer",
        sa.Column("hub_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("last_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("primary_email", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("hub_id"),
    )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_first_name"), ["first_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_last_name"), ["last_name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_customer_primary_email"), ["primary_email"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customer_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "dead_letter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("stream", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dead_letter_connection"), ["connection"], unique=False)
        batch_op.create_index(batch_op.f("ix_dead_letter_status"), ["status"], unique=False)

    op.create_table(
        "interaction",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("customer_hub_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("occurred_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("campaign_ref", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interaction_customer_hub_id"), ["customer_hub_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_interaction_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_interaction_occurred_at"), ["occurred_at"], unique=False
        )

    op.create_table(
        "link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("object", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("hub_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("base", sa.JSON(), nullable=False),
        sa.Column("seen_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("shadow", sa.JSON(), nullable=True),
        sa.Column("pushed_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("updated_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("connection", "object", "external_id", name="uq_link_external"),
    )
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.create_index("ix_link_hub", ["hub_id", "connection"], unique=False)

    op.create_table(
        "order",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("customer_hub_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("placed_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("subtotal", hub.store.types.ScaledMoney(), nullable=True),
        sa.Column("discount", hub.store.types.ScaledMoney(), nullable=True),
        sa.Column("shipping", hub.store.types.ScaledMoney(), nullable=True),
        sa.Column("tax", hub.store.types.ScaledMoney(), nullable=True),
        sa.Column("total", hub.store.types.ScaledMoney(), nullable=False),
        sa.Column("refunded", hub.store.types.ScaledMoney(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("financial_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("fulfillment_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("cancelled_at", hub.store.types.UtcDateTime(), nullable=True),
        sa.Column("updated_at", hub.store.types.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_customer_hub_id"), ["customer_hub_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_order_placed_at"), ["placed_at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("stream", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hub_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("op", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", hub.store.types.UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_pending", ["status", "connection", "id"], unique=False)

    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("stream", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("started_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.Column("finished_at", hub.store.types.UtcDateTime(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_connection"), ["connection"], unique=False)
        batch_op.create_index(batch_op.f("ix_run_started_at"), ["started_at"], unique=False)

    op.create_table(
        "sync_state",
        sa.Column("connection", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("stream", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("updated_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("connection", "stream"),
    )
    op.create_table(
        "identifier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("hub_id", sa.String(length=32), nullable=True),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["hub_id"], ["customer.hub_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "value", name="uq_identifier_kind_value"),
    )
    with op.batch_alter_table("identifier", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identifier_hub_id"), ["hub_id"], unique=False)

    op.create_table(
        "order_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("product_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", hub.store.types.ScaledMoney(), nullable=False),
        sa.Column("total", hub.store.types.ScaledMoney(), nullable=False),
        sa.Column("cost", hub.store.types.ScaledMoney(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_line_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_line_sku"), ["sku"], unique=False)

    op.create_table(
        "provenance",
        sa.Column("hub_id", sa.String(length=32), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("observed_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["hub_id"], ["customer.hub_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hub_id", "field"),
    )


def downgrade() -> None:
    op.drop_table("provenance")
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_line_sku"))
        batch_op.drop_index(batch_op.f("ix_order_line_order_id"))

    op.drop_table("order_line")
    with op.batch_alter_table("identifier", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identifier_hub_id"))

    op.drop_table("identifier")
    op.drop_table("sync_state")
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_started_at"))
        batch_op.drop_index(batch_op.f("ix_run_connection"))

    op.drop_table("run")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")

    op.drop_table("outbox")
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_placed_at"))
        batch_op.drop_index(batch_op.f("ix_order_customer_hub_id"))

    op.drop_table("order")
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.drop_index("ix_link_hub")

    op.drop_table("link")
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interaction_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_interaction_kind"))
        batch_op.drop_index(batch_op.f("ix_interaction_customer_hub_id"))

    op.drop_table("interaction")
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letter_status"))
        batch_op.drop_index(batch_op.f("ix_dead_letter_connection"))

    op.drop_table("dead_letter")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_updated_at"))
        batch_op.drop_index(batch_op.f("ix_customer_primary_email"))
        batch_op.drop_index(batch_op.f("ix_customer_last_name"))
        batch_op.drop_index(batch_op.f("ix_customer_first_name"))

    op.drop_table("customer")
    with op.batch_alter_table("conflict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conflict_status"))
        batch_op.drop_index(batch_op.f("ix_conflict_hub_id"))

    op.drop_table("conflict")
    op.drop_table("campaign")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_hub_id"))
        batch_op.drop_index(batch_op.f("ix_audit_at"))

    op.drop_table("audit")
