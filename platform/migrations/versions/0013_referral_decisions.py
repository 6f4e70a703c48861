"""Referral work: what a sender notes, why a referral was declined, who decided, and
idempotent sending; each role may change a referral only as its workflow allows.

- New columns: `care_tasks` and `family_aware` (the concern form), `decision_reason`
  (required when declined: the sender reads it), `decided_by`, `idempotency_key` (one per
  sender). Referrals declined before this revision get a reason that says none was kept.
- Senders (school staff, school social workers, welfare workers) read their
  organisation's referrals and send new ones as before, and may now change one thing:
  revoke their own referral while it is still submitted. Their one policy was FOR ALL
  with `status = 'submitted'` as its check: with the UPDATE that revoking needs, it would
  have let a sender set a declined referral back to submitted, so it is split by command.
- Caseworkers and coordinators decide a submitted referral (accept, decline, merge);
  supervisors may also withdraw it (`revoked` with a reason). Nobody changes a referral
  that is no longer submitted, and the decision names the request's own user.
- Every policy is permissive and carries the tenant condition (0010: Citus re-creates
  restrictive policies permissive on its workers).

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "municipality_code = kizuna.current_municipality()"
REFERRERS = "kizuna_school_staff, kizuna_school_social_worker, kizuna_welfare_worker"
DECIDERS = "kizuna_caseworker, kizuna_coordinator"
STAFF = "kizuna_caseworker, kizuna_coordinator, kizuna_supervisor"
OWN_ORGANISATION = "referrer_organisation_id = kizuna.current_organisation()"
SENT_BY_THE_REQUEST = f"{OWN_ORGANISATION} AND referrer_subject = kizuna.current_subject()"
DECIDED_BY_THE_REQUEST = "decided_by = kizuna.current_user_id()"
UNIQUE_KEY = "uq_referral_municipality_code_referrer_subject_idempotency_key"
NO_REASON_KEPT = "（移行前の不受理：理由の記録なし）"


def _tenant_isolation_to(roles: str) -> str:
    """`tenant_isolation` on referral for `roles` and the table's owner (named when it runs)."""
    return (
        "DO $$ BEGIN EXECUTE format("
        f"'ALTER POLICY tenant_isolation ON kizuna.referral TO %I, {roles}',"
        " (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'kizuna.referral'::regclass)); END $$"
    )


