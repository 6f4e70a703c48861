"""Every edition of the prefecture's protected tables, kept: the stats refresh protects a
changed table against all of them, not only the last (docs/disclosure-control.md,
"Differencing": anything once published must be assumed kept by someone).

`stats.published_edition` holds each protected table as it was published (its figures,
null where suppressed, and its links), one row per edition. Only the refresh reads and
writes it, as `kizuna_stats` (the schema's owner); no app role is granted anything on it.
On Citus it is a reference table (deploy/citus/distribute.sql).

Revision ID: 0027
Revises: 0026
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET LOCAL ROLE kizuna_stats")
    op.execute(
        """CREATE TABLE stats.published_edition (
    prefecture_code varchar(2) NOT NULL,
    fiscal_year smallint NOT NULL,
    figure text NOT NULL,
    edition integer NOT NULL CHECK (edition >= 1),
    figures jsonb NOT NULL CHECK (jsonb_typeof(figures) = 'array'),
    shared_margins text NOT NULL,
    shares_total_with text NOT NULL,
    PRIMARY KEY (prefecture_code, fiscal_year, figure, edition)
)"""
    )
    # The edition in force is one of them: those published before this revision are kept from now on.
    op.execute(
        """INSERT INTO stats.published_edition
SELECT t.prefecture_code, t.fiscal_year, t.figure, t.edition,
       coalesce(jsonb_agg(jsonb_build_array(c.area, c.category, c.value)) FILTER (WHERE c.area IS NOT NULL), '[]'),
       t.shared_margins, t.shares_total_with
FROM stats.published_table t
LEFT JOIN stats.published_count c
  ON c.prefecture_code = t.prefecture_code AND c.fiscal_year = t.fiscal_year AND c.figure = t.figure
GROUP BY t.prefecture_code, t.fiscal_year, t.figure, t.edition, t.shared_margins, t.shares_total_with"""
    )
    op.execute("RESET ROLE")


def downgrade() -> None:
    op.execute("DROP TABLE stats.published_edition")
