"""Indicator values (issue 16, item 3): each indicator's value by fiscal year, computed by
the stats refresh from the figures it already reads, published in `stats.indicator_value`.

- `kizuna_stats` reads three more things: the indicators (a global table, every prefecture's),
  `municipality_status.kodomo_katei_center` (seed 004's 子ども家庭相談支援拠点), and the
  awareness surveys' `age_group` and `percent` of `programme_activity` (the group a
  survey asked, such as 中学2年生, and the share who knew: no person, no free text about one).
- `stats.indicator_value` (owned by `kizuna_stats`, a reference table on Citus): per
  prefecture, indicator and fiscal year, the value, and for a figure of municipalities'
  figures how many municipalities' accepted figures it holds, of how many, and which are
  missing.
- The prefecture's own programmes (DESIGN section 1: prefecture staff enter the LINE
  consultation, salons, trainings): its analyst, who held INSERT and UPDATE on
  `programme_activity` since 0002 under `tenant_isolation` (its own tenant, NN000C, the only
  one a prefecture role is held in: 0005), may now DELETE there too, to correct a record
  as municipal staff do (remove, record again). The prefecture submits nothing.
- The prefecture's analysts read their own prefecture's rows; a municipality's supervisors
  read their prefecture's rows too (the indicators of the plan their municipality works to),
  but not which other municipalities are missing (column grants). Nobody else reads them.

Revision ID: 0026
Revises: 0025
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWN_PREFECTURE = "prefecture_code = left(kizuna.current_municipality(), 2)"
SUPERVISOR_COLUMNS = "prefecture_code, indicator_code, fiscal_year, value, reported, municipalities"
TABLE = """CREATE TABLE stats.indicator_value (
    prefecture_code varchar(2) NOT NULL CHECK (prefecture_code ~ '^[0-9]{2}$'),
    indicator_code text NOT NULL,
    fiscal_year smallint NOT NULL,
    value numeric(12, 2) NOT NULL,
    reported smallint CHECK (reported >= 0),
    municipalities smallint CHECK (municipalities >= reported),
    not_reported text[],
    CHECK ((reported IS NULL) = (municipalities IS NULL) AND (reported IS NULL) = (not_reported IS NULL)),
    PRIMARY KEY (prefecture_code, indicator_code, fiscal_year)
)"""


def upgrade() -> None:
    op.execute("GRANT SELECT ON kizuna.indicator TO kizuna_stats")
    op.execute("GRANT SELECT (kodomo_katei_center) ON kizuna.municipality_status TO kizuna_stats")
    op.execute("GRANT SELECT (age_group, percent) ON kizuna.programme_activity TO kizuna_stats")

    op.execute("GRANT DELETE ON kizuna.programme_activity TO kizuna_prefecture_analyst")

    op.execute("SET LOCAL ROLE kizuna_stats")
    op.execute(TABLE)
    op.execute("RESET ROLE")
    op.execute("ALTER TABLE stats.indicator_value ENABLE ROW LEVEL SECURITY")
    op.execute("GRANT SELECT ON stats.indicator_value TO kizuna_prefecture_analyst")
    op.execute(f"GRANT SELECT ({SUPERVISOR_COLUMNS}) ON stats.indicator_value TO kizuna_supervisor")
    op.execute(
        "CREATE POLICY own_prefecture ON stats.indicator_value FOR SELECT"
        f" TO kizuna_prefecture_analyst, kizuna_supervisor USING ({OWN_PREFECTURE})"
    )


def downgrade() -> None:
    op.execute("DROP TABLE stats.indicator_value")
    op.execute("REVOKE DELETE ON kizuna.programme_activity FROM kizuna_prefecture_analyst")
    op.execute("REVOKE SELECT (age_group, percent) ON kizuna.programme_activity FROM kizuna_stats")
    op.execute("REVOKE SELECT (kodomo_katei_center) ON kizuna.municipality_status FROM kizuna_stats")
    op.execute("REVOKE SELECT ON kizuna.indicator FROM kizuna_stats")
