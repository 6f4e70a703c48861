"""The read events' GIN index takes its new entries in a pending list of 32 MB, not 4 MB.

Every read event names the objects it read in `entity_ids`, and `ix_audit_event_objects`
(0023) takes an entry for each, twice: when the request writes the event and when the
sealer links it (a new row version). GIN gathers new entries in a pending list and merges
it into the index when it outgrows `gin_pending_list_limit`; with the default 4 MB, on the
benchmark's cases page (100 objects a request) the merge came every second or two, and
most of it fell to the sealer: its statement took 0.5 to 1.3 s a round, some 0.5 ms of
database CPU a page request, a quarter of a core. With 32 MB the merges are eight times
rarer and cheaper per entry (docs/benchmarks.md, session 27): the sealer's share fell to
about 0.1 ms a request. What a larger list costs: a search of the index (the supervisor's
"who read this record") also reads the pending list, up to 32 MB, and autovacuum merges
what is left. No grant, policy or row changes.

Revision ID: 0034
Revises: 0033
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING_LIST_KB = 32 * 1024  # frozen: migrations do not import the application's code


def upgrade() -> None:
    op.execute(f"ALTER INDEX kizuna.ix_audit_event_objects SET (gin_pending_list_limit = {PENDING_LIST_KB})")


def downgrade() -> None:
    op.execute("ALTER INDEX kizuna.ix_audit_event_objects RESET (gin_pending_list_limit)")
