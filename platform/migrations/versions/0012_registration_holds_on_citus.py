"""A membership manager registers a user by name only, also where the column grants
cannot say so.

0006 lets the managers insert `id, issuer, subject` into `app_user` and nothing else. On
Citus the coordinator writes the column defaults out into the statement it sends to the
shards of the reference table, so the deployment grants INSERT of `created_at` and
`session_epoch` too (deploy/citus/distribute.sql). Row security then holds what the
grant no longer can: a registered user starts with no sign-outs. (`created_at` stays
settable on Citus; it is a record, not a control. docs/scale-out.md)

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER POLICY managers_register ON kizuna.app_user WITH CHECK (session_epoch = 0)")


def downgrade() -> None:
    op.execute("ALTER POLICY managers_register ON kizuna.app_user WITH CHECK (true)")
