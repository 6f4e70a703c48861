"""The data model of DESIGN section 4 (generated from the models, then frozen).

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA kizuna")
    op.create_table(
        "indicator",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("prefecture_code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("baseline", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("baseline_fiscal_year", sa.SmallInteger(), nullable=True),
        sa.Column("target", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_indicator")),
        schema="kizuna",
    )
    op.create_table(
        "municipality",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_kana", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "prefecture",
                "designated_city",
                "core_city",
                "special_city",
                "city",
                "town",
                "village",
                name="municipality_kind",
                schema="kizuna",
            ),
            nullable=False,
        ),
        sa.Column("prefecture_code", sa.String(length=2), nullable=False),
        sa.CheckConstraint("code ~ '^[0-9]{6}$'", name=op.f("ck_municipality_code_format")),
        sa.CheckConstraint("prefecture_code ~ '^[0-9]{2}$'", name=op.f("ck_municipality_prefecture_code_format")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_municipality")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_municipality_prefecture_code"), "municipality", ["prefecture_code"], unique=False, schema="kizuna"
    )
    op.create_table(
        "audit_event",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "caseworker",
                "supervisor",
                "coordinator",
                "school_staff",
                "school_social_worker",
                "welfare_worker",
                "municipal_system",
                "prefecture_analyst",
                "platform_admin",
                name="app_role",
                schema="kizuna",
            ),
            nullable=False,
        ),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=True),
        sa.Column("fields", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_audit_event_municipality_code_set")),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_audit_event_seq_positive")),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_audit_event_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("municipality_code", "seq", name=op.f("uq_audit_event_municipality_code_seq")),
        schema="kizuna",
    )
    op.create_table(
        "household",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("district", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_household_municipality_code_set")),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_household_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_household")),
        schema="kizuna",
    )
    op.create_table(
        "municipality_status",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("fiscal_year", sa.SmallInteger(), nullable=False),
        sa.Column("one_stop_window", sa.Boolean(), nullable=False),
        sa.Column("complex_case_team", sa.Boolean(), nullable=False),
        sa.Column(
            "jusoteki",
            sa.Enum("none", "transition_preparation", "implemented", name="jusoteki_status", schema="kizuna"),
            nullable=False,
        ),
        sa.Column("carer_salons", sa.Integer(), nullable=False),
        sa.Column("childrens_places", sa.Integer(), nullable=False),
        sa.Column("young_carer_coordinators", sa.Integer(), nullable=False),
        sa.Column("kodomo_katei_center", sa.Boolean(), nullable=False),
        sa.Column("advisor_dispatch", sa.Boolean(), nullable=False),
        sa.Column(
            "submission",
            sa.Enum("draft", "submitted", "accepted", "returned", name="submission_status", schema="kizuna"),
            nullable=False,
        ),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_municipality_status_municipality_code_set")),
        sa.CheckConstraint(
            "carer_salons >= 0 AND childrens_places >= 0 AND young_carer_coordinators >= 0",
            name=op.f("ck_municipality_status_counts_not_negative"),
        ),
        sa.CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name=op.f("ck_municipality_status_fiscal_year_range")),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_municipality_status_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_municipality_status")),
        sa.UniqueConstraint(
            "municipality_code", "fiscal_year", name=op.f("uq_municipality_status_municipality_code_fiscal_year")
        ),
        schema="kizuna",
    )
    op.create_table(
        "organisation",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "elementary_school",
                "junior_high_school",
                "high_school",
                "university",
                "community_general_support_center",
                "social_welfare_council",
                "disability_consultation",
                "health_welfare_center",
                "care_management_office",
                "home_help_provider",
                "medical_institution",
                "npo",
                "municipal_department",
                "prefecture_department",
                name="organisation_kind",
                schema="kizuna",
            ),
            nullable=False,
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_organisation_municipality_code")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_organisation_municipality_code"), "organisation", ["municipality_code"], unique=False, schema="kizuna"
    )
    op.create_table(
        "programme_activity",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("fiscal_year", sa.SmallInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "support_staff_training",
                "education_welfare_training",
                "business_carer_seminar",
                "outreach_lecture",
                "online_salon",
                "line_consultation_registration",
                "awareness_survey",
                name="programme_kind",
                schema="kizuna",
            ),
            nullable=False,
        ),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("companies", sa.Integer(), nullable=True),
        sa.Column("age_group", sa.Text(), nullable=True),
        sa.Column("percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_programme_activity_municipality_code_set")),
        sa.CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name=op.f("ck_programme_activity_fiscal_year_range")),
        sa.CheckConstraint(
            "participants IS NULL OR participants >= 0", name=op.f("ck_programme_activity_participants_not_negative")
        ),
        sa.CheckConstraint(
            "percent IS NULL OR percent BETWEEN 0 AND 100", name=op.f("ck_programme_activity_percent_range")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_programme_activity_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_programme_activity")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_programme_activity_municipality_code_fiscal_year"),
        "programme_activity",
        ["municipality_code", "fiscal_year"],
        unique=False,
        schema="kizuna",
    )
    op.create_table(
        "membership",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "caseworker",
                "supervisor",
                "coordinator",
                "school_staff",
                "school_social_worker",
                "welfare_worker",
                "municipal_system",
                "prefecture_analyst",
                "platform_admin",
                name="app_role",
                schema="kizuna",
            ),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_membership_municipality_code_set")),
        sa.CheckConstraint(
            "revoked_at IS NULL OR revoked_at >= granted_at", name=op.f("ck_membership_revoked_after_granted")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_membership_municipality_code")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["kizuna.organisation.id"], name=op.f("fk_membership_organisation_id")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_membership")),
        sa.UniqueConstraint(
            "municipality_code",
            "subject",
            "role",
            "organisation_id",
            name=op.f("uq_membership_municipality_code_subject_role_organisation_id"),
        ),
        schema="kizuna",
    )
    op.create_table(
        "person",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("household_id", sa.UUID(), nullable=False),
        sa.Column("family_name", sa.Text(), nullable=False),
        sa.Column("given_name", sa.Text(), nullable=False),
        sa.Column("family_name_kana", sa.Text(), nullable=False),
        sa.Column("given_name_kana", sa.Text(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("school_organisation_id", sa.UUID(), nullable=True),
        sa.Column("school_grade", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("birth_date >= DATE '1900-01-01'", name=op.f("ck_person_birth_date_plausible")),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_person_municipality_code_set")),
        sa.CheckConstraint("school_grade BETWEEN 1 AND 12", name=op.f("ck_person_school_grade_range")),
        sa.CheckConstraint(
            "school_grade IS NULL OR school_organisation_id IS NOT NULL", name=op.f("ck_person_grade_needs_school")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code", "household_id"],
            ["kizuna.household.municipality_code", "kizuna.household.id"],
            name=op.f("fk_person_municipality_code_household_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_person_municipality_code")
        ),
        sa.ForeignKeyConstraint(
            ["school_organisation_id"], ["kizuna.organisation.id"], name=op.f("fk_person_school_organisation_id")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_person")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_person_municipality_code_household_id"),
        "person",
        ["municipality_code", "household_id"],
        unique=False,
        schema="kizuna",
    )
    op.create_table(
        "care_relationship",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("carer_person_id", sa.UUID(), nullable=False),
        sa.Column("cared_for_person_id", sa.UUID(), nullable=False),
        sa.Column("relationship", sa.Text(), nullable=False),
        sa.Column(
            "conditions",
            postgresql.ARRAY(
                sa.Enum(
                    "elderly",
                    "physical_disability",
                    "intellectual_disability",
                    "mental_illness",
                    "illness",
                    "dependence",
                    "limited_japanese",
                    "young_siblings",
                    name="cared_for_condition",
                    schema="kizuna",
                )
            ),
            nullable=False,
        ),
        sa.Column(
            "tasks",
            postgresql.ARRAY(
                sa.Enum(
                    "housework",
                    "sibling_care",
                    "watching_over",
                    "personal_care",
                    "emotional_support",
                    "interpreting",
                    "money_management",
                    "hospital_accompaniment",
                    name="care_task",
                    schema="kizuna",
                )
            ),
            nullable=False,
        ),
        sa.Column("hours_per_week", sa.Numeric(precision=4, scale=1), nullable=False),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_care_relationship_municipality_code_set")),
        sa.CheckConstraint("carer_person_id <> cared_for_person_id", name=op.f("ck_care_relationship_not_self")),
        sa.CheckConstraint("hours_per_week BETWEEN 0 AND 168", name=op.f("ck_care_relationship_hours_in_week")),
        sa.ForeignKeyConstraint(
            ["municipality_code", "cared_for_person_id"],
            ["kizuna.person.municipality_code", "kizuna.person.id"],
            name=op.f("fk_care_relationship_municipality_code_cared_for_person_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code", "carer_person_id"],
            ["kizuna.person.municipality_code", "kizuna.person.id"],
            name=op.f("fk_care_relationship_municipality_code_carer_person_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_care_relationship_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_care_relationship")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_care_relationship_municipality_code_carer_person_id"),
        "care_relationship",
        ["municipality_code", "carer_person_id"],
        unique=False,
        schema="kizuna",
    )
    op.create_table(
        "carer_case",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("person_id", sa.UUID(), nullable=False),
        sa.Column("household_id", sa.UUID(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "young_carer",
                "young_adult_carer",
                "business_carer",
                "family_carer",
                name="carer_category",
                schema="kizuna",
            ),
            nullable=False,
        ),
        sa.Column(
            "stage",
            sa.Enum(
                "intake",
                "sharing",
                "gathering",
                "conference",
                "multi_agency_meeting",
                "support",
                "monitoring",
                "closed",
                name="case_stage",
                schema="kizuna",
            ),
            nullable=False,
        ),
        sa.Column("lead_organisation_id", sa.UUID(), nullable=True),
        sa.Column("assigned_worker", sa.Text(), nullable=True),
        sa.Column("coordinator", sa.Text(), nullable=True),
        sa.Column("yotaikyo_registered", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("risk_level", sa.Enum("low", "medium", "high", name="risk_level", schema="kizuna"), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(stage = 'closed') = (closed_at IS NOT NULL)", name=op.f("ck_carer_case_closed_iff_stage_closed")
        ),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_carer_case_municipality_code_set")),
        sa.CheckConstraint(
            "closed_at IS NULL OR closed_at >= opened_at", name=op.f("ck_carer_case_closed_after_opened")
        ),
        sa.ForeignKeyConstraint(
            ["lead_organisation_id"], ["kizuna.organisation.id"], name=op.f("fk_carer_case_lead_organisation_id")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code", "household_id"],
            ["kizuna.household.municipality_code", "kizuna.household.id"],
            name=op.f("fk_carer_case_municipality_code_household_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code", "person_id"],
            ["kizuna.person.municipality_code", "kizuna.person.id"],
            name=op.f("fk_carer_case_municipality_code_person_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_carer_case_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_carer_case")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_carer_case_municipality_code_person_id"),
        "carer_case",
        ["municipality_code", "person_id"],
        unique=False,
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_carer_case_municipality_code_stage"),
        "carer_case",
        ["municipality_code", "stage"],
        unique=False,
        schema="kizuna",
    )
    op.create_index(
        "ix_carer_case_recent",
        "carer_case",
        ["municipality_code", sa.literal_column("opened_at DESC"), sa.literal_column("id DESC")],
        unique=False,
        schema="kizuna",
    )
    op.create_table(
        "assessment",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("assessor", sa.Text(), nullable=False),
        sa.Column("care_hours_per_week", sa.Numeric(precision=4, scale=1), nullable=False),
        sa.Column("school_attendance_effect", sa.SmallInteger(), nullable=False),
        sa.Column("study_effect", sa.SmallInteger(), nullable=False),
        sa.Column("health_effect", sa.SmallInteger(), nullable=False),
        sa.Column("sleep_effect", sa.SmallInteger(), nullable=False),
        sa.Column("friendship_effect", sa.SmallInteger(), nullable=False),
        sa.Column("future_plans_effect", sa.SmallInteger(), nullable=False),
        sa.Column("own_wishes", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_assessment_municipality_code_set")),
        sa.CheckConstraint("care_hours_per_week BETWEEN 0 AND 168", name=op.f("ck_assessment_hours_in_week")),
        sa.CheckConstraint("friendship_effect BETWEEN 0 AND 3", name=op.f("ck_assessment_friendship_effect_scale")),
        sa.CheckConstraint("future_plans_effect BETWEEN 0 AND 3", name=op.f("ck_assessment_future_plans_effect_scale")),
        sa.CheckConstraint("health_effect BETWEEN 0 AND 3", name=op.f("ck_assessment_health_effect_scale")),
        sa.CheckConstraint(
            "school_attendance_effect BETWEEN 0 AND 3", name=op.f("ck_assessment_school_attendance_effect_scale")
        ),
        sa.CheckConstraint("sleep_effect BETWEEN 0 AND 3", name=op.f("ck_assessment_sleep_effect_scale")),
        sa.CheckConstraint("study_effect BETWEEN 0 AND 3", name=op.f("ck_assessment_study_effect_scale")),
        sa.ForeignKeyConstraint(
            ["municipality_code", "case_id"],
            ["kizuna.carer_case.municipality_code", "kizuna.carer_case.id"],
            name=op.f("fk_assessment_municipality_code_case_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_assessment_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_assessment")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_assessment_municipality_code_case_id"),
        "assessment",
        ["municipality_code", "case_id"],
        unique=False,
        schema="kizuna",
    )
    op.create_table(
        "case_event",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "opened",
                "stage_changed",
                "approval_requested",
                "approved",
                "rejected",
                "reopened",
                "assigned",
                name="case_event_kind",
                schema="kizuna",
            ),
            nullable=False,
        ),
        sa.Column(
            "from_stage",
            sa.Enum(
                "intake",
                "sharing",
                "gathering",
                "conference",
                "multi_agency_meeting",
                "support",
                "monitoring",
                "closed",
                name="case_stage",
                schema="kizuna",
            ),
            nullable=True,
        ),
        sa.Column(
            "to_stage",
            sa.Enum(
                "intake",
                "sharing",
                "gathering",
                "conference",
                "multi_agency_meeting",
                "support",
                "monitoring",
                "closed",
                name="case_stage",
                schema="kizuna",
            ),
            nullable=True,
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_case_event_municipality_code_set")),
        sa.ForeignKeyConstraint(
            ["municipality_code", "case_id"],
            ["kizuna.carer_case.municipality_code", "kizuna.carer_case.id"],
            name=op.f("fk_case_event_municipality_code_case_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_case_event_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_case_event")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_case_event_municipality_code_case_id_occurred_at"),
        "case_event",
        ["municipality_code", "case_id", "occurred_at"],
        unique=False,
        schema="kizuna",
    )
    op.create_table(
        "case_participant",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_case_participant_municipality_code_set")),
        sa.ForeignKeyConstraint(
            ["municipality_code", "case_id"],
            ["kizuna.carer_case.municipality_code", "kizuna.carer_case.id"],
            name=op.f("fk_case_participant_municipality_code_case_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_case_participant_municipality_code")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["kizuna.organisation.id"], name=op.f("fk_case_participant_organisation_id")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_case_participant")),
        sa.UniqueConstraint(
            "municipality_code",
            "case_id",
            "organisation_id",
            name=op.f("uq_case_participant_municipality_code_case_id_organisation_id"),
        ),
        schema="kizuna",
    )
    op.create_table(
        "consent",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("person_id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=True),
        sa.Column("given_by", sa.Enum("self", "guardian", name="consent_giver", schema="kizuna"), nullable=False),
        sa.Column("guardian_name", sa.Text(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column(
            "shared_organisation_ids", postgresql.ARRAY(sa.UUID()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column(
            "shared_organisation_kinds",
            postgresql.ARRAY(
                sa.Enum(
                    "elementary_school",
                    "junior_high_school",
                    "high_school",
                    "university",
                    "community_general_support_center",
                    "social_welfare_council",
                    "disability_consultation",
                    "health_welfare_center",
                    "care_management_office",
                    "home_help_provider",
                    "medical_institution",
                    "npo",
                    "municipal_department",
                    "prefecture_department",
                    name="organisation_kind",
                    schema="kizuna",
                )
            ),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.CheckConstraint("given_by = 'self' OR guardian_name IS NOT NULL", name=op.f("ck_consent_guardian_named")),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_consent_municipality_code_set")),
        sa.CheckConstraint(
            "withdrawn_at IS NULL OR withdrawn_at >= given_at", name=op.f("ck_consent_withdrawn_after_given")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code", "case_id"],
            ["kizuna.carer_case.municipality_code", "kizuna.carer_case.id"],
            name=op.f("fk_consent_municipality_code_case_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code", "person_id"],
            ["kizuna.person.municipality_code", "kizuna.person.id"],
            name=op.f("fk_consent_municipality_code_person_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_consent_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_consent")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_consent_municipality_code_person_id"),
        "consent",
        ["municipality_code", "person_id"],
        unique=False,
        schema="kizuna",
    )
    op.create_table(
        "contact_log",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("interview", "home_visit", "joint_visit", "phone", name="contact_kind", schema="kizuna"),
            nullable=False,
        ),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_contact_log_municipality_code_set")),
        sa.ForeignKeyConstraint(
            ["municipality_code", "case_id"],
            ["kizuna.carer_case.municipality_code", "kizuna.carer_case.id"],
            name=op.f("fk_contact_log_municipality_code_case_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_contact_log_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_contact_log")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_contact_log_municipality_code_case_id_contacted_at"),
        "contact_log",
        ["municipality_code", "case_id", "contacted_at"],
        unique=False,
        schema="kizuna",
    )
    op.create_table(
        "emergency_access",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "expires_at > granted_at AND expires_at <= granted_at + INTERVAL '24 hours'",
            name=op.f("ck_emergency_access_time_limited"),
        ),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_emergency_access_municipality_code_set")),
        sa.CheckConstraint("char_length(reason) >= 10", name=op.f("ck_emergency_access_reason_written")),
        sa.ForeignKeyConstraint(
            ["municipality_code", "case_id"],
            ["kizuna.carer_case.municipality_code", "kizuna.carer_case.id"],
            name=op.f("fk_emergency_access_municipality_code_case_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_emergency_access_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_emergency_access")),
        schema="kizuna",
    )
    op.create_table(
        "helper_dispatch",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("provider_organisation_id", sa.UUID(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "applied",
                "surveyed",
                "planned",
                "decided",
                "in_service",
                "monitoring",
                "ended",
                name="dispatch_status",
                schema="kizuna",
            ),
            nullable=False,
        ),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("survey_visit_on", sa.Date(), nullable=True),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("extended_until", sa.Date(), nullable=True),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_helper_dispatch_municipality_code_set")),
        sa.CheckConstraint(
            "period_start IS NULL OR (period_end > period_start AND period_end <= period_start + INTERVAL '6 months')",
            name=op.f("ck_helper_dispatch_period_at_most_six_months"),
        ),
        sa.CheckConstraint(
            "decided_on IS NULL OR decided_on >= applied_on", name=op.f("ck_helper_dispatch_decision_after_application")
        ),
        sa.CheckConstraint(
            "extended_until IS NULL OR extended_until > period_end",
            name=op.f("ck_helper_dispatch_extension_after_period"),
        ),
        sa.CheckConstraint(
            "survey_visit_on IS NULL OR survey_visit_on >= applied_on",
            name=op.f("ck_helper_dispatch_survey_after_application"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code", "case_id"],
            ["kizuna.carer_case.municipality_code", "kizuna.carer_case.id"],
            name=op.f("fk_helper_dispatch_municipality_code_case_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_helper_dispatch_municipality_code")
        ),
        sa.ForeignKeyConstraint(
            ["provider_organisation_id"],
            ["kizuna.organisation.id"],
            name=op.f("fk_helper_dispatch_provider_organisation_id"),
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_helper_dispatch")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_helper_dispatch_municipality_code_case_id"),
        "helper_dispatch",
        ["municipality_code", "case_id"],
        unique=False,
        schema="kizuna",
    )
    op.create_table(
        "meeting",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "case_conference",
                "multi_agency",
                "monitoring",
                "yotaikyo_practitioners",
                name="meeting_kind",
                schema="kizuna",
            ),
            nullable=False,
        ),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("decisions", sa.Text(), nullable=True),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_meeting_municipality_code_set")),
        sa.CheckConstraint(
            "next_review_on IS NULL OR next_review_on >= held_on", name=op.f("ck_meeting_review_after_meeting")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code", "case_id"],
            ["kizuna.carer_case.municipality_code", "kizuna.carer_case.id"],
            name=op.f("fk_meeting_municipality_code_case_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_meeting_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_meeting")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_meeting_municipality_code_case_id"),
        "meeting",
        ["municipality_code", "case_id"],
        unique=False,
        schema="kizuna",
    )
    op.create_table(
        "referral",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "school",
                "welfare_agency",
                "medical",
                "self",
                "family",
                "line_consultation",
                "other",
                name="referral_source",
                schema="kizuna",
            ),
            nullable=False,
        ),
        sa.Column("referrer_organisation_id", sa.UUID(), nullable=True),
        sa.Column("referrer_subject", sa.Text(), nullable=True),
        sa.Column("person_id", sa.UUID(), nullable=True),
        sa.Column("child_display_name", sa.Text(), nullable=True),
        sa.Column("noticed", sa.Text(), nullable=False),
        sa.Column("urgency", sa.Enum("routine", "soon", "urgent", name="urgency", schema="kizuna"), nullable=False),
        sa.Column(
            "status",
            sa.Enum("submitted", "accepted", "declined", "merged", "revoked", name="referral_status", schema="kizuna"),
            nullable=False,
        ),
        sa.Column("case_id", sa.UUID(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'submitted') = (decided_at IS NULL)", name=op.f("ck_referral_decided_iff_not_submitted")
        ),
        sa.CheckConstraint(
            "(status IN ('accepted', 'merged')) = (case_id IS NOT NULL)", name=op.f("ck_referral_case_iff_accepted")
        ),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_referral_municipality_code_set")),
        sa.CheckConstraint(
            "decided_at IS NULL OR decided_at >= received_at", name=op.f("ck_referral_decided_after_received")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code", "case_id"],
            ["kizuna.carer_case.municipality_code", "kizuna.carer_case.id"],
            name=op.f("fk_referral_municipality_code_case_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code", "person_id"],
            ["kizuna.person.municipality_code", "kizuna.person.id"],
            name=op.f("fk_referral_municipality_code_person_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_referral_municipality_code")
        ),
        sa.ForeignKeyConstraint(
            ["referrer_organisation_id"], ["kizuna.organisation.id"], name=op.f("fk_referral_referrer_organisation_id")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_referral")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_referral_municipality_code_referrer_organisation_id"),
        "referral",
        ["municipality_code", "referrer_organisation_id"],
        unique=False,
        schema="kizuna",
    )
    op.create_index(
        "ix_referral_recent",
        "referral",
        ["municipality_code", sa.literal_column("received_at DESC"), sa.literal_column("id DESC")],
        unique=False,
        schema="kizuna",
    )
    op.create_table(
        "support_plan",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.SmallInteger(), nullable=False),
        sa.Column("goals", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_support_plan_municipality_code_set")),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_support_plan_period_ordered")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_support_plan_version_positive")),
        sa.ForeignKeyConstraint(
            ["municipality_code", "case_id"],
            ["kizuna.carer_case.municipality_code", "kizuna.carer_case.id"],
            name=op.f("fk_support_plan_municipality_code_case_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_support_plan_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_support_plan")),
        sa.UniqueConstraint(
            "municipality_code", "case_id", "version", name=op.f("uq_support_plan_municipality_code_case_id_version")
        ),
        schema="kizuna",
    )
    op.create_table(
        "approval",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column(
            "subject", sa.Enum("support_plan", "closure", name="approval_subject", schema="kizuna"), nullable=False
        ),
        sa.Column("support_plan_id", sa.UUID(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("requested", "approved", "rejected", name="approval_status", schema="kizuna"),
            nullable=False,
        ),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(status = 'requested') = (decided_at IS NULL AND decided_by IS NULL)",
            name=op.f("ck_approval_decided_iff_not_requested"),
        ),
        sa.CheckConstraint(
            "(subject = 'support_plan') = (support_plan_id IS NOT NULL)",
            name=op.f("ck_approval_plan_iff_plan_approval"),
        ),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_approval_municipality_code_set")),
        sa.CheckConstraint(
            "decided_at IS NULL OR decided_at >= requested_at", name=op.f("ck_approval_decided_after_requested")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code", "case_id"],
            ["kizuna.carer_case.municipality_code", "kizuna.carer_case.id"],
            name=op.f("fk_approval_municipality_code_case_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code", "support_plan_id"],
            ["kizuna.support_plan.municipality_code", "kizuna.support_plan.id"],
            name=op.f("fk_approval_municipality_code_support_plan_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_approval_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_approval")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_approval_municipality_code_case_id"),
        "approval",
        ["municipality_code", "case_id"],
        unique=False,
        schema="kizuna",
    )
    op.create_table(
        "helper_visit",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("dispatch_id", sa.UUID(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.Column("activities", sa.Text(), nullable=False),
        sa.Column("observations", sa.Text(), nullable=True),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_helper_visit_municipality_code_set")),
        sa.CheckConstraint("minutes BETWEEN 1 AND 120", name=op.f("ck_helper_visit_at_most_two_hours")),
        sa.ForeignKeyConstraint(
            ["municipality_code", "dispatch_id"],
            ["kizuna.helper_dispatch.municipality_code", "kizuna.helper_dispatch.id"],
            name=op.f("fk_helper_visit_municipality_code_dispatch_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_helper_visit_municipality_code")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_helper_visit")),
        schema="kizuna",
    )
    op.create_index(
        "uq_helper_visit_one_per_week",
        "helper_visit",
        ["municipality_code", "dispatch_id", sa.literal_column("date_trunc('week', visited_on::timestamp)")],
        unique=True,
        schema="kizuna",
    )
    op.create_table(
        "meeting_participant",
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("meeting_id", sa.UUID(), nullable=False),
        sa.Column("organisation_id", sa.UUID(), nullable=True),
        sa.Column("participant_name", sa.Text(), nullable=False),
        sa.CheckConstraint("municipality_code <> ''", name=op.f("ck_meeting_participant_municipality_code_set")),
        sa.ForeignKeyConstraint(
            ["municipality_code", "meeting_id"],
            ["kizuna.meeting.municipality_code", "kizuna.meeting.id"],
            name=op.f("fk_meeting_participant_municipality_code_meeting_id"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["kizuna.municipality.code"], name=op.f("fk_meeting_participant_municipality_code")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["kizuna.organisation.id"], name=op.f("fk_meeting_participant_organisation_id")
        ),
        sa.PrimaryKeyConstraint("municipality_code", "id", name=op.f("pk_meeting_participant")),
        schema="kizuna",
    )
    op.create_index(
        op.f("ix_meeting_participant_municipality_code_meeting_id"),
        "meeting_participant",
        ["municipality_code", "meeting_id"],
        unique=False,
        schema="kizuna",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_meeting_participant_municipality_code_meeting_id"), table_name="meeting_participant", schema="kizuna"
    )
    op.drop_table("meeting_participant", schema="kizuna")
    op.drop_index("uq_helper_visit_one_per_week", table_name="helper_visit", schema="kizuna")
    op.drop_table("helper_visit", schema="kizuna")
    op.drop_index(op.f("ix_approval_municipality_code_case_id"), table_name="approval", schema="kizuna")
    op.drop_table("approval", schema="kizuna")
    op.drop_table("support_plan", schema="kizuna")
    op.drop_index("ix_referral_recent", table_name="referral", schema="kizuna")
    op.drop_index(
        op.f("ix_referral_municipality_code_referrer_organisation_id"), table_name="referral", schema="kizuna"
    )
    op.drop_table("referral", schema="kizuna")
    op.drop_index(op.f("ix_meeting_municipality_code_case_id"), table_name="meeting", schema="kizuna")
    op.drop_table("meeting", schema="kizuna")
    op.drop_index(op.f("ix_helper_dispatch_municipality_code_case_id"), table_name="helper_dispatch", schema="kizuna")
    op.drop_table("helper_dispatch", schema="kizuna")
    op.drop_table("emergency_access", schema="kizuna")
    op.drop_index(
        op.f("ix_contact_log_municipality_code_case_id_contacted_at"), table_name="contact_log", schema="kizuna"
    )
    op.drop_table("contact_log", schema="kizuna")
    op.drop_index(op.f("ix_consent_municipality_code_person_id"), table_name="consent", schema="kizuna")
    op.drop_table("consent", schema="kizuna")
    op.drop_table("case_participant", schema="kizuna")
    op.drop_index(op.f("ix_case_event_municipality_code_case_id_occurred_at"), table_name="case_event", schema="kizuna")
    op.drop_table("case_event", schema="kizuna")
    op.drop_index(op.f("ix_assessment_municipality_code_case_id"), table_name="assessment", schema="kizuna")
    op.drop_table("assessment", schema="kizuna")
    op.drop_index("ix_carer_case_recent", table_name="carer_case", schema="kizuna")
    op.drop_index(op.f("ix_carer_case_municipality_code_stage"), table_name="carer_case", schema="kizuna")
    op.drop_index(op.f("ix_carer_case_municipality_code_person_id"), table_name="carer_case", schema="kizuna")
    op.drop_table("carer_case", schema="kizuna")
    op.drop_index(
        op.f("ix_care_relationship_municipality_code_carer_person_id"), table_name="care_relationship", schema="kizuna"
    )
    op.drop_table("care_relationship", schema="kizuna")
    op.drop_index(op.f("ix_person_municipality_code_household_id"), table_name="person", schema="kizuna")
    op.drop_table("person", schema="kizuna")
    op.drop_table("membership", schema="kizuna")
    op.drop_index(
        op.f("ix_programme_activity_municipality_code_fiscal_year"), table_name="programme_activity", schema="kizuna"
    )
    op.drop_table("programme_activity", schema="kizuna")
    op.drop_index(op.f("ix_organisation_municipality_code"), table_name="organisation", schema="kizuna")
    op.drop_table("organisation", schema="kizuna")
    op.drop_table("municipality_status", schema="kizuna")
    op.drop_table("household", schema="kizuna")
    op.drop_table("audit_event", schema="kizuna")
    op.drop_index(op.f("ix_municipality_prefecture_code"), table_name="municipality", schema="kizuna")
    op.drop_table("municipality", schema="kizuna")
    op.drop_table("indicator", schema="kizuna")
    op.execute("DROP SCHEMA kizuna CASCADE")  # the enum types
