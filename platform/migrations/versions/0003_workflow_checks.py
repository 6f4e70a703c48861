"""Workflow consistency the database can hold: stage transitions name their stage, and
municipality figures carry the timestamps of their submission state.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS = (
    (
        "case_event",
        "transition_names_stage",
        "(kind IN ('opened', 'stage_changed', 'reopened')) = (to_stage IS NOT NULL)",
    ),
    ("municipality_status", "submitted_iff_not_draft", "(submission = 'draft') = (submitted_at IS NULL)"),
    (
        "municipality_status",
        "decided_iff_decided",
        "(submission IN ('accepted', 'returned')) = (decided_at IS NOT NULL)",
    ),
    ("municipality_status", "decided_after_submitted", "decided_at IS NULL OR decided_at >= submitted_at"),
)


def upgrade() -> None:
    for table, name, condition in CHECKS:
        # Plain SQL: the names are exactly the models' (ck_<table>_<name>), untouched by conventions.
        op.execute(f"ALTER TABLE kizuna.{table} ADD CONSTRAINT ck_{table}_{name} CHECK ({condition})")


def downgrade() -> None:
    for table, name, _ in reversed(CHECKS):
        op.execute(f"ALTER TABLE kizuna.{table} DROP CONSTRAINT ck_{table}_{name}")
