"""Time limits for the request path's database login in this database.

No request may hold the database for long: every statement of `kizuna_app` ends after
10 s (`statement_timeout`), and a transaction left idle is ended after a minute
(`idle_in_transaction_session_timeout`). They are settings of the login role in this
database, applied when a connection logs in, so they hold behind PgBouncer too and
nothing is set per request. A deployment may change them with
`ALTER ROLE kizuna_app IN DATABASE … SET …`.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SETTINGS = {"statement_timeout": "10s", "idle_in_transaction_session_timeout": "1min"}


def upgrade() -> None:
    for name, value in SETTINGS.items():
        op.execute(
            f"DO $$ BEGIN EXECUTE format('ALTER ROLE kizuna_app IN DATABASE %I SET {name} = %L',"
            f" current_database(), '{value}'); END $$"
        )


def downgrade() -> None:
    for name in SETTINGS:
        op.execute(
            f"DO $$ BEGIN EXECUTE format('ALTER ROLE kizuna_app IN DATABASE %I RESET {name}', current_database()); END $$"
        )
