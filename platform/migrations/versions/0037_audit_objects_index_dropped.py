"""The read events' GIN index goes: under row security it can serve no reader.

0023 indexed the objects each read event names (`entity_ids`, GIN) for the supervisor's
"who read this record". Under row security PostgreSQL applies a query's own conditions
after the policy's, and uses them in an index scan only when their functions are
leakproof: `@>` on arrays is not, so the supervisor's statement could never use the index,
not even with sequential scans off, and no other role looks events up by their objects.
Every read event still paid for it, twice (the request's INSERT and the sealer's UPDATE):
some 30-50 µs of database CPU a page request (docs/benchmarks.md, session 28). A rarely
read record's page is a scan of the log, as it was; making it quick within row security
needs the objects of read events keyed by uuid equality (a table of their own, written by
the sealer), not this index. No grant, policy or row changes.

Revision ID: 0037
Revises: 0036
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS kizuna.ix_audit_event_objects")


def downgrade() -> None:
    op.execute(
        "CREATE INDEX ix_audit_event_objects ON kizuna.audit_event USING gin (entity_ids)"
        " WITH (gin_pending_list_limit = 32768) WHERE entity_ids IS NOT NULL"
    )
