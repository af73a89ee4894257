"""What each QA result measured, as fields: `kind` (qa.types.CheckKind) and `subject` (the class,
name or interaction it is about), beside the human-readable `metric` name kept as before.

Readers used to split `metric` at ":" to tell a count from a vanish check; rows stored before
this revision get their kind and subject here, once, from that name.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("qa_results") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("subject", sa.String(length=64), nullable=True))
    qa_results = sa.table("qa_results", sa.column("metric", sa.String), sa.column("kind", sa.String),
                          sa.column("subject", sa.String))
    connection = op.get_bind()
    # One update per distinct name ("count:person", "flicker"), not per row.
    for (metric,) in connection.execute(sa.select(qa_results.c.metric).distinct()).all():
        kind, _, subject = metric.partition(":")
        connection.execute(qa_results.update().where(qa_results.c.metric == metric)
                           .values(kind=kind, subject=subject or None))
    with op.batch_alter_table("qa_results") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("qa_results") as batch:
        batch.drop_column("subject")
        batch.drop_column("kind")
