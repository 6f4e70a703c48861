"""Submission and acceptance of municipality figures, and the indicators (issue 16, items 2 and 3).

- A municipality's status (`municipality_status`) and its programme figures of a fiscal
  year (`programme_activity`, with their state in the new `programme_submission`) go
  draft → submitted → accepted, or returned with a comment (`return_comment`, kept until
  the next decision). Only accepted figures count in the prefecture's totals.
- Municipal staff held INSERT and UPDATE on both tables, and so could mark their own
  figures accepted. Now: coordinators and supervisors draft (INSERT as a draft, UPDATE of
  the figures while a draft or returned), only a supervisor submits (in their own name),
  caseworkers and municipal systems read; nobody of the municipality changes a submitted
  or accepted row (the UPDATE policy's USING).
- The prefecture's analyst reads these three tables of its own prefecture's
  municipalities (code prefix: the first two digits of a local-government code are the
  prefecture) and decides: UPDATE of the decision columns only, of a submitted (or
  accepted: sent back for a correction) row, to accepted or returned, in its own name.
  Per-role permissive policies with the condition written out, no sub-select (Citus);
  `tenant_isolation` keeps its text and applies to the roles without a narrower rule.
  The analyst is granted nothing on the other tenant tables, as before.
- `programme_activity`: an idempotency key for `recordProgrammeActivity`; staff insert and
  delete (a correction is a removal and a new record), and no longer update.
- `indicator` (a global, reference table on Citus): keyed by (prefecture, code), with the
  figure that measures it (`indicator_figure`, a closed list), a target date or fiscal
  year, the fiscal year a cumulative target counts from, and `retired_at` (never deleted).
  Every role reads it; a prefecture's analyst adds its own prefecture's indicators and
  retires them (row security on the prefecture code, column grants).

Revision ID: 0024
Revises: 0023
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "municipality_code = kizuna.current_municipality()"
# The analyst's tenant is its prefecture (NN000C); its municipalities share the first two digits.
PREFECTURE = (
    "kizuna.current_municipality() ~ '^[0-9]{2}000[0-9]$'"
    " AND left(municipality_code, 2) = left(kizuna.current_municipality(), 2)"
)
OWN_PREFECTURE = "prefecture_code = left(kizuna.current_municipality(), 2)"
DRAFTERS = "kizuna_coordinator, kizuna_supervisor"
STAFF = "kizuna_caseworker, kizuna_coordinator, kizuna_supervisor"
OPEN = "submission IN ('draft', 'returned')"
SUBMITTED_BY_THE_REQUEST = "(submission <> 'submitted' OR submitted_by = kizuna.current_user_id())"
DECIDED_BY_THE_REQUEST = "submission IN ('accepted', 'returned') AND decided_by = kizuna.current_user_id()"
STATUS_FIGURES = (
    "one_stop_window, complex_case_team, jusoteki, carer_salons, childrens_places,"
    " young_carer_coordinators, kodomo_katei_center, advisor_dispatch"
)
SUBMITTING = "submission, submitted_at, submitted_by, decided_at"
DECIDING = "submission, decided_at, decided_by, return_comment"
INDICATOR_INSERT = (
    "prefecture_code, code, name, unit, figure, baseline, baseline_fiscal_year, target, target_date,"
    " target_fiscal_year, counted_from_fiscal_year, created_at"
)
FIGURES = (
    "municipalities_with_window_or_team",
    "municipalities_with_carer_salon",
    "childrens_places",
    "municipalities_with_kodomo_katei_center",
    "business_carer_seminar_companies",
    "support_staff_trained",
    "education_welfare_training_attendees",
    "community_center_awareness_percent",
    "young_carer_awareness_junior_high_percent",
    "young_carer_awareness_high_school_percent",
    "young_carer_awareness_residents_percent",
)
SUBMISSION_CHECKS = (
    ("returned_with_comment", "submission <> 'returned' OR return_comment IS NOT NULL"),
    ("return_comment_length", "char_length(btrim(return_comment)) BETWEEN 1 AND 1000"),
    ("of_a_municipality", "municipality_code !~ '^[0-9]{2}000[0-9]$'"),
)
INDICATOR_CHECKS = (
    ("code_format", "code ~ '^[a-z][a-z0-9_]{1,39}$'"),
    ("prefecture_code_format", "prefecture_code ~ '^[0-9]{2}$'"),
    ("name_length", "char_length(btrim(name)) BETWEEN 1 AND 200"),
    ("unit_length", "char_length(btrim(unit)) BETWEEN 1 AND 20"),
    ("baseline_with_its_year", "(baseline IS NULL) = (baseline_fiscal_year IS NULL)"),
    ("target_dated", "target_date IS NOT NULL OR target_fiscal_year IS NOT NULL"),
    (
        "fiscal_years_range",
        "baseline_fiscal_year BETWEEN 2000 AND 2100 AND target_fiscal_year BETWEEN 2000 AND 2100"
        " AND counted_from_fiscal_year BETWEEN 2000 AND 2100",
    ),
    ("retired_after_created", "retired_at IS NULL OR retired_at >= created_at"),
)


def _tenant_isolation_to(table: str, roles: str) -> str:
    """`tenant_isolation` on `table` for `roles` and the table's owner (as 0010 does)."""
    return (
        "DO $$ BEGIN EXECUTE format("
        f"'ALTER POLICY tenant_isolation ON kizuna.{table} TO %I, {roles}',"
        f" (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'kizuna.{table}'::regclass)); END $$"
    )


