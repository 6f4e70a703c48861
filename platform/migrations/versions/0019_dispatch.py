"""Helper dispatch (子育て世帯ヘルパー派遣) written through the API: each step's record
holds together, a visit names its tasks, creates are idempotent, and staff change only
what the steps change.

- `helper_dispatch`: a status past a step needs that step's record (`surveyed` the survey
  date, `planned` the plan, `decided` the decision and its period; `ended` may come at any
  step: a withdrawn application), each step dated no earlier than the one before, and at
  most one dispatch per case that has not ended (a partial unique index: two applications
  sent at once cannot both open). `idempotency_key`, one per tenant.
- `helper_visit.tasks`: what the helper did, in the care-task vocabulary, within the
  service seed 002 names (家事・育児支援: housework, sibling care, watching over). Visits
  recorded before this revision (demo data only: no API wrote one) keep `'{}'`: their
  `activities` text says what was done, and is optional from now on. `idempotency_key`,
  one per tenant.
- Grants: staff no longer UPDATE a visit (a visit is a record of what happened), and
  change a dispatch's step columns only (never its case, application date or key).
- Policies, permissive and carrying the tenant condition (0010): staff read the tenant's
  dispatches and visits; caseworkers and coordinators insert only an `applied` dispatch
  (supervisors stay as wide as the tenant: the demo seeder writes whole histories through
  them); nobody changes an ended dispatch. Municipal systems read, as before.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "municipality_code = kizuna.current_municipality()"
STAFF = "kizuna_caseworker, kizuna_coordinator, kizuna_supervisor"
APPLICANTS = "kizuna_caseworker, kizuna_coordinator"
STEP_COLUMNS = (
    "status, provider_organisation_id, survey_visit_on, plan, decided_on, period_start, period_end, extended_until"
)
OPEN_PER_CASE = "uq_helper_dispatch_open_per_case"
DISPATCH_CHECKS = {
    "ck_helper_dispatch_surveyed_with_date": "status IN ('applied', 'ended') OR survey_visit_on IS NOT NULL",
    "ck_helper_dispatch_planned_with_plan": "status IN ('applied', 'surveyed', 'ended') OR plan IS NOT NULL",
    "ck_helper_dispatch_decided_with_period": (
        "status IN ('applied', 'surveyed', 'planned', 'ended')"
        " OR (decided_on IS NOT NULL AND period_start IS NOT NULL AND period_end IS NOT NULL)"
    ),
    "ck_helper_dispatch_decision_after_survey": "decided_on IS NULL OR decided_on >= survey_visit_on",
    "ck_helper_dispatch_period_from_decision": "period_start IS NULL OR period_start >= decided_on",
    "ck_helper_dispatch_idempotency_key_length": "char_length(idempotency_key) BETWEEN 1 AND 200",
}
VISIT_CHECKS = {
    "ck_helper_visit_tasks_of_the_service": "tasks <@ '{housework,sibling_care,watching_over}'::kizuna.care_task[]",
    "ck_helper_visit_idempotency_key_length": "char_length(idempotency_key) BETWEEN 1 AND 200",
}


def _tenant_isolation_to(table: str, roles: str) -> str:
    """`tenant_isolation` on `table` for `roles` and the table's owner (named when it runs)."""
    return (
        "DO $$ BEGIN EXECUTE format("
        f"'ALTER POLICY tenant_isolation ON kizuna.{table} TO %I, {roles}',"
        f" (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'kizuna.{table}'::regclass)); END $$"
    )


