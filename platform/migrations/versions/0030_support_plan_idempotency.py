"""`createSupportPlan` takes an idempotency key, as every other create does.

A client that retries a plan it is not sure was written (a timeout, a lost answer) would
otherwise write the case's next version twice. The key is the tenant's (one record per
key and tenant), as on `assessment`, `meeting` and `contact_log` (0021).

Revision ID: 0030
Revises: 0029
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE kizuna.support_plan ADD COLUMN idempotency_key text,"
        " ADD CONSTRAINT ck_support_plan_idempotency_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),"
        " ADD CONSTRAINT uq_support_plan_municipality_code_idempotency_key UNIQUE (municipality_code, idempotency_key)"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE kizuna.support_plan DROP CONSTRAINT uq_support_plan_municipality_code_idempotency_key,"
        " DROP CONSTRAINT ck_support_plan_idempotency_key_length, DROP COLUMN idempotency_key"
    )
