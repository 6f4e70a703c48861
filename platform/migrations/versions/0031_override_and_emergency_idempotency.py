"""`shareCaseWithoutConsent` and `openEmergencyAccess` take an idempotency key, as every
other create does: a retried override or break-the-glass wrote a second share or access.

- `case_share`: the tenant's key (one share per key and tenant), as on the case records
  (0021) and support plans (0030). Only a supervisor's override carries one.
- `emergency_access`: the worker's own key (one access per key, tenant and subject): an
  agency reads only its own accesses, so another worker's key is neither found nor
  blocking.

Revision ID: 0031
Revises: 0030
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, the columns of its unique key)
KEYED = (
    ("case_share", "municipality_code, idempotency_key"),
    ("emergency_access", "municipality_code, subject, idempotency_key"),
)


def _unique(table: str, columns: str) -> str:
    return f"uq_{table}_{columns.replace(', ', '_')}"


def upgrade() -> None:
    for table, columns in KEYED:
        op.execute(
            f"ALTER TABLE kizuna.{table} ADD COLUMN idempotency_key text,"
            f" ADD CONSTRAINT ck_{table}_idempotency_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),"
            f" ADD CONSTRAINT {_unique(table, columns)} UNIQUE ({columns})"
        )


def downgrade() -> None:
    for table, columns in KEYED:
        op.execute(
            f"ALTER TABLE kizuna.{table} DROP CONSTRAINT {_unique(table, columns)},"
            f" DROP CONSTRAINT ck_{table}_idempotency_key_length, DROP COLUMN idempotency_key"
        )
