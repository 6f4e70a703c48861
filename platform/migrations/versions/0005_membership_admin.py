"""Memberships managed through GraphQL: an idempotency key per grant, and the index the
memberships page is read in.

- `membership.idempotency_key` holds the key a `grantMembership` request carried, so a
  retried request finds the membership the first one made instead of making another.
  It is unique per tenant (the constraint leads with `municipality_code`, so one tenant
  can never learn that another used a key) and NULL when the request carried none.
- `ix_membership_recent` serves the page order (granted_at DESC, id DESC) of a tenant.
- The prefecture's roles (platform_admin, prefecture_analyst) are held in a prefecture
  tenant (code `NN000C`) and every other role in a municipality: a CHECK constraint.
- A supervisor manages the municipal working roles and nothing else: restrictive
  policies (no sub-select, as Citus needs) refuse a supervisor's INSERT or UPDATE of a
  supervisor, platform_admin or prefecture_analyst membership, whatever the resolver did.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFECTURE_ROLES = "'platform_admin', 'prefecture_analyst'"
SUPERVISED_ROLES = (
    "'caseworker', 'coordinator', 'school_staff', 'school_social_worker', 'welfare_worker', 'municipal_system'"
)


def upgrade() -> None:
    op.execute("ALTER TABLE kizuna.membership ADD COLUMN idempotency_key text")
    op.execute(
        "ALTER TABLE kizuna.membership ADD CONSTRAINT ck_membership_idempotency_key_length"
        " CHECK (char_length(idempotency_key) BETWEEN 1 AND 200)"
    )
    op.execute(
        "ALTER TABLE kizuna.membership ADD CONSTRAINT uq_membership_municipality_code_idempotency_key"
        " UNIQUE (municipality_code, idempotency_key)"
    )
    op.execute("CREATE INDEX ix_membership_recent ON kizuna.membership (municipality_code, granted_at DESC, id DESC)")
    op.execute(
        "ALTER TABLE kizuna.membership ADD CONSTRAINT ck_membership_role_fits_tenant"
        f" CHECK ((role IN ({PREFECTURE_ROLES})) = (municipality_code ~ '^[0-9]{{2}}000[0-9]$'))"
    )
    op.execute(
        "CREATE POLICY supervisor_grants ON kizuna.membership AS RESTRICTIVE FOR INSERT TO kizuna_supervisor"
        f" WITH CHECK (role IN ({SUPERVISED_ROLES}))"
    )
    op.execute(
        "CREATE POLICY supervisor_changes ON kizuna.membership AS RESTRICTIVE FOR UPDATE TO kizuna_supervisor"
        f" USING (role IN ({SUPERVISED_ROLES})) WITH CHECK (role IN ({SUPERVISED_ROLES}))"
    )


def downgrade() -> None:
    op.execute("DROP POLICY supervisor_changes ON kizuna.membership")
    op.execute("DROP POLICY supervisor_grants ON kizuna.membership")
    op.execute("ALTER TABLE kizuna.membership DROP CONSTRAINT ck_membership_role_fits_tenant")
    op.execute("DROP INDEX kizuna.ix_membership_recent")
    op.execute("ALTER TABLE kizuna.membership DROP CONSTRAINT uq_membership_municipality_code_idempotency_key")
    op.execute("ALTER TABLE kizuna.membership DROP CONSTRAINT ck_membership_idempotency_key_length")
    op.execute("ALTER TABLE kizuna.membership DROP COLUMN idempotency_key")
