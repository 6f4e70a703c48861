"""Approvals as the workflow has them: requested by municipal staff in their own name,
decided by a supervisor who did not request it, a rejection with its reason.

- `ck_approval_not_self_approved`: nobody decides an approval they requested.
- `ck_approval_rejected_with_comment`: a rejection says why (the requester reads it).
- Caseworkers and coordinators insert only a `requested` approval in their own name;
  only a supervisor decides, only a requested approval, and only in their own name.
  Supervisors' inserts stay as wide as the tenant: the demo seeder writes approved
  histories through them; the CHECK above still refuses a self-approval.
- Every policy is permissive and carries the tenant condition (0010).

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "municipality_code = kizuna.current_municipality()"
STAFF = "kizuna_caseworker, kizuna_coordinator, kizuna_supervisor"
REQUESTERS = "kizuna_caseworker, kizuna_coordinator"
BY_THE_REQUEST = "kizuna.current_subject()"


def _tenant_isolation_to(roles: str) -> str:
    """`tenant_isolation` on approval for `roles` and the table's owner (named when it runs)."""
    return (
        "DO $$ BEGIN EXECUTE format("
        f"'ALTER POLICY tenant_isolation ON kizuna.approval TO %I, {roles}',"
        " (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'kizuna.approval'::regclass)); END $$"
    )


def upgrade() -> None:
    op.execute(
        "ALTER TABLE kizuna.approval"
        " ADD CONSTRAINT ck_approval_not_self_approved CHECK (decided_by IS NULL OR decided_by <> requested_by),"
        " ADD CONSTRAINT ck_approval_rejected_with_comment"
        " CHECK (status <> 'rejected' OR char_length(btrim(comment)) > 0)"
    )
    op.execute(_tenant_isolation_to("kizuna_municipal_system"))
    op.execute(f"CREATE POLICY staff_reads ON kizuna.approval FOR SELECT TO {STAFF} USING ({TENANT})")
    op.execute(
        f"CREATE POLICY staff_requests ON kizuna.approval FOR INSERT TO {REQUESTERS}"
        f" WITH CHECK ({TENANT} AND status = 'requested' AND requested_by = {BY_THE_REQUEST})"
    )
    op.execute(
        f"CREATE POLICY supervisor_records ON kizuna.approval FOR INSERT TO kizuna_supervisor WITH CHECK ({TENANT})"
    )
    op.execute(
        "CREATE POLICY supervisor_decides ON kizuna.approval FOR UPDATE TO kizuna_supervisor"
        f" USING ({TENANT} AND status = 'requested')"
        f" WITH CHECK ({TENANT} AND status IN ('approved', 'rejected') AND decided_by = {BY_THE_REQUEST})"
    )


def downgrade() -> None:
    for policy in ("supervisor_decides", "supervisor_records", "staff_requests", "staff_reads"):
        op.execute(f"DROP POLICY {policy} ON kizuna.approval")
    op.execute("ALTER POLICY tenant_isolation ON kizuna.approval TO PUBLIC")
    op.execute(
        "ALTER TABLE kizuna.approval DROP CONSTRAINT ck_approval_rejected_with_comment,"
        " DROP CONSTRAINT ck_approval_not_self_approved"
    )