def upgrade() -> None:
    op.add_column("helper_dispatch", sa.Column("idempotency_key", sa.Text(), nullable=True), schema="kizuna")
    care_task = postgresql.ENUM(name="care_task", schema="kizuna", create_type=False)
    op.add_column(
        "helper_visit",
        sa.Column("tasks", postgresql.ARRAY(care_task), server_default=sa.text("'{}'"), nullable=False),
        schema="kizuna",
    )
    op.add_column("helper_visit", sa.Column("idempotency_key", sa.Text(), nullable=True), schema="kizuna")
    op.alter_column("helper_visit", "activities", nullable=True, schema="kizuna")
    for table, checks in (("helper_dispatch", DISPATCH_CHECKS), ("helper_visit", VISIT_CHECKS)):
        for name, condition in checks.items():
            op.execute(f"ALTER TABLE kizuna.{table} ADD CONSTRAINT {name} CHECK ({condition})")
        op.create_unique_constraint(
            f"uq_{table}_municipality_code_idempotency_key",
            table,
            ["municipality_code", "idempotency_key"],
            schema="kizuna",
        )
    op.create_index(
        OPEN_PER_CASE,
        "helper_dispatch",
        ["municipality_code", "case_id"],
        unique=True,
        schema="kizuna",
        postgresql_where=sa.text("status <> 'ended'"),
    )

    op.execute(f"REVOKE UPDATE ON kizuna.helper_visit FROM {STAFF}")
    op.execute(f"REVOKE UPDATE ON kizuna.helper_dispatch FROM {STAFF}")
    op.execute(f"GRANT UPDATE ({STEP_COLUMNS}) ON kizuna.helper_dispatch TO {STAFF}")

    op.execute(_tenant_isolation_to("helper_dispatch", "kizuna_municipal_system"))
    op.execute(f"CREATE POLICY staff_reads ON kizuna.helper_dispatch FOR SELECT TO {STAFF} USING ({TENANT})")
    op.execute(
        f"CREATE POLICY staff_applies ON kizuna.helper_dispatch FOR INSERT TO {APPLICANTS}"
        f" WITH CHECK ({TENANT} AND status = 'applied')"
    )
    op.execute(
        f"CREATE POLICY supervisor_records ON kizuna.helper_dispatch FOR INSERT TO kizuna_supervisor"
        f" WITH CHECK ({TENANT})"
    )
    op.execute(
        f"CREATE POLICY staff_steps ON kizuna.helper_dispatch FOR UPDATE TO {STAFF}"
        f" USING ({TENANT} AND status <> 'ended') WITH CHECK ({TENANT})"
    )


def downgrade() -> None:
    for policy in ("staff_steps", "supervisor_records", "staff_applies", "staff_reads"):
        op.execute(f"DROP POLICY {policy} ON kizuna.helper_dispatch")
    op.execute("ALTER POLICY tenant_isolation ON kizuna.helper_dispatch TO PUBLIC")
    op.execute(f"REVOKE UPDATE ({STEP_COLUMNS}) ON kizuna.helper_dispatch FROM {STAFF}")
    op.execute(f"GRANT UPDATE ON kizuna.helper_dispatch TO {STAFF}")
    op.execute(f"GRANT UPDATE ON kizuna.helper_visit TO {STAFF}")

    op.drop_index(OPEN_PER_CASE, table_name="helper_dispatch", schema="kizuna")
    for table, checks in (("helper_dispatch", DISPATCH_CHECKS), ("helper_visit", VISIT_CHECKS)):
        op.drop_constraint(f"uq_{table}_municipality_code_idempotency_key", table, schema="kizuna")
        for name in checks:
            op.drop_constraint(name, table, schema="kizuna")
    # Visits recorded without their activities in words say so, as 0013 does for old
    # declines; the owner may be subject to FORCE ROW LEVEL SECURITY (as in 0016).
    op.execute("ALTER TABLE kizuna.helper_visit NO FORCE ROW LEVEL SECURITY")
    op.execute("UPDATE kizuna.helper_visit SET activities = '（記録なし）' WHERE activities IS NULL")
    op.execute("ALTER TABLE kizuna.helper_visit FORCE ROW LEVEL SECURITY")
    op.alter_column("helper_visit", "activities", nullable=False, schema="kizuna")
    for column in ("idempotency_key", "tasks"):
        op.drop_column("helper_visit", column, schema="kizuna")
    op.drop_column("helper_dispatch", "idempotency_key", schema="kizuna")
