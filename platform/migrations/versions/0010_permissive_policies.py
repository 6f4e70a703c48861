"""Every row-security rule as permissive policies per role, because Citus re-creates a
restrictive policy on its shards as a permissive one (docs/scale-out.md).

On a distributed table a policy created `AS RESTRICTIVE` arrives on the workers without
it, so it widens what it was meant to narrow: a school saw every referral of its tenant,
a caseworker every membership, a supervisor could grant a supervisor's membership. The
rules stay exactly as they were; they are stated so that only OR is needed:

- `tenant_isolation` on `membership` and `referral` no longer applies to PUBLIC but to the
  roles that have no narrower rule there (and to the tables' owner, which onboarding uses).
- Each role with a narrower rule gets permissive policies, per command, that carry the
  tenant condition and the narrower one together; the restrictive policies are dropped.
  The separation of duties of 0008 (nobody grants to themself; the grantor is the
  request's own user and role) is held here, in each manager's grant and change policies.

Where a role has no privilege (DELETE on `membership` for any app role), no policy is
given: the privilege check refuses before row security is consulted, as it did.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "municipality_code = kizuna.current_municipality()"
MANAGERS = "kizuna_supervisor, kizuna_platform_admin"
# The roles whose memberships are their own only (0004's `others`).
OWN_MEMBERSHIP_ONLY = (
    "kizuna_caseworker, kizuna_coordinator, kizuna_school_staff, kizuna_school_social_worker,"
    " kizuna_welfare_worker, kizuna_municipal_system, kizuna_prefecture_analyst"
)
REFERRERS = "kizuna_school_staff, kizuna_school_social_worker, kizuna_welfare_worker"
# The roles that read or change referrals without a narrower rule (0002's grants).
REFERRAL_STAFF = "kizuna_caseworker, kizuna_supervisor, kizuna_coordinator, kizuna_municipal_system"
SUPERVISED_ROLES = "role IN ('caseworker', 'coordinator', 'school_staff', 'school_social_worker', 'welfare_worker', 'municipal_system')"
OWN = "user_id = kizuna.current_user_id()"
# 0008's rule, held here: the request's own user may not be the grantee, and must be the grantor, in its role.
GRANTED_BY_THE_REQUEST = (
    "user_id <> kizuna.current_user_id()"
    " AND granted_by = kizuna.current_user_id()"
    " AND granted_by_role::text = kizuna.current_app_role()"
)
NOT_ONESELF = "user_id <> kizuna.current_user_id()"
CHANGED_BY_THE_REQUEST = (
    "user_id <> kizuna.current_user_id()"
    " AND (revoked_at IS NOT NULL OR"
    " (granted_by = kizuna.current_user_id() AND granted_by_role::text = kizuna.current_app_role()))"
)
REFERRER_READS = "referrer_organisation_id = kizuna.current_organisation()"
REFERRER_WRITES = (
    "referrer_organisation_id = kizuna.current_organisation()"
    " AND referrer_subject = kizuna.current_subject() AND status = 'submitted'"
)


def _to_tenant_roles(table: str, roles: str) -> str:
    """`tenant_isolation` on `table` for `roles` and the table's owner (named when it runs)."""
    return (
        "DO $$ BEGIN EXECUTE format("
        f"'ALTER POLICY tenant_isolation ON kizuna.{table} TO %I, {roles}',"
        f" (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'kizuna.{table}'::regclass)); END $$"
    )


def upgrade() -> None:
    for policy in ("own_membership", "supervisor_grants", "supervisor_changes"):
        op.execute(f"DROP POLICY {policy} ON kizuna.membership")
    op.execute(_to_tenant_roles("membership", "kizuna_directory"))
    op.execute(
        f"CREATE POLICY own_membership ON kizuna.membership TO {OWN_MEMBERSHIP_ONLY}"
        f" USING ({TENANT} AND {OWN}) WITH CHECK ({TENANT} AND {OWN})"
    )
    op.execute(f"CREATE POLICY managers_read ON kizuna.membership FOR SELECT TO {MANAGERS} USING ({TENANT})")
    op.execute(
        "CREATE POLICY supervisor_grants ON kizuna.membership FOR INSERT TO kizuna_supervisor"
        f" WITH CHECK ({TENANT} AND {SUPERVISED_ROLES} AND {GRANTED_BY_THE_REQUEST})"
    )
    op.execute(
        "CREATE POLICY supervisor_changes ON kizuna.membership FOR UPDATE TO kizuna_supervisor"
        f" USING ({TENANT} AND {SUPERVISED_ROLES} AND {NOT_ONESELF})"
        f" WITH CHECK ({TENANT} AND {SUPERVISED_ROLES} AND {CHANGED_BY_THE_REQUEST})"
    )
    op.execute(
        "CREATE POLICY platform_admin_grants ON kizuna.membership FOR INSERT TO kizuna_platform_admin"
        f" WITH CHECK ({TENANT} AND {GRANTED_BY_THE_REQUEST})"
    )
    op.execute(
        "CREATE POLICY platform_admin_changes ON kizuna.membership FOR UPDATE TO kizuna_platform_admin"
        f" USING ({TENANT} AND {NOT_ONESELF}) WITH CHECK ({TENANT} AND {CHANGED_BY_THE_REQUEST})"
    )

    op.execute("DROP POLICY referrer_own_organisation ON kizuna.referral")
    op.execute(_to_tenant_roles("referral", REFERRAL_STAFF))
    op.execute(
        f"CREATE POLICY referrer_own_organisation ON kizuna.referral TO {REFERRERS}"
        f" USING ({TENANT} AND {REFERRER_READS}) WITH CHECK ({TENANT} AND {REFERRER_WRITES})"
    )


def downgrade() -> None:
    op.execute("DROP POLICY referrer_own_organisation ON kizuna.referral")
    op.execute("ALTER POLICY tenant_isolation ON kizuna.referral TO PUBLIC")
    op.execute(
        f"CREATE POLICY referrer_own_organisation ON kizuna.referral AS RESTRICTIVE TO {REFERRERS}"
        f" USING ({REFERRER_READS}) WITH CHECK ({REFERRER_WRITES})"
    )
    for policy in (
        "own_membership",
        "managers_read",
        "supervisor_grants",
        "supervisor_changes",
        "platform_admin_grants",
        "platform_admin_changes",
    ):
        op.execute(f"DROP POLICY {policy} ON kizuna.membership")
    op.execute("ALTER POLICY tenant_isolation ON kizuna.membership TO PUBLIC")
    op.execute(
        f"CREATE POLICY own_membership ON kizuna.membership AS RESTRICTIVE TO {OWN_MEMBERSHIP_ONLY} USING ({OWN})"
    )
    op.execute(
        "CREATE POLICY supervisor_grants ON kizuna.membership AS RESTRICTIVE FOR INSERT TO kizuna_supervisor"
        f" WITH CHECK ({SUPERVISED_ROLES})"
    )
    op.execute(
        "CREATE POLICY supervisor_changes ON kizuna.membership AS RESTRICTIVE FOR UPDATE TO kizuna_supervisor"
        f" USING ({SUPERVISED_ROLES}) WITH CHECK ({SUPERVISED_ROLES})"
    )