def upgrade() -> None:
    care_task = postgresql.ENUM(name="care_task", schema="kizuna", create_type=False)
    op.add_column(
        "referral",
        sa.Column("care_tasks", postgresql.ARRAY(care_task), server_default=sa.text("'{}'"), nullable=False),
        schema="kizuna",
    )
    op.add_column("referral", sa.Column("family_aware", sa.Boolean(), nullable=True), schema="kizuna")
    op.add_column("referral", sa.Column("decision_reason", sa.Text(), nullable=True), schema="kizuna")
    op.add_column("referral", sa.Column("decided_by", sa.Uuid(), nullable=True), schema="kizuna")
    op.add_column("referral", sa.Column("idempotency_key", sa.Text(), nullable=True), schema="kizuna")
    op.execute("ALTER TABLE kizuna.referral NO FORCE ROW LEVEL SECURITY")
    op.execute(
        f"UPDATE kizuna.referral SET decision_reason = '{NO_REASON_KEPT}'"
        " WHERE status = 'declined' AND decision_reason IS NULL"
    )
    op.execute("ALTER TABLE kizuna.referral FORCE ROW LEVEL SECURITY")
    op.execute(
        "ALTER TABLE kizuna.referral"
        " ADD CONSTRAINT ck_referral_declined_with_reason"
        " CHECK (status <> 'declined' OR char_length(btrim(decision_reason)) > 0),"
        " ADD CONSTRAINT ck_referral_idempotency_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),"
        f" ADD CONSTRAINT {UNIQUE_KEY} UNIQUE (municipality_code, referrer_subject, idempotency_key)"
    )

    op.execute(
        f"GRANT SELECT (care_tasks, family_aware, decision_reason, idempotency_key) ON kizuna.referral TO {REFERRERS}"
    )
    op.execute(f"GRANT INSERT (care_tasks, family_aware, idempotency_key) ON kizuna.referral TO {REFERRERS}")
    op.execute(f"GRANT UPDATE (status, decided_at) ON kizuna.referral TO {REFERRERS}")

    op.execute("DROP POLICY referrer_own_organisation ON kizuna.referral")
    op.execute(
        f"CREATE POLICY referrer_reads ON kizuna.referral FOR SELECT TO {REFERRERS}"
        f" USING ({TENANT} AND {OWN_ORGANISATION})"
    )
    op.execute(
        f"CREATE POLICY referrer_sends ON kizuna.referral FOR INSERT TO {REFERRERS}"
        f" WITH CHECK ({TENANT} AND {SENT_BY_THE_REQUEST} AND status = 'submitted')"
    )
    op.execute(
        f"CREATE POLICY referrer_revokes ON kizuna.referral FOR UPDATE TO {REFERRERS}"
        f" USING ({TENANT} AND {SENT_BY_THE_REQUEST} AND status = 'submitted')"
        f" WITH CHECK ({TENANT} AND {SENT_BY_THE_REQUEST} AND status = 'revoked' AND decided_by IS NULL)"
    )

    op.execute(_tenant_isolation_to("kizuna_municipal_system"))
    op.execute(f"CREATE POLICY staff_reads ON kizuna.referral FOR SELECT TO {STAFF} USING ({TENANT})")
    op.execute(f"CREATE POLICY staff_records ON kizuna.referral FOR INSERT TO {STAFF} WITH CHECK ({TENANT})")
    op.execute(
        f"CREATE POLICY staff_decides ON kizuna.referral FOR UPDATE TO {DECIDERS}"
        f" USING ({TENANT} AND status = 'submitted')"
        f" WITH CHECK ({TENANT} AND status IN ('accepted', 'declined', 'merged') AND {DECIDED_BY_THE_REQUEST})"
    )
    op.execute(
        "CREATE POLICY supervisor_decides ON kizuna.referral FOR UPDATE TO kizuna_supervisor"
        f" USING ({TENANT} AND status = 'submitted')"
        f" WITH CHECK ({TENANT} AND status IN ('accepted', 'declined', 'merged', 'revoked')"
        f" AND {DECIDED_BY_THE_REQUEST})"
    )


def downgrade() -> None:
    for policy in ("supervisor_decides", "staff_decides", "staff_records", "staff_reads"):
        op.execute(f"DROP POLICY {policy} ON kizuna.referral")
    op.execute(_tenant_isolation_to(f"{STAFF}, kizuna_municipal_system"))
    for policy in ("referrer_revokes", "referrer_sends", "referrer_reads"):
        op.execute(f"DROP POLICY {policy} ON kizuna.referral")
    op.execute(
        f"CREATE POLICY referrer_own_organisation ON kizuna.referral TO {REFERRERS}"
        f" USING ({TENANT} AND {OWN_ORGANISATION})"
        f" WITH CHECK ({TENANT} AND {SENT_BY_THE_REQUEST} AND status = 'submitted')"
    )
    op.execute(f"REVOKE UPDATE (status, decided_at) ON kizuna.referral FROM {REFERRERS}")
    op.execute(f"REVOKE INSERT (care_tasks, family_aware, idempotency_key) ON kizuna.referral FROM {REFERRERS}")
    op.execute(
        "REVOKE SELECT (care_tasks, family_aware, decision_reason, idempotency_key)"
        f" ON kizuna.referral FROM {REFERRERS}"
    )
    op.execute(
        f"ALTER TABLE kizuna.referral DROP CONSTRAINT {UNIQUE_KEY},"
        " DROP CONSTRAINT ck_referral_idempotency_key_length, DROP CONSTRAINT ck_referral_declined_with_reason"
    )
    for column in ("idempotency_key", "decided_by", "decision_reason", "family_aware", "care_tasks"):
        op.drop_column("referral", column, schema="kizuna")
