"""Attempt events of kind "warning": something about how an attempt was made that a person
should see in its record and the report, without it failing (a distilled speed profile run
without any LoRA loaded).

Only the CHECK constraint on attempt_events.kind changes; on downgrade the warnings, which the
old constraint does not allow, are deleted.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "kind IN ('retry', 'oom_fallback')"
NEW_KINDS = "kind IN ('retry', 'oom_fallback', 'warning')"


def _kind_check(condition: str) -> None:
    with op.batch_alter_table("attempt_events") as batch:
        batch.drop_constraint(op.f("ck_attempt_events_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_attempt_events_kind"), condition)


def upgrade() -> None:
    _kind_check(NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM attempt_events WHERE kind = 'warning'")
    _kind_check(OLD_KINDS)
