"""Tokyo's 23 special wards (特別区) are local governments of their own kind.

The registry now lists every local government of Japan (`tenants/registry.py`), among them
the special wards, which are neither cities nor towns; `municipality_kind` gains their kind.
PostgreSQL cannot remove a value from an enum, so the downgrade leaves it.

Revision ID: 0033
Revises: 0032
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TYPE kizuna.municipality_kind ADD VALUE IF NOT EXISTS 'special_ward'")


def downgrade() -> None:
    """The value stays (an enum's value cannot be dropped); no row of a migrated database uses it
    unless a special ward was provisioned, which the downgrade does not undo."""
