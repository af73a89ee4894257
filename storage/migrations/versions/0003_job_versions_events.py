"""Job versions, budgets across runs, job leases, interrupted and cancelled jobs, pause and cancel
requests, what reproduces an attempt, its AIGC ProduceID, and attempt events apart from QA.

Retry decisions and memory fallbacks used to be stored as rows of qa_results (stage "retry",
value 0, passed); they move to attempt_events, and those rows are deleted.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime(timezone=True)
OLD_JOB = "status IN ('pending', 'running', 'accepted', 'failed', 'rejected', 'error')"
NEW_JOB = "status IN ('pending', 'running', 'accepted', 'failed', 'rejected', 'error', 'interrupted', 'cancelled')"
OLD_ATTEMPT = "status IN ('running', 'accepted', 'failed_qa', 'rejected', 'error')"
NEW_ATTEMPT = "status IN ('running', 'accepted', 'failed_qa', 'rejected', 'error', 'interrupted', 'cancelled')"


def _status_check(table: str, condition: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(f"ck_{table}_status"), type_="check")
        batch.create_check_constraint(op.f(f"ck_{table}_status"), condition)


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("version", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("budget_from", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", Timestamp, nullable=True))
        batch.add_column(sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("pause_requested", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("job_version", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("reproduce", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("produce_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("label_status", sa.String(length=32), nullable=True))
        batch.create_unique_constraint(op.f("uq_attempts_produce_id"), ["produce_id"])
    _status_check("jobs", NEW_JOB)
    _status_check("attempts", NEW_ATTEMPT)
    op.create_table(
        "attempt_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("kind IN ('retry', 'oom_fallback')", name=op.f("ck_attempt_events_kind")),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"], name=op.f("fk_attempt_events_attempt_id_attempts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempt_events")),
    )
    op.create_index(op.f("ix_attempt_events_attempt_id"), "attempt_events", ["attempt_id"], unique=False)
    # The old fake QA rows: the decision's wording survives as an event, the row goes.
    op.execute(
        "INSERT INTO attempt_events (attempt_id, kind, action, reason, details, created_at) "
        "SELECT attempt_id, CASE WHEN metric = 'oom_fallback' THEN 'oom_fallback' ELSE 'retry' END, "
        "metric, reason, '{}', CURRENT_TIMESTAMP FROM qa_results WHERE stage = 'retry'"
    )
    op.execute("DELETE FROM qa_results WHERE stage = 'retry'")


def downgrade() -> None:
    op.drop_index(op.f("ix_attempt_events_attempt_id"), table_name="attempt_events")
    op.drop_table("attempt_events")
    op.execute("UPDATE jobs SET status = 'error' WHERE status IN ('interrupted', 'cancelled')")
    op.execute("UPDATE attempts SET status = 'error' WHERE status IN ('interrupted', 'cancelled')")
    _status_check("attempts", OLD_ATTEMPT)
    _status_check("jobs", OLD_JOB)
    with op.batch_alter_table("attempts") as batch:
        batch.drop_constraint(op.f("uq_attempts_produce_id"), type_="unique")
        batch.drop_column("label_status")
        batch.drop_column("produce_id")
        batch.drop_column("reproduce")
        batch.drop_column("job_version")
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("pause_requested")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("cancel_requested")
        batch.drop_column("lease_expires_at")
        batch.drop_column("claimed_by")
        batch.drop_column("budget_from")
        batch.drop_column("version")
