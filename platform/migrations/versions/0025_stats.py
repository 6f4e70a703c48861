"""The stats read path (issue 16, items 1 and 6): a `stats` schema that only its own role
writes, computed over every tenant by a job, never by a request.

- `kizuna_stats`: NOLOGIN on one PostgreSQL (LOGIN on the Citus workers, for the
  coordinator's connections: deploy/citus/roles.sql), not a superuser, no BYPASSRLS, not
  granted to the request path's login. The refresh job reaches it through the
  administrative connection (`SET LOCAL ROLE`), as the audit sealer reaches
  `kizuna_auditor`. It reads every tenant through a permissive SELECT policy of its own on
  the few tables the figures come from, and only the columns they need (column grants): no
  name, no birth date, no free text.
- It owns the `stats` schema and its tables, so nobody else writes them. Result tables:
  `publication` (when each prefecture's figures were computed, and with which k),
  `published_count` and `published_median` (the disclosure-controlled figures, per
  municipality and in total), `published_table` (each protected table's edition, which
  only the refresh reads), `raw_count` and `raw_median` (the same before suppression,
  per municipality only). On Citus they are reference tables (deploy/citus/distribute.sql).
- The prefecture's analysts read the published figures of their own prefecture (policy on
  `prefecture_code`); a municipality's supervisors read the raw figures of their own
  municipality only (policy on `municipality_code`). No app role reads anything else of
  `stats`, and no app role's grant on a tenant table changes.

Row security is enabled but not forced on the stats tables: their owner is the one writer
by design, and each reader role has exactly one permissive policy.

Revision ID: 0025
Revises: 0024
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the figures read, and nothing more (schema/stats/figures.py).
READS = {
    "carer_case": "municipality_code, id, category, stage, opened_at, closed_at",
    "meeting": "municipality_code, case_id, kind, held_on",
    "referral": "municipality_code, source, received_at",
    "helper_visit": "municipality_code, visited_on",
    "municipality_status": (
        "municipality_code, fiscal_year, one_stop_window, complex_case_team, jusoteki,"
        " carer_salons, childrens_places, submission"
    ),
    "programme_activity": "municipality_code, fiscal_year, kind, participants, companies",
    "programme_submission": "municipality_code, fiscal_year, submission",
}
AREA = "area ~ '^[0-9]{6}$' OR area = 'total'"
STATUS = "status IN ('shown', 'suppressed', 'too_few')"
ANALYST_PREFECTURE = "prefecture_code = left(kizuna.current_municipality(), 2)"
OWN_MUNICIPALITY = "municipality_code = kizuna.current_municipality()"

TABLES = (
    """CREATE TABLE stats.publication (
    prefecture_code varchar(2) PRIMARY KEY CHECK (prefecture_code ~ '^[0-9]{2}$'),
    computed_at timestamptz NOT NULL,
    k smallint NOT NULL CHECK (k >= 2)
)""",
    f"""CREATE TABLE stats.published_count (
    prefecture_code varchar(2) NOT NULL,
    figure text NOT NULL,
    fiscal_year smallint NOT NULL,
    area text NOT NULL CHECK ({AREA}),
    category text NOT NULL,
    value integer CHECK (value >= 0),
    status text NOT NULL CHECK ({STATUS}),
    CHECK ((value IS NULL) = (status <> 'shown')),
    PRIMARY KEY (prefecture_code, figure, fiscal_year, area, category)
)""",
    # Each protected table's edition and the tables it shares its totals with: what the
    # next refresh passes to the disclosure control as the edition published before.
    """CREATE TABLE stats.published_table (
    prefecture_code varchar(2) NOT NULL,
    fiscal_year smallint NOT NULL,
    figure text NOT NULL,
    edition integer NOT NULL CHECK (edition >= 1),
    shared_margins text NOT NULL,
    shares_total_with text NOT NULL,
    PRIMARY KEY (prefecture_code, fiscal_year, figure)
)""",
    f"""CREATE TABLE stats.published_median (
    prefecture_code varchar(2) NOT NULL,
    fiscal_year smallint NOT NULL,
    area text NOT NULL CHECK ({AREA}),
    days numeric(7, 1),
    status text NOT NULL CHECK ({STATUS}),
    CHECK ((days IS NULL) = (status <> 'shown')),
    PRIMARY KEY (prefecture_code, fiscal_year, area)
)""",
    """CREATE TABLE stats.raw_count (
    municipality_code varchar(6) NOT NULL CHECK (municipality_code ~ '^[0-9]{6}$'),
    figure text NOT NULL,
    fiscal_year smallint NOT NULL,
    category text NOT NULL,
    value integer NOT NULL CHECK (value >= 0),
    PRIMARY KEY (municipality_code, figure, fiscal_year, category)
)""",
    """CREATE TABLE stats.raw_median (
    municipality_code varchar(6) NOT NULL CHECK (municipality_code ~ '^[0-9]{6}$'),
    fiscal_year smallint NOT NULL,
    days numeric(7, 1) NOT NULL,
    cases integer NOT NULL CHECK (cases > 0),
    PRIMARY KEY (municipality_code, fiscal_year)
)""",
)


def upgrade() -> None:
    op.execute(
        "DO $$ BEGIN\n"
        "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kizuna_stats') THEN\n"
        "  CREATE ROLE kizuna_stats NOLOGIN;\n"
        "END IF;\n"
        "END $$"
    )
    op.execute("ALTER ROLE kizuna_stats NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
    # The administrative connection switches to it (SET LOCAL ROLE), and hands it the schema.
    op.execute("GRANT kizuna_stats TO CURRENT_USER")
    op.execute("GRANT USAGE ON SCHEMA kizuna TO kizuna_stats")
    # tenant_isolation applies to every role, the stats role's too (no tenant set: it adds nothing).
    op.execute("GRANT EXECUTE ON FUNCTION kizuna.current_municipality() TO kizuna_stats")
    for table, columns in READS.items():
        op.execute(f"GRANT SELECT ({columns}) ON kizuna.{table} TO kizuna_stats")
        # Every tenant's rows: the stats role serves them all (no sub-select, no tenant setting).
        op.execute(f"CREATE POLICY stats_reads ON kizuna.{table} FOR SELECT TO kizuna_stats USING (true)")

    op.execute("CREATE SCHEMA stats AUTHORIZATION kizuna_stats")
    op.execute("SET LOCAL ROLE kizuna_stats")
    for statement in TABLES:
        op.execute(statement)
    op.execute("RESET ROLE")

    analyst, supervisor = "kizuna_prefecture_analyst", "kizuna_supervisor"
    op.execute(f"GRANT USAGE ON SCHEMA stats TO {analyst}, {supervisor}")
    op.execute(f"GRANT SELECT ON stats.publication TO {analyst}, {supervisor}")
    for table in ("published_count", "published_median"):
        op.execute(f"GRANT SELECT ON stats.{table} TO {analyst}")
        op.execute(f"ALTER TABLE stats.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY analyst_prefecture ON stats.{table} FOR SELECT TO {analyst} USING ({ANALYST_PREFECTURE})"
        )
    for table in ("raw_count", "raw_median"):
        op.execute(f"GRANT SELECT ON stats.{table} TO {supervisor}")
        op.execute(f"ALTER TABLE stats.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY own_municipality ON stats.{table} FOR SELECT TO {supervisor} USING ({OWN_MUNICIPALITY})"
        )


def downgrade() -> None:
    op.execute("DROP SCHEMA stats CASCADE")
    for table in READS:
        op.execute(f"DROP POLICY stats_reads ON kizuna.{table}")
        op.execute(f"REVOKE ALL ON kizuna.{table} FROM kizuna_stats")
    op.execute("REVOKE ALL ON FUNCTION kizuna.current_municipality() FROM kizuna_stats")
    op.execute("REVOKE ALL ON SCHEMA kizuna FROM kizuna_stats")