def _submission_policies(table: str) -> None:
    """Drafting, submitting and deciding, per role, each carrying its tenant condition."""
    op.execute(_tenant_isolation_to(table, "kizuna_caseworker, kizuna_municipal_system"))
    op.execute(f"CREATE POLICY drafters_read ON kizuna.{table} FOR SELECT TO {DRAFTERS} USING ({TENANT})")
    op.execute(
        f"CREATE POLICY coordinator_drafts ON kizuna.{table} FOR INSERT TO kizuna_coordinator"
        f" WITH CHECK ({TENANT} AND submission = 'draft')"
    )
    op.execute(
        f"CREATE POLICY supervisor_inserts ON kizuna.{table} FOR INSERT TO kizuna_supervisor"
        f" WITH CHECK ({TENANT} AND submission IN ('draft', 'submitted') AND {SUBMITTED_BY_THE_REQUEST})"
    )
    op.execute(
        f"CREATE POLICY drafters_update ON kizuna.{table} FOR UPDATE TO {DRAFTERS}"
        f" USING ({TENANT} AND {OPEN})"
        f" WITH CHECK ({TENANT} AND submission IN ('draft', 'returned', 'submitted') AND {SUBMITTED_BY_THE_REQUEST})"
    )
    op.execute(
        f"CREATE POLICY prefecture_reads ON kizuna.{table} FOR SELECT TO kizuna_prefecture_analyst USING ({PREFECTURE})"
    )
    op.execute(
        f"CREATE POLICY prefecture_decides ON kizuna.{table} FOR UPDATE TO kizuna_prefecture_analyst"
        f" USING ({PREFECTURE} AND submission IN ('submitted', 'accepted'))"
        f" WITH CHECK ({PREFECTURE} AND {DECIDED_BY_THE_REQUEST})"
    )
    op.execute(f"GRANT SELECT ON kizuna.{table} TO {STAFF}, kizuna_municipal_system, kizuna_prefecture_analyst")
    op.execute(f"GRANT UPDATE ({SUBMITTING}) ON kizuna.{table} TO kizuna_supervisor")
    op.execute(f"GRANT UPDATE ({DECIDING}) ON kizuna.{table} TO kizuna_prefecture_analyst")


