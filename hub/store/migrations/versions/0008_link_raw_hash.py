"""link.raw_hash: the hash of the vendor payload a link's record was last mapped from.

A full re-read can then skip a record whose payload did not change before
mapping it, the costly step of a re-read (hub/engine/rawskip.py). Existing
links start without one: their next pull maps them as before and fills it in.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("link", sa.Column("raw_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("link") as batch:
        batch.drop_column("raw_hash")
