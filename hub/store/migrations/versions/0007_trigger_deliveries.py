"""Trigger firings remember the actions still to deliver (a webhook call).

A firing is recorded in the transaction that decides it; an action that
calls out (a webhook) runs after that commit and may fail, so the row keeps
whether something is still ``pending``, how many refreshes tried it
(``attempts``) and what each action answered (``outcomes``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trigger_firing") as batch:
        batch.add_column(
            sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("outcomes", sa.JSON(), nullable=True))
        batch.create_index("ix_trigger_firing_pending", ["pending"])


def downgrade() -> None:
    with op.batch_alter_table("trigger_firing") as batch:
        batch.drop_index("ix_trigger_firing_pending")
        batch.drop_column("outcomes")
        batch.drop_column("attempts")
        batch.drop_column("pending")
