"""Drop the customer indexes on first_name and primary_email: written by every pull, read by none.

No query filters on ``first_name`` with an index (search compares
``lower(first_name) LIKE``, which cannot use one). E-mail look-ups go
through the identifier table's unique index instead of ``primary_email``.
Each index entry of a new customer lands on a random leaf page, which a
SQLite commit then writes out again: dropping the two took a first pull of
100,000 customers from 39 to 29 s (docs/performance.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_DROPPED = {"ix_customer_first_name": "first_name", "ix_customer_primary_email": "primary_email"}


def upgrade() -> None:
    for name in _DROPPED:
        op.drop_index(name, table_name="customer")


def downgrade() -> None:
    for name, column in _DROPPED.items():
        op.create_index(name, "customer", [column], unique=False)
