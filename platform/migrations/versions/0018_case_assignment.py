"""Cases: who works them, by name, and the category that changes at 18.

- `carer_case.assigned_worker_name` and `coordinator_name`, `case_event.actor_name`: the
  name (the membership's display name) of the worker, the coordinator and whoever wrote
  each event, as the case's page and history show them. Colleagues cannot read each
  other's memberships (only supervisors can), so the name is kept with what it names, as
  on paper, when it is written. Existing rows take it from the memberships.
- Assigning the worker, the coordinator and the lead organisation is a supervisor's:
  caseworkers and coordinators keep UPDATE of the columns their work changes (the stage,
  the category, the risk, the yotaikyo registration, and the person and household a
  merge of duplicates moves), no longer of the whole row.
- `case_event_kind` gains `category_changed`: a young carer's case becomes a young adult
  carer's on the 18th birthday (seed 003), written by `kizuna cases come-of-age`.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORKERS = "kizuna_caseworker, kizuna_coordinator"
WORKED_COLUMNS = "stage, closed_at, category, risk_level, yotaikyo_registered, person_id, household_id"
# A user's name in a tenant: any of their memberships there (one name per grant).
NAME_OF = (
    "(SELECT m.display_name FROM kizuna.membership m WHERE m.municipality_code = {table}.municipality_code"
    " AND m.user_id::text = {table}.{column} ORDER BY m.granted_at DESC LIMIT 1)"
)


def upgrade() -> None:
    op.execute("ALTER TABLE kizuna.carer_case ADD COLUMN assigned_worker_name text, ADD COLUMN coordinator_name text")
    op.execute("ALTER TABLE kizuna.case_event ADD COLUMN actor_name text")
    op.execute("ALTER TYPE kizuna.case_event_kind ADD VALUE IF NOT EXISTS 'category_changed'")
    op.execute(
        "UPDATE kizuna.carer_case SET"
        f" assigned_worker_name = {NAME_OF.format(table='carer_case', column='assigned_worker')},"
        f" coordinator_name = {NAME_OF.format(table='carer_case', column='coordinator')}"
    )
    op.execute(f"UPDATE kizuna.case_event SET actor_name = {NAME_OF.format(table='case_event', column='actor')}")
    op.execute(f"REVOKE UPDATE ON kizuna.carer_case FROM {WORKERS}")
    op.execute(f"GRANT UPDATE ({WORKED_COLUMNS}) ON kizuna.carer_case TO {WORKERS}")


def downgrade() -> None:
    op.execute(f"REVOKE UPDATE ({WORKED_COLUMNS}) ON kizuna.carer_case FROM {WORKERS}")
    op.execute(f"GRANT UPDATE ON kizuna.carer_case TO {WORKERS}")
    op.execute("ALTER TABLE kizuna.case_event DROP COLUMN actor_name")
    op.execute("ALTER TABLE kizuna.carer_case DROP COLUMN coordinator_name, DROP COLUMN assigned_worker_name")
    # An enum value cannot be dropped; `category_changed` stays, unused.
