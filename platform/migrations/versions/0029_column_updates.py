"""No app role updates a whole row: each keeps UPDATE of the columns its work changes.

0002 granted municipal staff SELECT, INSERT, UPDATE on every case table, and the
platform administrator and the prefecture's analyst UPDATE on a table each; later
migrations narrowed some (0018 carer_case for workers, 0019 dispatches, 0021 records,
0022 consents). The rest still let a staff member's SQL rewrite any column of a row of
its tenant: a person's name or birth date, who requested an approval, a plan's goals. The
API never does; the database now refuses it too. What stays is what the services write
(and what `SELECT … FOR UPDATE` needs: UPDATE of one column):

- `person`: `merged_into_id` (a merge and its undo, `schema/person_merges/`);
- `care_relationship`: `carer_person_id`, `cared_for_person_id` (a merge moves them);
- `carer_case`, supervisor: the workers' columns (0018) and the assignment
  (`assignCase`), no longer the tenant, the id, the opening or the referral;
- `referral`, staff: the decision (`acceptReferral`, `declineReferral`, `mergeReferral`,
  `withdrawReferral`);
- `approval`: the decision, by a supervisor only (separation of duties: caseworkers and
  coordinators request approvals and never decide one);
- `household`, `case_participant`, `support_plan` (staff), `organisation` (platform
  administrator, whose directory is written by provisioning over the administrative
  connection), `programme_activity` (the prefecture's analyst: a recorded figure is
  removed and recorded again, never updated): nothing.

Revision ID: 0029
Revises: 0028
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF = "kizuna_caseworker, kizuna_coordinator, kizuna_supervisor"
WORKED_COLUMNS = "stage, closed_at, category, risk_level, yotaikyo_registered, person_id, household_id"
ASSIGNMENT_COLUMNS = "assigned_worker, assigned_worker_name, coordinator, coordinator_name, lead_organisation_id"
# (table, roles that held UPDATE of the whole row, the columns they keep; "" for none)
NARROWED = (
    ("person", STAFF, "merged_into_id"),
    ("care_relationship", STAFF, "carer_person_id, cared_for_person_id"),
    ("carer_case", "kizuna_supervisor", f"{WORKED_COLUMNS}, {ASSIGNMENT_COLUMNS}"),
    ("referral", STAFF, "status, case_id, person_id, decided_at, decided_by, decision_reason"),
    ("approval", "kizuna_supervisor", "status, decided_by, decided_at, comment"),
    ("approval", "kizuna_caseworker, kizuna_coordinator", ""),
    ("household", STAFF, ""),
    ("case_participant", STAFF, ""),
    ("support_plan", STAFF, ""),
    ("organisation", "kizuna_platform_admin", ""),
    ("programme_activity", "kizuna_prefecture_analyst", ""),
)


def upgrade() -> None:
    for table, roles, columns in NARROWED:
        op.execute(f"REVOKE UPDATE ON kizuna.{table} FROM {roles}")
        if columns:
            op.execute(f"GRANT UPDATE ({columns}) ON kizuna.{table} TO {roles}")


def downgrade() -> None:
    for table, roles, columns in reversed(NARROWED):
        if columns:
            op.execute(f"REVOKE UPDATE ({columns}) ON kizuna.{table} FROM {roles}")
        op.execute(f"GRANT UPDATE ON kizuna.{table} TO {roles}")
