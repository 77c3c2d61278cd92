"""Provenance on the customer row; link.seen_run for full reconciliation.

Provenance moves from one row per (customer, field) into a JSON map on the
customer row, so a page of customers writes one row per customer. Existing
provenance rows are carried over, and back on downgrade: nothing is lost.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:23:03
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

customer = sa.table("customer", sa.column("hub_id", sa.String), sa.column("provenance", sa.JSON))
provenance = sa.table(
    "provenance",
    sa.column("hub_id", sa.String),
    sa.column("field", sa.String),
    sa.column("source", sa.String),
    sa.column("observed_at", hub.store.types.UtcDateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("provenance", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_run", sa.Integer(), nullable=True))

    connection = op.get_bind()
    folded: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for row in connection.execute(sa.select(provenance)):
        folded[row.hub_id][row.field] = [row.source, row.observed_at.isoformat()]
    for hub_id, fields in folded.items():
        connection.execute(
            customer.update().where(customer.c.hub_id == hub_id).values(provenance=fields)
        )
    op.drop_table("provenance")


def downgrade() -> None:
    op.create_table(
        "provenance",
        sa.Column("hub_id", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("observed_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["hub_id"], ["customer.hub_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hub_id", "field"),
    )
    connection = op.get_bind()
    rows = [
        {
            "hub_id": row.hub_id,
            "field": name,
            "source": source,
            "observed_at": datetime.fromisoformat(observed_at),
        }
        for row in connection.execute(sa.select(customer))
        for name, (source, observed_at) in (
            row.provenance if isinstance(row.provenance, dict) else json.loads(row.provenance)
        ).items()
    ]
    if rows:
        connection.execute(provenance.insert(), rows)
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.drop_column("seen_run")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("provenance")