def upgrade() -> None:
    # --- the submission of programme figures, and who decides ------------------------------
    op.create_table(
        "programme_submission",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("fiscal_year", sa.SmallInteger(), nullable=False),
        sa.Column(
            "submission",
            postgresql.ENUM(name="submission_status", schema="kizuna", create_type=False),
            nullable=False,
        ),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.UUID(), nullable=True),
        sa.Column("decided_by", sa.UUID(), nullable=True),
        sa.Column("return_comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_programme_submission_municipality_code_set")),
        sa.CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name=op.f("ck_programme_submission_fiscal_year_range")),
        sa.CheckConstraint(
            "(submission = 'draft') = (submitted_at IS NULL)",
            name=op.f("ck_programme_submission_submitted_iff_not_draft"),
        ),
        sa.CheckConstraint(
            "(submission IN ('accepted', 'returned')) = (decided_at IS NOT NULL)",
            name=op.f("ck_programme_submission_decided_iff_decided"),
        ),
        sa.CheckConstraint(
            "decided_at IS NULL OR decided_at >= submitted_at",
            name=op.f("ck_programme_submission_decided_after_submitted"),
        ),
        *(
            sa.CheckConstraint(condition, name=op.f(f"ck_programme_submission_{name}"))
            for name, condition in SUBMISSION_CHECKS
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_programme_submission_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_programme_submission")),
        sa.UniqueConstraint(
            "municipality_code", "fiscal_year", name=op.f("uq_programme_submission_municipality_code_fiscal_year")
        ),
        schema="kizuna",
    )
    op.execute("ALTER TABLE kizuna.programme_submission ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE kizuna.programme_submission FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON kizuna.programme_submission USING ({TENANT}) WITH CHECK ({TENANT})")
    # created_at too: on Citus the coordinator writes the defaults out.
    op.execute(
        f"GRANT INSERT (municipality_code, id, fiscal_year, {SUBMITTING}, created_at)"
        " ON kizuna.programme_submission TO kizuna_supervisor"
    )
    _submission_policies("programme_submission")

    # --- municipality_status: who drafts, who submits, who decides -------------------------
    for column in ("submitted_by", "decided_by"):
        op.add_column("municipality_status", sa.Column(column, sa.UUID(), nullable=True), schema="kizuna")
    op.add_column("municipality_status", sa.Column("return_comment", sa.Text(), nullable=True), schema="kizuna")
    # Returned before comments were kept: the CHECK below needs one (as the migrating owner).
    op.execute(
        "UPDATE kizuna.municipality_status SET return_comment = '（0024以前の差戻し：理由の記録なし）'"
        " WHERE submission = 'returned'"
    )
    for name, condition in SUBMISSION_CHECKS:
        op.create_check_constraint(
            op.f(f"ck_municipality_status_{name}"), "municipality_status", condition, schema="kizuna"
        )
    op.execute(f"REVOKE INSERT, UPDATE ON kizuna.municipality_status FROM {STAFF}")
    op.execute(
        f"GRANT INSERT (municipality_code, id, fiscal_year, {STATUS_FIGURES}, {SUBMITTING})"
        f" ON kizuna.municipality_status TO {DRAFTERS}"
    )
    op.execute(f"GRANT UPDATE ({STATUS_FIGURES}) ON kizuna.municipality_status TO {DRAFTERS}")
    _submission_policies("municipality_status")

    # --- programme_activity: drafted by staff, read by the prefecture ----------------------
    op.add_column("programme_activity", sa.Column("idempotency_key", sa.Text(), nullable=True), schema="kizuna")
    op.create_unique_constraint(
        op.f("uq_programme_activity_municipality_code_idempotency_key"),
        "programme_activity",
        ["municipality_code", "idempotency_key"],
        schema="kizuna",
    )
    op.create_check_constraint(
        op.f("ck_programme_activity_idempotency_key_length"),
        "programme_activity",
        "char_length(idempotency_key) BETWEEN 1 AND 200",
        schema="kizuna",
    )
    op.create_check_constraint(
        op.f("ck_programme_activity_companies_not_negative"),
        "programme_activity",
        "companies IS NULL OR companies >= 0",
        schema="kizuna",
    )
    op.execute("REVOKE INSERT, UPDATE ON kizuna.programme_activity FROM kizuna_caseworker")
    op.execute(f"REVOKE UPDATE ON kizuna.programme_activity FROM {DRAFTERS}")
    op.execute(f"GRANT DELETE ON kizuna.programme_activity TO {DRAFTERS}")
    op.execute(
        "CREATE POLICY prefecture_reads ON kizuna.programme_activity FOR SELECT TO kizuna_prefecture_analyst"
        f" USING ({PREFECTURE})"
    )

    # --- indicator: by prefecture, the figure that measures it, retired never deleted --------
    figure = postgresql.ENUM(*FIGURES, name="indicator_figure", schema="kizuna")
    figure.create(op.get_bind())
    op.drop_constraint("pk_indicator", "indicator", schema="kizuna", type_="primary")
    op.create_primary_key("pk_indicator", "indicator", ["prefecture_code", "code"], schema="kizuna")
    op.add_column(
        "indicator",
        sa.Column(
            "figure", postgresql.ENUM(name="indicator_figure", schema="kizuna", create_type=False), nullable=False
        ),
        schema="kizuna",
    )
    op.alter_column("indicator", "target_date", nullable=True, schema="kizuna")
    for column in ("target_fiscal_year", "counted_from_fiscal_year"):
        op.add_column("indicator", sa.Column(column, sa.SmallInteger(), nullable=True), schema="kizuna")
    op.add_column(
        "indicator",
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        schema="kizuna",
    )
    op.add_column("indicator", sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True), schema="kizuna")
    for name, condition in INDICATOR_CHECKS:
        op.create_check_constraint(op.f(f"ck_indicator_{name}"), "indicator", condition, schema="kizuna")
    # Not FORCE: onboarding writes the seeded indicators as the table's owner.
    op.execute("ALTER TABLE kizuna.indicator ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY everyone_reads ON kizuna.indicator FOR SELECT USING (true)")
    op.execute(
        "CREATE POLICY prefecture_adds ON kizuna.indicator FOR INSERT TO kizuna_prefecture_analyst"
        f" WITH CHECK ({OWN_PREFECTURE} AND retired_at IS NULL)"
    )
    op.execute(
        "CREATE POLICY prefecture_retires ON kizuna.indicator FOR UPDATE TO kizuna_prefecture_analyst"
        f" USING ({OWN_PREFECTURE} AND retired_at IS NULL) WITH CHECK ({OWN_PREFECTURE} AND retired_at IS NOT NULL)"
    )
    # created_at too: on Citus the coordinator writes a reference table's defaults out.
    op.execute(f"GRANT INSERT ({INDICATOR_INSERT}) ON kizuna.indicator TO kizuna_prefecture_analyst")
    op.execute("GRANT UPDATE (retired_at) ON kizuna.indicator TO kizuna_prefecture_analyst")


