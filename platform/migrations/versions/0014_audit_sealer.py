"""The audit log is written unsealed and chained by a sealer of its own (platform/audit.py).

Until now every audited request of a tenant took the tenant's advisory lock and read the
chain's last link, so a tenant's audited requests queued behind each other, and the chain
could not show that its newest rows were deleted. Now:

- requests insert events without `seq`, `prev_hash` and `hash` (NULL until sealed; a
  CHECK keeps the three together), with no lock and no read. The app roles may insert only
  the event's own columns, and read nothing of the log (0004 let them read
  `(municipality_code, seq, hash)` to continue the chain); supervisors keep their SELECT;
- `kizuna_auditor`, a NOLOGIN role of its own that the request path's login is not a
  member of, seals them: it reads the log, sets the three link columns of unsealed rows only
  (its UPDATE policy), and appends the head it reached to `audit_seal`, a tenant table that
  no app role is granted anything on. It is used through the administrative connection
  (`SET LOCAL ROLE`), which is why the role running the migrations is made a member;
- each tenant's current head is recorded from the chain as it stands.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies: migrations do not import the application's code.
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
EVENT_COLUMNS = "municipality_code, id, occurred_at, subject, role, action, entity, entity_id, fields, request_id"
TENANT = "municipality_code = kizuna.current_municipality()"


def upgrade() -> None:
    roles = ", ".join(f"kizuna_{r}" for r in APP_ROLES)
    op.execute(
        "ALTER TABLE kizuna.audit_event ALTER COLUMN seq DROP NOT NULL,"
        " ALTER COLUMN prev_hash DROP NOT NULL, ALTER COLUMN hash DROP NOT NULL"
    )
    op.create_check_constraint(
        op.f("ck_audit_event_sealed_whole"),
        "audit_event",
        "(seq IS NULL) = (prev_hash IS NULL) AND (seq IS NULL) = (hash IS NULL)",
        schema="kizuna",
    )
    op.create_index(
        "ix_audit_event_unsealed",
        "audit_event",
        ["municipality_code", "occurred_at", "id"],
        schema="kizuna",
        postgresql_where=sa.text("seq IS NULL"),
    )
    op.create_index(
        "ix_audit_event_recent",
        "audit_event",
        ["municipality_code", sa.text("occurred_at DESC"), sa.text("id DESC")],
        schema="kizuna",
    )
    op.create_table(
        "audit_seal",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_audit_seal_municipality_code_set")),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_audit_seal_seq_positive")),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_audit_seal_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_audit_seal")),
        sa.UniqueConstraint("municipality_code", "seq", name=op.f("uq_audit_seal_municipality_code_seq")),
        schema="kizuna",
    )
    # Each chain as it stands becomes its first sealed head. Read past row security (which
    # the owner is held to as well: FORCE) for this statement only.
    op.execute("ALTER TABLE kizuna.audit_event NO FORCE ROW LEVEL SECURITY")
    op.execute(
        "INSERT INTO kizuna.audit_seal (municipality_code, id, seq, hash)"
        " SELECT DISTINCT ON (municipality_code) municipality_code, gen_random_uuid(), seq, hash"
        " FROM kizuna.audit_event ORDER BY municipality_code, seq DESC"
    )
    op.execute("ALTER TABLE kizuna.audit_event FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE kizuna.audit_seal ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE kizuna.audit_seal FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON kizuna.audit_seal USING ({TENANT}) WITH CHECK ({TENANT})")

    # Requests append events and no longer read the chain; they cannot write its links.
    op.execute(f"REVOKE SELECT (municipality_code, seq, hash) ON kizuna.audit_event FROM {roles}")
    op.execute(f"REVOKE INSERT ON kizuna.audit_event FROM {roles}")
    op.execute(f"GRANT INSERT ({EVENT_COLUMNS}) ON kizuna.audit_event TO {roles}")

    # The sealer: cluster-wide, like the app roles; never granted to the request path's login.
    op.execute(
        "DO $$ BEGIN\n"
        "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kizuna_auditor') THEN\n"
        "  CREATE ROLE kizuna_auditor NOLOGIN;\n"
        "END IF;\n"
        "END $$"
    )
    op.execute("ALTER ROLE kizuna_auditor NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
    op.execute("GRANT kizuna_auditor TO CURRENT_USER")
    op.execute("GRANT USAGE ON SCHEMA kizuna TO kizuna_auditor")
    # tenant_isolation applies to every role, the sealer's too (no tenant set: it adds nothing).
    op.execute("GRANT EXECUTE ON FUNCTION kizuna.current_municipality() TO kizuna_auditor")
    op.execute("GRANT SELECT, UPDATE (seq, prev_hash, hash) ON kizuna.audit_event TO kizuna_auditor")
    op.execute("GRANT SELECT, INSERT ON kizuna.audit_seal TO kizuna_auditor")
    # Every tenant's log (no sub-select, no tenant setting: the sealer serves them all); a
    # link is written once, on an unsealed row, and never changed after.
    op.execute("CREATE POLICY auditor_reads ON kizuna.audit_event FOR SELECT TO kizuna_auditor USING (true)")
    op.execute(
        "CREATE POLICY auditor_seals ON kizuna.audit_event FOR UPDATE TO kizuna_auditor"
        " USING (seq IS NULL) WITH CHECK (seq IS NOT NULL)"
    )
    op.execute("CREATE POLICY auditor_reads ON kizuna.audit_seal FOR SELECT TO kizuna_auditor USING (true)")
    op.execute("CREATE POLICY auditor_appends ON kizuna.audit_seal FOR INSERT TO kizuna_auditor WITH CHECK (true)")


def downgrade() -> None:
    roles = ", ".join(f"kizuna_{r}" for r in APP_ROLES)
    op.execute("DROP POLICY auditor_reads ON kizuna.audit_event")
    op.execute("DROP POLICY auditor_seals ON kizuna.audit_event")
    op.execute("REVOKE ALL ON kizuna.audit_event FROM kizuna_auditor")
    op.execute("REVOKE ALL ON FUNCTION kizuna.current_municipality() FROM kizuna_auditor")
    op.execute("REVOKE ALL ON SCHEMA kizuna FROM kizuna_auditor")
    op.drop_table("audit_seal", schema="kizuna")
    op.execute(f"REVOKE INSERT ({EVENT_COLUMNS}) ON kizuna.audit_event FROM {roles}")
    op.execute(f"GRANT INSERT ON kizuna.audit_event TO {roles}")
    op.execute(f"GRANT SELECT (municipality_code, seq, hash) ON kizuna.audit_event TO {roles}")
    op.drop_index("ix_audit_event_recent", "audit_event", schema="kizuna")
    op.drop_index("ix_audit_event_unsealed", "audit_event", schema="kizuna")
    op.drop_constraint("ck_audit_event_sealed_whole", "audit_event", schema="kizuna")
    op.execute(
        "DO $$ BEGIN\n"
        "IF EXISTS (SELECT FROM kizuna.audit_event WHERE seq IS NULL) THEN\n"
        "  RAISE EXCEPTION 'unsealed audit events: run kizuna audit seal before downgrading';\n"
        "END IF;\n"
        "END $$"
    )
    op.execute(
        "ALTER TABLE kizuna.audit_event ALTER COLUMN seq SET NOT NULL,"
        " ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL"
    )
