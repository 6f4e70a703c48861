"""The publication interval (docs/disclosure-control.md, "Editions: the publication
interval"): a fiscal year's protected tables get a new edition at most once per interval,
so the refresh must know the true counts of the edition in force, not those of its last run.

- `stats.published_edition.counts`: the true counts each edition was protected from (a JSON
  array of [municipality, category, value], zeros left out). The refresh decides
  "unchanged" against the edition in force's. Like the rest of the table, only
  `kizuna_stats` (its owner) reads it; no app role is granted anything on it.
- `stats.published_table.as_of`: when the figures of that table, as shown now, were last
  counted (the refresh that last published the fiscal year).
- `stats.publication.edition_at` and `next_edition_at`: when the open fiscal years were last
  published, and when the next edition is due. The analysts and supervisors read them
  (their grant on `stats.publication` is the whole table).

Before this revision every refresh that found a changed count published a new edition, so
`stats.raw_count` holds the counts of the edition in force: they become its counts (an
earlier edition's are not known and stay null; nothing reads them). The next refresh is a
publication, as every refresh was until now.

Revision ID: 0028
Revises: 0027
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET LOCAL ROLE kizuna_stats")
    op.execute(
        "ALTER TABLE stats.published_edition"
        " ADD COLUMN counts jsonb CHECK (counts IS NULL OR jsonb_typeof(counts) = 'array')"
    )
    op.execute(
        """UPDATE stats.published_edition e SET counts = (
    SELECT coalesce(jsonb_agg(jsonb_build_array(r.municipality_code, r.category, r.value)), '[]')
    FROM stats.raw_count r
    WHERE left(r.municipality_code, 2) = e.prefecture_code AND r.fiscal_year = e.fiscal_year
      AND r.figure = e.figure AND r.value > 0
)
FROM stats.published_table t
WHERE (t.prefecture_code, t.fiscal_year, t.figure, t.edition) = (e.prefecture_code, e.fiscal_year, e.figure, e.edition)"""
    )
    op.execute("ALTER TABLE stats.published_table ADD COLUMN as_of timestamptz")
    op.execute(
        "UPDATE stats.published_table t SET as_of = p.computed_at"
        " FROM stats.publication p WHERE p.prefecture_code = t.prefecture_code"
    )
    op.execute("ALTER TABLE stats.published_table ALTER COLUMN as_of SET NOT NULL")
    op.execute(
        "ALTER TABLE stats.publication ADD COLUMN edition_at timestamptz, ADD COLUMN next_edition_at timestamptz"
    )
    op.execute("UPDATE stats.publication SET edition_at = computed_at, next_edition_at = computed_at")
    op.execute(
        "ALTER TABLE stats.publication ALTER COLUMN edition_at SET NOT NULL,"
        " ALTER COLUMN next_edition_at SET NOT NULL, ADD CHECK (next_edition_at >= edition_at)"
    )
    op.execute("RESET ROLE")


def downgrade() -> None:
    op.execute("ALTER TABLE stats.publication DROP COLUMN edition_at, DROP COLUMN next_edition_at")
    op.execute("ALTER TABLE stats.published_table DROP COLUMN as_of")
    op.execute("ALTER TABLE stats.published_edition DROP COLUMN counts")
