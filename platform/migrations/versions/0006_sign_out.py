"""Signing out ends every browser session of the user, on every server; membership
managers get column grants as narrow as what granting and revoking write.

Browser sessions are signed cookies, so a copy taken before sign-out would otherwise
stay valid until its idle timeout. `app_user.session_epoch` counts the user's sign-outs;
a session carries the count it began under and is over once the count moved on (a
counter, not a time, so the app servers' clocks never meet the database's).
`kizuna.sign_out()` advances it for the user `kizuna.begin_sign_in` found, and for no one
else (row security on `app_user`: the directory role updates only the row of
`kizuna.current_user_id()`).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MANAGERS = "kizuna_supervisor, kizuna_platform_admin"
MEMBERSHIP_CHANGES = "revoked_at, granted_at, display_name, idempotency_key"

SIGN_OUT = """
CREATE FUNCTION kizuna.sign_out() RETURNS void
LANGUAGE sql VOLATILE SECURITY INVOKER
AS $$ UPDATE kizuna.app_user SET session_epoch = session_epoch + 1 WHERE id = kizuna.current_user_id() $$;
"""


def upgrade() -> None:
    op.execute("ALTER TABLE kizuna.app_user ADD COLUMN session_epoch integer NOT NULL DEFAULT 0")
    op.execute(SIGN_OUT)
    op.execute("REVOKE ALL ON FUNCTION kizuna.sign_out() FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION kizuna.sign_out() TO kizuna_directory")
    op.execute("GRANT UPDATE (session_epoch) ON kizuna.app_user TO kizuna_directory")
    # Row security on the user directory: readable as before, changed by the user only.
    op.execute("ALTER TABLE kizuna.app_user ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE kizuna.app_user FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY directory_read ON kizuna.app_user FOR SELECT TO kizuna_directory, {MANAGERS} USING (true)"
    )
    op.execute(f"CREATE POLICY managers_register ON kizuna.app_user FOR INSERT TO {MANAGERS} WITH CHECK (true)")
    op.execute(
        "CREATE POLICY own_sign_out ON kizuna.app_user FOR UPDATE TO kizuna_directory"
        " USING (id = kizuna.current_user_id()) WITH CHECK (id = kizuna.current_user_id())"
    )
    # Those who manage memberships change only what granting and revoking change, and
    # register a user by name only: the resolvers are not the only line.
    op.execute(f"REVOKE UPDATE ON kizuna.membership FROM {MANAGERS}")
    op.execute(f"GRANT UPDATE ({MEMBERSHIP_CHANGES}) ON kizuna.membership TO {MANAGERS}")
    op.execute(f"REVOKE INSERT ON kizuna.app_user FROM {MANAGERS}")
    op.execute(f"GRANT INSERT (id, issuer, subject) ON kizuna.app_user TO {MANAGERS}")


def downgrade() -> None:
    op.execute(f"REVOKE INSERT (id, issuer, subject) ON kizuna.app_user FROM {MANAGERS}")
    op.execute(f"GRANT INSERT ON kizuna.app_user TO {MANAGERS}")
    op.execute(f"REVOKE UPDATE ({MEMBERSHIP_CHANGES}) ON kizuna.membership FROM {MANAGERS}")
    op.execute(f"GRANT UPDATE ON kizuna.membership TO {MANAGERS}")
    for policy in ("own_sign_out", "managers_register", "directory_read"):
        op.execute(f"DROP POLICY {policy} ON kizuna.app_user")
    op.execute("ALTER TABLE kizuna.app_user NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE kizuna.app_user DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION kizuna.sign_out()")
    op.execute("ALTER TABLE kizuna.app_user DROP COLUMN session_epoch")
