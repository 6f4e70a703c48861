"""The development IdP's issuer is a name, not a URL: `urn:kizuna:dev-idp`.

It was `http://127.0.0.1:8000/dev-idp`, fixed whatever port the server listened on, so
on another port the discovery document named a URL that was not where the IdP was, and a
membership granted with the real URL was refused. A URN promises no address; the
discovery document is found at `/dev-idp/.well-known/openid-configuration` on whatever
address the server is reached on. Users of existing data directories keep their
memberships: their `app_user` rows move to the new name here.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "http://127.0.0.1:8000/dev-idp"
NEW = "urn:kizuna:dev-idp"


def _rename(old: str, new: str) -> None:
    # The owner renames rows: FORCE would hide them from it while no user is set.
    op.execute("ALTER TABLE kizuna.app_user NO FORCE ROW LEVEL SECURITY")
    op.execute(f"UPDATE kizuna.app_user SET issuer = '{new}' WHERE issuer = '{old}'")
    op.execute("ALTER TABLE kizuna.app_user FORCE ROW LEVEL SECURITY")


def upgrade() -> None:
    _rename(OLD, NEW)


def downgrade() -> None:
    _rename(NEW, OLD)
