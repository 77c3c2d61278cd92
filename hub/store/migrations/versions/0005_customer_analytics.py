"""Customer analytics: per-customer metrics, segment membership, trigger firings.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def _customer_fk() -> sa.Column[str]:
    return sa.Column(
        "hub_id",
        sa.String(length=32),
        sa.ForeignKey("customer.hub_id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    money = hub.store.types.ScaledMoney
    op.create_table(
        "customer_metrics",
        _customer_fk(),
        sa.Column("computed_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.Column("first_order_at", hub.store.types.UtcDateTime(), nullable=True),
        sa.Column("last_order_at", hub.store.types.UtcDateTime(), nullable=True),
        sa.Column("recency_days", sa.Float(), nullable=True),
        sa.Column("tenure_days", sa.Float(), nullable=True),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("repeat_purchases", sa.Integer(), nullable=False),
        sa.Column("revenue", money(), nullable=True),
        sa.Column("average_order", money(), nullable=True),
        sa.Column("cost_of_goods", money(), nullable=True),
        sa.Column("service_cost", money(), nullable=True),
        sa.Column("profit", money(), nullable=True),
        sa.Column("r_score", sa.Integer(), nullable=True),
        sa.Column("f_score", sa.Integer(), nullable=True),
        sa.Column("m_score", sa.Integer(), nullable=True),
        sa.Column("rfm_segment", sa.String(length=32), nullable=False),
        sa.Column("clv_historical", money(), nullable=True),
        sa.Column("clv_predicted", money(), nullable=True),
        sa.Column("expected_purchases", sa.Float(), nullable=True),
        sa.Column("p_alive", sa.Float(), nullable=True),
        sa.Column("churn_risk", sa.Float(), nullable=True),
        sa.Column("acquisition_source", sa.String(length=64), nullable=True),
        sa.Column("acquisition_channel", sa.String(length=64), nullable=True),
        sa.Column("acquisition_campaign", sa.String(length=255), nullable=True),
        sa.Column("acquisition_cost", money(), nullable=True),
        sa.PrimaryKeyConstraint("hub_id"),
    )
    op.create_index("ix_customer_metrics_last_order_at", "customer_metrics", ["last_order_at"])
    op.create_index("ix_customer_metrics_rfm_segment", "customer_metrics", ["rfm_segment"])
    op.create_table(
        "segment_member",
        sa.Column("segment", sa.String(length=64), nullable=False),
        _customer_fk(),
        sa.Column("joined_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("segment", "hub_id"),
    )
    op.create_index("ix_segment_member_hub", "segment_member", ["hub_id"])
    op.create_table(
        "trigger_firing",
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("hub_id", sa.String(length=32), nullable=False),
        sa.Column("occasion", sa.String(length=64), nullable=False),
        sa.Column("fired_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("trigger", "hub_id", "occasion"),
    )
    op.create_index("ix_trigger_firing_fired_at", "trigger_firing", ["fired_at"])


def downgrade() -> None:
    op.drop_index("ix_trigger_firing_fired_at", table_name="trigger_firing")
    op.drop_table("trigger_firing")
    op.drop_index("ix_segment_member_hub", table_name="segment_member")
    op.drop_table("segment_member")
    op.drop_index("ix_customer_metrics_rfm_segment", table_name="customer_metrics")
    op.drop_index("ix_customer_metrics_last_order_at", table_name="customer_metrics")
    op.drop_table("customer_metrics")
