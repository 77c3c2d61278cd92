"""Tombstones for erased people, and store-wide settings with the tombstone salt.

The salt is made here, once per store, so tombstone hashes cannot be compared
across installations or reversed with a table of common e-mail hashes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:05:00
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tombstone",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("erased_at", hub.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    settings = op.create_table(
        "hub_setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.bulk_insert(settings, [{"key": "tombstone_salt", "value": secrets.token_hex(32)}])


def downgrade() -> None:
    op.drop_table("hub_setting")
    op.drop_table("tombstone")
