"""Next-best product per customer, from co-purchase rules.

A column of its own revision because 0005 had already reached main: a store
migrated to 0005 must still get it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "customer_metrics", sa.Column("next_best_product", sa.String(length=255), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("customer_metrics") as batch:
        batch.drop_column("next_best_product")