def downgrade() -> None:
    op.execute("REVOKE INSERT, UPDATE ON kizuna.indicator FROM kizuna_prefecture_analyst")
    for policy in ("everyone_reads", "prefecture_adds", "prefecture_retires"):
        op.execute(f"DROP POLICY {policy} ON kizuna.indicator")
    op.execute("ALTER TABLE kizuna.indicator DISABLE ROW LEVEL SECURITY")
    for name, _ in INDICATOR_CHECKS:
        op.drop_constraint(op.f(f"ck_indicator_{name}"), "indicator", schema="kizuna", type_="check")
    for column in ("retired_at", "created_at", "counted_from_fiscal_year", "target_fiscal_year", "figure"):
        op.drop_column("indicator", column, schema="kizuna")
    op.execute("DELETE FROM kizuna.indicator WHERE target_date IS NULL")
    op.alter_column("indicator", "target_date", nullable=False, schema="kizuna")
    op.drop_constraint("pk_indicator", "indicator", schema="kizuna", type_="primary")
    op.create_primary_key("pk_indicator", "indicator", ["code"], schema="kizuna")
    op.execute("DROP TYPE kizuna.indicator_figure")

    op.execute("DROP POLICY prefecture_reads ON kizuna.programme_activity")
    op.execute(f"REVOKE DELETE ON kizuna.programme_activity FROM {DRAFTERS}")
    op.execute(f"GRANT INSERT, UPDATE ON kizuna.programme_activity TO {STAFF}")
    for name in ("companies_not_negative", "idempotency_key_length"):
        op.drop_constraint(op.f(f"ck_programme_activity_{name}"), "programme_activity", schema="kizuna", type_="check")
    op.drop_constraint(
        op.f("uq_programme_activity_municipality_code_idempotency_key"), "programme_activity", schema="kizuna"
    )
    op.drop_column("programme_activity", "idempotency_key", schema="kizuna")

    for policy in (
        "drafters_read",
        "coordinator_drafts",
        "supervisor_inserts",
        "drafters_update",
        "prefecture_reads",
        "prefecture_decides",
    ):
        op.execute(f"DROP POLICY {policy} ON kizuna.municipality_status")
    op.execute("ALTER POLICY tenant_isolation ON kizuna.municipality_status TO PUBLIC")
    op.execute(f"REVOKE INSERT, UPDATE ON kizuna.municipality_status FROM {STAFF}, kizuna_prefecture_analyst")
    op.execute(f"GRANT INSERT, UPDATE ON kizuna.municipality_status TO {STAFF}")
    for name, _ in SUBMISSION_CHECKS:
        op.drop_constraint(
            op.f(f"ck_municipality_status_{name}"), "municipality_status", schema="kizuna", type_="check"
        )
    for column in ("return_comment", "decided_by", "submitted_by"):
        op.drop_column("municipality_status", column, schema="kizuna")
    op.drop_table("programme_submission", schema="kizuna")
