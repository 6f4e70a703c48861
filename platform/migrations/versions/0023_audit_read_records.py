"""Reads audited as one event per request and kind of object, naming every object read.

A page of 50 cases with their people wrote 100 audit rows, and the sealer then rewrote
each of them to link it (a new row version in every index): on a busy page that was more
database work than the page itself, and the cases page fell to about half the minimal
strawberry server's speed (issue 15, item 9). A read event now names all the objects of one
kind that the request read, each once, in `entity_ids` (as FHIR's AuditEvent lists its
entities): the request writes two rows, the sealer links two. A change still names its one
object in `entity_id`; an event names its objects one way or the other, never both.

`ix_audit_event_objects` (GIN, read events only) keeps "who read this record" an index
lookup, next to 0017's index for the changes. The request path may insert the new column;
nothing else changes in the grants or policies. Events written before this migration keep
their rows and hashes: the hashed form includes `entity_ids` only where it is set
(platform/audit.py `canonical`).

Revision ID: 0023
Revises: 0022
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy: migrations do not import the application's code.
APP_ROLES = (
    "caseworker",
    "supervisor",
    "coordinator",
    "school_staff",
    "school_social_worker",
    "welfare_worker",
    "municipal_system",
    "prefecture_analyst",
    "platform_admin",
)


def upgrade() -> None:
    roles = ", ".join(f"kizuna_{r}" for r in APP_ROLES)
    op.execute("ALTER TABLE kizuna.audit_event ADD COLUMN entity_ids uuid[]")
    op.execute(
        "ALTER TABLE kizuna.audit_event ADD CONSTRAINT ck_audit_event_objects_named_one_way"
        " CHECK (entity_id IS NULL OR entity_ids IS NULL)"
    )
    op.execute(
        "CREATE INDEX ix_audit_event_objects ON kizuna.audit_event USING gin (entity_ids) WHERE entity_ids IS NOT NULL"
    )
    op.execute(f"GRANT INSERT (entity_ids) ON kizuna.audit_event TO {roles}")


def downgrade() -> None:
    roles = ", ".join(f"kizuna_{r}" for r in APP_ROLES)
    op.execute(f"REVOKE INSERT (entity_ids) ON kizuna.audit_event FROM {roles}")
    op.execute("DROP INDEX kizuna.ix_audit_event_objects")
    op.execute("ALTER TABLE kizuna.audit_event DROP CONSTRAINT ck_audit_event_objects_named_one_way")
    op.execute("ALTER TABLE kizuna.audit_event DROP COLUMN entity_ids")
