"""Separation of duties on memberships: nobody grants a membership to themself, and every
grant records who made it, in which role, so a municipality's supervisors see what a
platform administrator granted there.

- `membership.granted_by` / `granted_by_role`: the user and role of the request that
  granted (or granted again) the membership; NULL for onboarding, which runs over the
  administrative connection.
- Row security holds the rule in 0010's per-role policies for the membership managers:
  an inserted or reactivated row must not be for the request's own user, and must name
  the request's user and role as its grantor, so neither can be forged through the API.
  Not here as restrictive policies: Citus re-creates those permissive on its workers,
  where they would restrict nothing (docs/scale-out.md). The service refuses the same.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MANAGERS = "kizuna_supervisor, kizuna_platform_admin"


def upgrade() -> None:
    op.execute("ALTER TABLE kizuna.membership ADD COLUMN granted_by uuid")
    op.execute("ALTER TABLE kizuna.membership ADD COLUMN granted_by_role kizuna.app_role")
    op.execute(
        "ALTER TABLE kizuna.membership ADD CONSTRAINT fk_membership_granted_by"
        " FOREIGN KEY (granted_by) REFERENCES kizuna.app_user (id)"
    )
    op.execute(
        "ALTER TABLE kizuna.membership ADD CONSTRAINT ck_membership_grantor_complete"
        " CHECK ((granted_by IS NULL) = (granted_by_role IS NULL))"
    )
    op.execute(f"GRANT UPDATE (granted_by, granted_by_role) ON kizuna.membership TO {MANAGERS}")


def downgrade() -> None:
    op.execute(f"REVOKE UPDATE (granted_by, granted_by_role) ON kizuna.membership FROM {MANAGERS}")
    op.execute("ALTER TABLE kizuna.membership DROP CONSTRAINT ck_membership_grantor_complete")
    op.execute("ALTER TABLE kizuna.membership DROP CONSTRAINT fk_membership_granted_by")
    op.execute("ALTER TABLE kizuna.membership DROP COLUMN granted_by_role")
    op.execute("ALTER TABLE kizuna.membership DROP COLUMN granted_by")
