"""The audit log, read by kind of event: an index for "every grant of a membership".

A supervisor filters `auditEvents` by entity and by action (issue 15, item 8). Both stayed
on the recent index, which finds a frequent kind at once (the reads of cases that every
page writes) and walks the tenant's whole log for a rare one: the changes an auditor looks
for (memberships granted, cases closed) are a sliver of a log made mostly of reads, 1 s
on the benchmark's log of 3.8 M events. This index (tenant, entity, action, newest first)
finds an entity's events, an entity's action's, and, by skipping over the few entities
(PostgreSQL 18's skip scan), an action's (docs/benchmarks.md, session 28); the planner
keeps the recent index for a frequent kind, whose statistics it knows.

Built in the migration's transaction, the index holds the log's writes while it builds
(some 15 s for 3.8 M events here); on a larger log build it beforehand with
`CREATE INDEX CONCURRENTLY ix_audit_event_kind ON kizuna.audit_event (municipality_code,
entity, action, occurred_at DESC, id DESC)`, outside a transaction, and the migration finds
it. No grant, policy or row changes.

Revision ID: 0036
Revises: 0035
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_audit_event_kind ON kizuna.audit_event"
        " (municipality_code, entity, action, occurred_at DESC, id DESC)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX kizuna.ix_audit_event_kind")
