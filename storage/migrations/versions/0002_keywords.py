"""Trending keywords: one row per normalised keyword, with what the poller did with it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same conventions as 0001: names spelled out through op.f(), plain SQLAlchemy types.
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "keywords",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("normalised", sa.String(length=500), nullable=False),
        sa.Column("display", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("batch_name", sa.String(length=200), nullable=True),
        sa.Column("job_keys", sa.JSON(), nullable=False),
        sa.Column("first_seen_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'blocked', 'filtered', 'invalid')", name=op.f("ck_keywords_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keywords")),
        sa.UniqueConstraint("normalised", name=op.f("uq_keywords_normalised")),
    )
    op.create_index(op.f("ix_keywords_batch_name"), "keywords", ["batch_name"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_keywords_batch_name"), table_name="keywords")
    op.drop_table("keywords")
