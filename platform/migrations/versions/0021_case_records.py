"""Case records (assessments, meetings, contact logs) written through the API: idempotent,
append-only, each in its writer's own name where the table names a writer.

- `assessment.family_situation`: the household as the assessor found it (who lives
  there, who else helps, what has changed). Who cares for whom, with tasks and hours, is
  recorded as care relationships; this is the assessment's own account of the family.
- `idempotency_key` on `assessment`, `meeting` and `contact_log` (one per tenant), so a
  retried creation finds its first record.
- Append-only: nothing in the API edits or deletes a record (a correction is a new one),
  so the municipal staff lose UPDATE on the four tables and DELETE on
  `meeting_participant`, which 0002 granted. SELECT and INSERT stay; municipal systems
  keep SELECT; schools, agencies, the prefecture and administrators still have nothing.
- A caseworker or coordinator writes an assessment in their own name as its assessor, and
  a contact log as its recorder: their INSERT policies on those two tables check the
  column against the request's own user. A supervisor's inserts stay as wide as the
  tenant, as on `approval` (0015): the demo seeder writes every story's records through
  the supervisor. `tenant_isolation` there stays for the roles without a narrower rule
  (the owner and municipal systems). Permissive policies carrying the tenant condition,
  no sub-select (0010, Citus).

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "municipality_code = kizuna.current_municipality()"
STAFF = "kizuna_caseworker, kizuna_coordinator, kizuna_supervisor"
WRITERS_IN_OWN_NAME = "kizuna_caseworker, kizuna_coordinator"
KEYED = ("assessment", "meeting", "contact_log")
APPEND_ONLY = ("assessment", "meeting", "meeting_participant", "contact_log")
# table -> the column naming who wrote the row
WRITERS = {"assessment": "assessor", "contact_log": "recorded_by"}


def _tenant_isolation_to(table: str, roles: str) -> str:
    """`tenant_isolation` on `table` for `roles` and the table's owner (named when it runs)."""
    return (
        "DO $$ BEGIN EXECUTE format("
        f"'ALTER POLICY tenant_isolation ON kizuna.{table} TO %I, {roles}',"
        f" (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'kizuna.{table}'::regclass)); END $$"
    )


def upgrade() -> None:
    op.execute("ALTER TABLE kizuna.assessment ADD COLUMN family_situation text")
    for table in KEYED:
        op.execute(
            f"ALTER TABLE kizuna.{table} ADD COLUMN idempotency_key text,"
            f" ADD CONSTRAINT ck_{table}_idempotency_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),"
            f" ADD CONSTRAINT uq_{table}_municipality_code_idempotency_key UNIQUE (municipality_code, idempotency_key)"
        )
    for table in APPEND_ONLY:
        op.execute(f"REVOKE UPDATE ON kizuna.{table} FROM {STAFF}")
    op.execute(f"REVOKE DELETE ON kizuna.meeting_participant FROM {STAFF}")
    for table, writer in WRITERS.items():
        op.execute(_tenant_isolation_to(table, "kizuna_municipal_system"))
        op.execute(f"CREATE POLICY staff_reads ON kizuna.{table} FOR SELECT TO {STAFF} USING ({TENANT})")
        op.execute(
            f"CREATE POLICY staff_records ON kizuna.{table} FOR INSERT TO {WRITERS_IN_OWN_NAME}"
            f" WITH CHECK ({TENANT} AND {writer} = kizuna.current_subject())"
        )
        op.execute(
            f"CREATE POLICY supervisor_records ON kizuna.{table} FOR INSERT TO kizuna_supervisor WITH CHECK ({TENANT})"
        )


def downgrade() -> None:
    for table in WRITERS:
        op.execute(f"DROP POLICY supervisor_records ON kizuna.{table}")
        op.execute(f"DROP POLICY staff_records ON kizuna.{table}")
        op.execute(f"DROP POLICY staff_reads ON kizuna.{table}")
        op.execute(f"ALTER POLICY tenant_isolation ON kizuna.{table} TO PUBLIC")
    op.execute(f"GRANT DELETE ON kizuna.meeting_participant TO {STAFF}")
    for table in APPEND_ONLY:
        op.execute(f"GRANT UPDATE ON kizuna.{table} TO {STAFF}")
    for table in KEYED:
        op.execute(
            f"ALTER TABLE kizuna.{table} DROP CONSTRAINT uq_{table}_municipality_code_idempotency_key,"
            f" DROP CONSTRAINT ck_{table}_idempotency_key_length, DROP COLUMN idempotency_key"
        )
    op.execute("ALTER TABLE kizuna.assessment DROP COLUMN family_situation")
