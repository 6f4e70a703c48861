"""The audit log, read by object: an index for "who read or changed this record".

A supervisor filters `auditEvents` by user, object and date (issue 15, item 8). Paging by
date is the recent index; a page of one object's events would scan the tenant's whole log
without `ix_audit_event_object` (tenant first, then the object, newest first). Filtering by
user stays on the recent index: a user's events are a large share of a log, an object's a
tiny one. No grant or policy changes.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_audit_event_object ON kizuna.audit_event"
        " (municipality_code, entity_id, occurred_at DESC, id DESC)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX kizuna.ix_audit_event_object")
