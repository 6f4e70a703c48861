"""The audit log, read by user: an index for "what did this user do".

A supervisor filters `auditEvents` by user (issue 15, item 8). 0017 left that filter on
the recent index, reasoning that a user's events are a large share of a log: true of a
caseworker who opens pages all day, not of the user an auditor most often asks about, one
who acted rarely or never. For such a user the page walked the tenant's whole log newest
first: 4 to 8 s on the benchmark's log of 3.8 M events, past the login's 10 s statement
timeout on a log a few times larger. This index (tenant, acting user, newest first) gives
any user's page in milliseconds (docs/benchmarks.md, session 28); each event costs one
more index entry, which the benchmark's requests did not show in their database CPU.

Built in the migration's transaction, the index holds the log's writes (every request's
read audit) while it builds: some 8 s for 3.8 M events here. On a larger log, build it
beforehand without blocking (`CREATE INDEX CONCURRENTLY ix_audit_event_actor ON
kizuna.audit_event (municipality_code, subject, occurred_at DESC, id DESC)`, outside a
transaction); the migration then finds it. No grant, policy or row changes.

Revision ID: 0035
Revises: 0034
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_audit_event_actor ON kizuna.audit_event"
        " (municipality_code, subject, occurred_at DESC, id DESC)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX kizuna.ix_audit_event_actor")
