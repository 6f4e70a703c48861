"""The data model (DESIGN section 4) as typed SQLAlchemy 2 tables.

Two kinds of table:

- global tables (the local-government registry, the organisations directory, the
  indicators) hold no personal data and are readable by every app role;
- tenant tables (`TenantTable`) begin their primary key with `municipality_code`, and
  every foreign key between them includes it, so the schema can be distributed by Citus
  on that column with co-located joins. Row security (created by the migrations) keeps
  each tenant to its own rows.

Alembic's migrations are written from these models and `alembic check` in the tests keeps
the two equal. Rules a database can hold are constraints here, not only checks in code.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from kizuna.platform import vocabulary as v
from kizuna.tenants.registry import MunicipalityKind

SCHEMA = "kizuna"

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


def pg_enum(enum_cls: type[Any], name: str) -> Enum:
    """A PostgreSQL enum type stored by value (the English identifier)."""
    return Enum(
        enum_cls,
        name=name,
        schema=SCHEMA,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA, naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        uuid.UUID: UUID(as_uuid=True),
        dt.datetime: DateTime(timezone=True),
        str: Text,
    }


# --- global tables -------------------------------------------------------------------


class Municipality(Base):
    """A local government (地方公共団体): a municipality or the prefecture itself."""

    __tablename__ = "municipality"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{6}$'", name="code_format"),
        CheckConstraint("prefecture_code ~ '^[0-9]{2}$'", name="prefecture_code_format"),
    )

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str]
    name_kana: Mapped[str]
    kind: Mapped[MunicipalityKind] = mapped_column(pg_enum(MunicipalityKind, "municipality_kind"))
    prefecture_code: Mapped[str] = mapped_column(String(2), index=True)


class Organisation(Base):
    """A school, agency, provider or department; `municipality_code` is the area it serves."""

    __tablename__ = "organisation"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[v.OrganisationKind] = mapped_column(pg_enum(v.OrganisationKind, "organisation_kind"))
    name: Mapped[str]
    municipality_code: Mapped[str] = mapped_column(String(6), ForeignKey("municipality.code"), index=True)


class TrustedDocument(Base):
    """A GraphQL document registered for clients to run by its hash (issue 18, item 5):
    `hash` is the SHA-256 of `document`'s exact UTF-8 text, in lower-case hex. Written by
    `kizuna documents` over the administrative connection only; the request path's login
    reads it. `client` names who registered it (a municipal system and its release), so
    that one client's documents are removed without touching another's (rotation)."""

    __tablename__ = "trusted_document"
    __table_args__ = (
        CheckConstraint("hash = encode(sha256(convert_to(document, 'UTF8')), 'hex')", name="hash_is_the_documents"),
        CheckConstraint("char_length(btrim(client)) BETWEEN 1 AND 100", name="client_length"),
        CheckConstraint("document <> ''", name="document_present"),
    )

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client: Mapped[str] = mapped_column(primary_key=True)
    document: Mapped[str]
    registered_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class AppUser(Base):
    """A person or system as an OIDC issuer names it: the pair (issuer, subject)."""

    __tablename__ = "app_user"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        CheckConstraint("issuer <> ''", name="issuer_present"),
        CheckConstraint("subject <> ''", name="subject_present"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    issuer: Mapped[str]
    subject: Mapped[str]
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    session_epoch: Mapped[int] = mapped_column(server_default=text("0"))
    """How many times the user signed out: a browser session begun under an earlier count is over."""


class Indicator(Base):
    """An indicator of a prefecture's plan: baseline, target, and the figure that measures
    it (`IndicatorFigure`, a closed list). Kept for good: retired, never deleted (0024)."""

    __tablename__ = "indicator"
    __table_args__ = (
        CheckConstraint("prefecture_code ~ '^[0-9]{2}$'", name="prefecture_code_format"),
        CheckConstraint("code ~ '^[a-z][a-z0-9_]{1,39}$'", name="code_format"),
        CheckConstraint("char_length(btrim(name)) BETWEEN 1 AND 200", name="name_length"),
        CheckConstraint("char_length(btrim(unit)) BETWEEN 1 AND 20", name="unit_length"),
        CheckConstraint("(baseline IS NULL) = (baseline_fiscal_year IS NULL)", name="baseline_with_its_year"),
        CheckConstraint("target_date IS NOT NULL OR target_fiscal_year IS NOT NULL", name="target_dated"),
        CheckConstraint(
            "baseline_fiscal_year BETWEEN 2000 AND 2100 AND target_fiscal_year BETWEEN 2000 AND 2100"
            " AND counted_from_fiscal_year BETWEEN 2000 AND 2100",
            name="fiscal_years_range",
        ),
        CheckConstraint("retired_at IS NULL OR retired_at >= created_at", name="retired_after_created"),
    )

    prefecture_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str]
    unit: Mapped[str]
    figure: Mapped[v.IndicatorFigure] = mapped_column(pg_enum(v.IndicatorFigure, "indicator_figure"))
    baseline: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    baseline_fiscal_year: Mapped[int | None] = mapped_column(SmallInteger)
    target: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    target_date: Mapped[dt.date | None]
    target_fiscal_year: Mapped[int | None] = mapped_column(SmallInteger)
    counted_from_fiscal_year: Mapped[int | None] = mapped_column(SmallInteger)
    """A cumulative target (6,000 people over FY2021-2026) counts from this fiscal year."""
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    retired_at: Mapped[dt.datetime | None]


# --- tenant tables -------------------------------------------------------------------


class TenantTable(Base):
    """A table whose rows belong to one tenant: PK (municipality_code, id), under row security."""

    __abstract__ = True

    municipality_code: Mapped[str] = mapped_column(
        String(6), ForeignKey("municipality.code"), primary_key=True, sort_order=-2
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, sort_order=-1)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:  # noqa: N805  (a declared_attr takes the class)
        return (
            CheckConstraint("municipality_code <> ''", name="municipality_code_set"),
            *tenant_foreign_keys(cls.tenant_refs),
            *cls.extra_args,
        )

    # column -> tenant table it references; the key always includes municipality_code
    tenant_refs: ClassVar[dict[str, str]] = {}
    # further constraints and indexes of the concrete table
    extra_args: ClassVar[tuple[Any, ...]] = ()


def tenant_foreign_keys(refs: dict[str, str]) -> list[ForeignKeyConstraint]:
    """Foreign keys between tenant tables always include municipality_code."""
    return [
        ForeignKeyConstraint(
            ["municipality_code", column],
            [f"{SCHEMA}.{table}.municipality_code", f"{SCHEMA}.{table}.id"],
        )
        for column, table in refs.items()
    ]


def created_at() -> Mapped[dt.datetime]:
    return mapped_column(server_default=func.now())


class Membership(TenantTable):
    """Links a user to a tenant, an app role and an organisation."""

    __tablename__ = "membership"
    extra_args = (
        UniqueConstraint("municipality_code", "user_id", "role", "organisation_id"),
        # A grant's idempotency key: one per tenant, so a retried grant finds its membership.
        UniqueConstraint("municipality_code", "idempotency_key"),
        CheckConstraint("revoked_at IS NULL OR revoked_at >= granted_at", name="revoked_after_granted"),
        CheckConstraint("char_length(idempotency_key) BETWEEN 1 AND 200", name="idempotency_key_length"),
        # The prefecture's roles live in the prefecture's tenant (NN000C), every other in a municipality.
        CheckConstraint(
            "(role IN ('platform_admin', 'prefecture_analyst')) = (municipality_code ~ '^[0-9]{2}000[0-9]$')",
            name="role_fits_tenant",
        ),
        Index("ix_membership_recent", "municipality_code", text("granted_at DESC"), text("id DESC")),
        CheckConstraint("(granted_by IS NULL) = (granted_by_role IS NULL)", name="grantor_complete"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    display_name: Mapped[str]
    role: Mapped[v.AppRole] = mapped_column(pg_enum(v.AppRole, "app_role"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    granted_at: Mapped[dt.datetime] = created_at()
    revoked_at: Mapped[dt.datetime | None]
    idempotency_key: Mapped[str | None]
    # Who granted it (or granted it again), in which role; NULL for onboarding. Row
    # security makes them the request's own user and role (migration 0008).
    granted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    granted_by_role: Mapped[v.AppRole | None] = mapped_column(pg_enum(v.AppRole, "app_role"))


class Household(TenantTable):
    """A household (世帯)."""

    __tablename__ = "household"

    name: Mapped[str]
    district: Mapped[str | None]
    created_at: Mapped[dt.datetime] = created_at()


class Person(TenantTable):
    """A carer, a cared-for person or another member of a household."""

    __tablename__ = "person"
    tenant_refs = {"household_id": "household", "merged_into_id": "person"}
    extra_args = (
        CheckConstraint("birth_date >= DATE '1900-01-01'", name="birth_date_plausible"),
        CheckConstraint("merged_into_id <> id", name="not_merged_into_itself"),
        CheckConstraint("school_grade BETWEEN 1 AND 12", name="school_grade_range"),
        CheckConstraint("school_grade IS NULL OR school_organisation_id IS NOT NULL", name="grade_needs_school"),
        CheckConstraint("char_length(idempotency_key) BETWEEN 1 AND 200", name="idempotency_key_length"),
        Index(None, "municipality_code", "household_id"),
        # Search by a name's prefix and the duplicate check (same key, same birth date):
        # index lookups within the tenant (schema/people/names.py makes the keys).
        Index(None, "municipality_code", "name_key", "birth_date"),
        Index(None, "municipality_code", "kana_key", "birth_date"),
        Index("ix_person_recent", "municipality_code", text("created_at DESC"), text("id DESC")),
        # A creation's idempotency key: one per tenant, so a retried creation finds its person.
        UniqueConstraint("municipality_code", "idempotency_key"),
    )

    household_id: Mapped[uuid.UUID]
    family_name: Mapped[str]
    given_name: Mapped[str]
    family_name_kana: Mapped[str]
    given_name_kana: Mapped[str]
    birth_date: Mapped[dt.date]
    school_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    school_grade: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[dt.datetime] = created_at()
    # The byte order ("C") makes a prefix search a range of the index.
    name_key: Mapped[str] = mapped_column(Text(collation="C"))
    """The name in kanji, normalised (schema/people/names.py)."""
    kana_key: Mapped[str] = mapped_column(Text(collation="C"))
    """The reading in kana, normalised the same way."""
    idempotency_key: Mapped[str | None]
    merged_into_id: Mapped[uuid.UUID | None]
    """The person this one was found to duplicate and merged into (`PersonMerge`)."""


class PersonMerge(TenantTable):
    """A duplicate person merged into the kept one: the ids of the rows whose reference
    moved, one array per referencing column, so that an undo puts exactly those back.
    Never deleted; an undo fills the `undone_*` columns. One merge of a person in force."""

    __tablename__ = "person_merge"
    tenant_refs = {"kept_person_id": "person", "duplicate_person_id": "person"}
    extra_args = (
        CheckConstraint("kept_person_id <> duplicate_person_id", name="not_itself"),
        CheckConstraint("char_length(btrim(reason)) > 0", name="reason_given"),
        CheckConstraint(
            "(undone_at IS NULL) = (undone_by IS NULL) AND (undone_at IS NULL) = (undo_reason IS NULL)",
            name="undone_whole",
        ),
        CheckConstraint("undo_reason IS NULL OR char_length(btrim(undo_reason)) > 0", name="undo_reason_given"),
        CheckConstraint("undone_at IS NULL OR undone_at >= merged_at", name="undone_after"),
        Index(
            "uq_person_merge_in_force",
            "municipality_code",
            "duplicate_person_id",
            unique=True,
            postgresql_where=text("undone_at IS NULL"),
        ),
        Index(None, "municipality_code", "kept_person_id"),
    )

    kept_person_id: Mapped[uuid.UUID]
    duplicate_person_id: Mapped[uuid.UUID]
    reason: Mapped[str]
    merged_at: Mapped[dt.datetime]
    merged_by: Mapped[uuid.UUID]
    """The municipal user who merged (row security: the request's own)."""
    carer_case_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    consent_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    carer_relationship_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    cared_for_relationship_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    undone_at: Mapped[dt.datetime | None]
    undone_by: Mapped[uuid.UUID | None]
    undo_reason: Mapped[str | None]


class CareRelationship(TenantTable):
    """Who cares for whom, the cared-for person's conditions and the care tasks."""

    __tablename__ = "care_relationship"
    tenant_refs = {"carer_person_id": "person", "cared_for_person_id": "person"}
    extra_args = (
        CheckConstraint("carer_person_id <> cared_for_person_id", name="not_self"),
        CheckConstraint("hours_per_week BETWEEN 0 AND 168", name="hours_in_week"),
        CheckConstraint("char_length(idempotency_key) BETWEEN 1 AND 200", name="idempotency_key_length"),
        Index(None, "municipality_code", "carer_person_id"),
        Index(None, "municipality_code", "cared_for_person_id"),
        # One relationship per carer and cared-for person (its details change, it is not repeated).
        UniqueConstraint("municipality_code", "carer_person_id", "cared_for_person_id"),
        UniqueConstraint("municipality_code", "idempotency_key"),
    )

    carer_person_id: Mapped[uuid.UUID]
    cared_for_person_id: Mapped[uuid.UUID]
    relationship: Mapped[str]
    conditions: Mapped[list[v.CaredForCondition]] = mapped_column(
        ARRAY(pg_enum(v.CaredForCondition, "cared_for_condition"))
    )
    tasks: Mapped[list[v.CareTask]] = mapped_column(ARRAY(pg_enum(v.CareTask, "care_task")))
    hours_per_week: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    idempotency_key: Mapped[str | None]


class CarerCase(TenantTable):
    """A case (ケース) about one carer."""

    __tablename__ = "carer_case"
    tenant_refs = {"person_id": "person", "household_id": "household"}
    extra_args = (
        CheckConstraint("closed_at IS NULL OR closed_at >= opened_at", name="closed_after_opened"),
        CheckConstraint("(stage = 'closed') = (closed_at IS NOT NULL)", name="closed_iff_stage_closed"),
        Index("ix_carer_case_recent", "municipality_code", text("opened_at DESC"), text("id DESC")),
        Index(None, "municipality_code", "person_id"),
        Index(None, "municipality_code", "stage"),
    )

    person_id: Mapped[uuid.UUID]
    household_id: Mapped[uuid.UUID]
    category: Mapped[v.CarerCategory] = mapped_column(pg_enum(v.CarerCategory, "carer_category"))
    stage: Mapped[v.CaseStage] = mapped_column(pg_enum(v.CaseStage, "case_stage"))
    lead_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    assigned_worker: Mapped[str | None]
    assigned_worker_name: Mapped[str | None]
    """The worker's name when assigned (colleagues cannot read each other's memberships)."""
    coordinator: Mapped[str | None]
    coordinator_name: Mapped[str | None]
    yotaikyo_registered: Mapped[bool] = mapped_column(server_default=text("false"))
    risk_level: Mapped[v.RiskLevel] = mapped_column(pg_enum(v.RiskLevel, "risk_level"))
    opened_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]


class CaseEvent(TenantTable):
    """One transition or decision on a case: append-only (no UPDATE or DELETE is granted)."""

    __tablename__ = "case_event"
    tenant_refs = {"case_id": "carer_case"}
    extra_args = (
        Index(None, "municipality_code", "case_id", "occurred_at"),
        CheckConstraint(
            "(kind IN ('opened', 'stage_changed', 'reopened')) = (to_stage IS NOT NULL)",
            name="transition_names_stage",
        ),
    )

    case_id: Mapped[uuid.UUID]
    kind: Mapped[v.CaseEventKind] = mapped_column(pg_enum(v.CaseEventKind, "case_event_kind"))
    from_stage: Mapped[v.CaseStage | None] = mapped_column(pg_enum(v.CaseStage, "case_stage"))
    to_stage: Mapped[v.CaseStage | None] = mapped_column(pg_enum(v.CaseStage, "case_stage"))
    actor: Mapped[str]
    actor_name: Mapped[str | None]
    """Who wrote it, by the name their membership had then (the history shows it)."""
    reason: Mapped[str | None]
    occurred_at: Mapped[dt.datetime]


class CaseParticipant(TenantTable):
    """An organisation taking part in a case."""

    __tablename__ = "case_participant"
    tenant_refs = {"case_id": "carer_case"}
    extra_args = (UniqueConstraint("municipality_code", "case_id", "organisation_id"),)

    case_id: Mapped[uuid.UUID]
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    role: Mapped[str]
    added_at: Mapped[dt.datetime] = created_at()


class Assessment(TenantTable):
    """An assessment of the whole family and of what caring costs the carer."""

    __tablename__ = "assessment"
    tenant_refs = {"case_id": "carer_case"}
    extra_args = (
        CheckConstraint("care_hours_per_week BETWEEN 0 AND 168", name="hours_in_week"),
        *(
            CheckConstraint(f"{effect} BETWEEN 0 AND 3", name=f"{effect}_scale")
            for effect in (
                "school_attendance_effect",
                "study_effect",
                "health_effect",
                "sleep_effect",
                "friendship_effect",
                "future_plans_effect",
            )
        ),
        Index(None, "municipality_code", "case_id"),
        CheckConstraint("char_length(idempotency_key) BETWEEN 1 AND 200", name="idempotency_key_length"),
        # A creation's idempotency key: one per tenant, so a retried creation finds its record.
        UniqueConstraint("municipality_code", "idempotency_key"),
    )

    case_id: Mapped[uuid.UUID]
    assessed_on: Mapped[dt.date]
    assessor: Mapped[str]
    care_hours_per_week: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    # 0 none, 1 some, 2 considerable, 3 severe
    school_attendance_effect: Mapped[int] = mapped_column(SmallInteger)
    study_effect: Mapped[int] = mapped_column(SmallInteger)
    health_effect: Mapped[int] = mapped_column(SmallInteger)
    sleep_effect: Mapped[int] = mapped_column(SmallInteger)
    friendship_effect: Mapped[int] = mapped_column(SmallInteger)
    future_plans_effect: Mapped[int] = mapped_column(SmallInteger)
    own_wishes: Mapped[str | None]
    notes: Mapped[str | None]
    # the household as the assessor found it (who cares for whom: care_relationship)
    family_situation: Mapped[str | None]
    idempotency_key: Mapped[str | None]


class SupportPlan(TenantTable):
    """A versioned support plan; it takes effect once a supervisor approved it."""

    __tablename__ = "support_plan"
    tenant_refs = {"case_id": "carer_case"}
    extra_args = (
        UniqueConstraint("municipality_code", "case_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        UniqueConstraint("municipality_code", "idempotency_key"),
        CheckConstraint("char_length(idempotency_key) BETWEEN 1 AND 200", name="idempotency_key_length"),
    )

    case_id: Mapped[uuid.UUID]
    version: Mapped[int] = mapped_column(SmallInteger)
    goals: Mapped[str]
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    created_by: Mapped[str]
    created_at: Mapped[dt.datetime] = created_at()
    idempotency_key: Mapped[str | None]


class Approval(TenantTable):
    """A supervisor's approval of a support plan or a closure: requested → approved | rejected."""

    __tablename__ = "approval"
    tenant_refs = {"case_id": "carer_case", "support_plan_id": "support_plan"}
    extra_args = (
        CheckConstraint("(subject = 'support_plan') = (support_plan_id IS NOT NULL)", name="plan_iff_plan_approval"),
        CheckConstraint(
            "(status = 'requested') = (decided_at IS NULL AND decided_by IS NULL)",
            name="decided_iff_not_requested",
        ),
        CheckConstraint("decided_at IS NULL OR decided_at >= requested_at", name="decided_after_requested"),
        # Never self-approved; a rejection says why (0015).
        CheckConstraint("decided_by IS NULL OR decided_by <> requested_by", name="not_self_approved"),
        CheckConstraint("status <> 'rejected' OR char_length(btrim(comment)) > 0", name="rejected_with_comment"),
        Index(None, "municipality_code", "case_id"),
    )

    case_id: Mapped[uuid.UUID]
    subject: Mapped[v.ApprovalSubject] = mapped_column(pg_enum(v.ApprovalSubject, "approval_subject"))
    support_plan_id: Mapped[uuid.UUID | None]
    status: Mapped[v.ApprovalStatus] = mapped_column(pg_enum(v.ApprovalStatus, "approval_status"))
    requested_by: Mapped[str]
    requested_at: Mapped[dt.datetime]
    decided_by: Mapped[str | None]
    decided_at: Mapped[dt.datetime | None]
    comment: Mapped[str | None]


class Meeting(TenantTable):
    """A case conference, multi-agency meeting, monitoring or yotaikyo practitioners' meeting."""

    __tablename__ = "meeting"
    tenant_refs = {"case_id": "carer_case"}
    extra_args = (
        CheckConstraint("next_review_on IS NULL OR next_review_on >= held_on", name="review_after_meeting"),
        Index(None, "municipality_code", "case_id"),
        CheckConstraint("char_length(idempotency_key) BETWEEN 1 AND 200", name="idempotency_key_length"),
        # A creation's idempotency key: one per tenant, so a retried creation finds its record.
        UniqueConstraint("municipality_code", "idempotency_key"),
    )

    case_id: Mapped[uuid.UUID | None]
    kind: Mapped[v.MeetingKind] = mapped_column(pg_enum(v.MeetingKind, "meeting_kind"))
    held_on: Mapped[dt.date]
    decisions: Mapped[str | None]
    next_review_on: Mapped[dt.date | None]
    idempotency_key: Mapped[str | None]


class MeetingParticipant(TenantTable):
    __tablename__ = "meeting_participant"
    tenant_refs = {"meeting_id": "meeting"}
    extra_args = (Index(None, "municipality_code", "meeting_id"),)

    meeting_id: Mapped[uuid.UUID]
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    participant_name: Mapped[str]


class ContactLog(TenantTable):
    """An interview, home visit, joint visit or phone call."""

    __tablename__ = "contact_log"
    tenant_refs = {"case_id": "carer_case"}
    extra_args = (
        Index(None, "municipality_code", "case_id", "contacted_at"),
        CheckConstraint("char_length(idempotency_key) BETWEEN 1 AND 200", name="idempotency_key_length"),
        # A creation's idempotency key: one per tenant, so a retried creation finds its record.
        UniqueConstraint("municipality_code", "idempotency_key"),
    )

    case_id: Mapped[uuid.UUID]
    kind: Mapped[v.ContactKind] = mapped_column(pg_enum(v.ContactKind, "contact_kind"))
    contacted_at: Mapped[dt.datetime]
    summary: Mapped[str]
    recorded_by: Mapped[str]
    idempotency_key: Mapped[str | None]


class Referral(TenantTable):
    """A referral (気づき・相談); the referrer sees its status, never the case."""

    __tablename__ = "referral"
    tenant_refs = {"person_id": "person", "case_id": "carer_case"}
    extra_args = (
        CheckConstraint("(status IN ('accepted', 'merged')) = (case_id IS NOT NULL)", name="case_iff_accepted"),
        CheckConstraint("(status = 'submitted') = (decided_at IS NULL)", name="decided_iff_not_submitted"),
        CheckConstraint("decided_at IS NULL OR decided_at >= received_at", name="decided_after_received"),
        # A declined referral says why: its sender reads the reason.
        CheckConstraint("status <> 'declined' OR char_length(btrim(decision_reason)) > 0", name="declined_with_reason"),
        CheckConstraint("char_length(idempotency_key) BETWEEN 1 AND 200", name="idempotency_key_length"),
        # A sender's idempotency key: one per sender, so a retried referral finds its first.
        UniqueConstraint("municipality_code", "referrer_subject", "idempotency_key"),
        Index("ix_referral_recent", "municipality_code", text("received_at DESC"), text("id DESC")),
        Index(None, "municipality_code", "referrer_organisation_id"),
    )

    source: Mapped[v.ReferralSource] = mapped_column(pg_enum(v.ReferralSource, "referral_source"))
    referrer_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    referrer_subject: Mapped[str | None]
    person_id: Mapped[uuid.UUID | None]
    child_display_name: Mapped[str | None]
    noticed: Mapped[str]
    urgency: Mapped[v.Urgency] = mapped_column(pg_enum(v.Urgency, "urgency"))
    status: Mapped[v.ReferralStatus] = mapped_column(pg_enum(v.ReferralStatus, "referral_status"))
    case_id: Mapped[uuid.UUID | None]
    received_at: Mapped[dt.datetime]
    decided_at: Mapped[dt.datetime | None]
    care_tasks: Mapped[list[v.CareTask]] = mapped_column(
        ARRAY(pg_enum(v.CareTask, "care_task")), server_default=text("'{}'")
    )
    """The care tasks the sender saw the child or carer do."""
    family_aware: Mapped[bool | None]
    """Whether the family knows of the referral (None: the sender does not know)."""
    decision_reason: Mapped[str | None]
    """Why it was declined or withdrawn, for its sender."""
    decided_by: Mapped[uuid.UUID | None]
    """The municipal user who accepted, declined, merged or withdrew it."""
    idempotency_key: Mapped[str | None]


class HelperDispatch(TenantTable):
    """子育て世帯ヘルパー派遣: 6 months from the start of the service, extendable
    (schema/cases/dispatch_rules.py); a status past a step holds that step's record."""

    __tablename__ = "helper_dispatch"
    tenant_refs = {"case_id": "carer_case"}
    extra_args = (
        CheckConstraint("survey_visit_on IS NULL OR survey_visit_on >= applied_on", name="survey_after_application"),
        CheckConstraint("decided_on IS NULL OR decided_on >= applied_on", name="decision_after_application"),
        CheckConstraint(
            "period_start IS NULL OR (period_end > period_start AND period_end <= period_start + INTERVAL '6 months')",
            name="period_at_most_six_months",
        ),
        CheckConstraint("extended_until IS NULL OR extended_until > period_end", name="extension_after_period"),
        CheckConstraint("status IN ('applied', 'ended') OR survey_visit_on IS NOT NULL", name="surveyed_with_date"),
        CheckConstraint("status IN ('applied', 'surveyed', 'ended') OR plan IS NOT NULL", name="planned_with_plan"),
        CheckConstraint(
            "status IN ('applied', 'surveyed', 'planned', 'ended')"
            " OR (decided_on IS NOT NULL AND period_start IS NOT NULL AND period_end IS NOT NULL)",
            name="decided_with_period",
        ),
        CheckConstraint("decided_on IS NULL OR decided_on >= survey_visit_on", name="decision_after_survey"),
        CheckConstraint("period_start IS NULL OR period_start >= decided_on", name="period_from_decision"),
        CheckConstraint("char_length(idempotency_key) BETWEEN 1 AND 200", name="idempotency_key_length"),
        Index(None, "municipality_code", "case_id"),
        # At most one dispatch of a case that has not ended (Case.openDispatch).
        Index(
            "uq_helper_dispatch_open_per_case",
            "municipality_code",
            "case_id",
            unique=True,
            postgresql_where=text("status <> 'ended'"),
        ),
        UniqueConstraint("municipality_code", "idempotency_key"),
    )

    case_id: Mapped[uuid.UUID]
    provider_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    status: Mapped[v.DispatchStatus] = mapped_column(pg_enum(v.DispatchStatus, "dispatch_status"))
    applied_on: Mapped[dt.date]
    survey_visit_on: Mapped[dt.date | None]
    plan: Mapped[str | None]
    decided_on: Mapped[dt.date | None]
    period_start: Mapped[dt.date | None]
    period_end: Mapped[dt.date | None]
    extended_until: Mapped[dt.date | None]
    idempotency_key: Mapped[str | None]


class HelperVisit(TenantTable):
    """One helper visit: at most 2 hours, at most one a week per dispatch."""

    __tablename__ = "helper_visit"
    tenant_refs = {"dispatch_id": "helper_dispatch"}
    extra_args = (
        CheckConstraint("minutes BETWEEN 1 AND 120", name="at_most_two_hours"),
        Index(
            "uq_helper_visit_one_per_week",
            "municipality_code",
            "dispatch_id",
            text("date_trunc('week', visited_on::timestamp)"),
            unique=True,
        ),
        # What seed 002's service provides: 家事・育児支援.
        CheckConstraint(
            "tasks <@ '{housework,sibling_care,watching_over}'::kizuna.care_task[]", name="tasks_of_the_service"
        ),
        CheckConstraint("char_length(idempotency_key) BETWEEN 1 AND 200", name="idempotency_key_length"),
        UniqueConstraint("municipality_code", "idempotency_key"),
    )

    dispatch_id: Mapped[uuid.UUID]
    visited_on: Mapped[dt.date]
    minutes: Mapped[int] = mapped_column(SmallInteger)
    tasks: Mapped[list[v.CareTask]] = mapped_column(
        ARRAY(pg_enum(v.CareTask, "care_task")), server_default=text("'{}'")
    )
    """What the helper did (empty only for visits recorded before migration 0019)."""
    activities: Mapped[str | None]
    """What was done, in words."""
    observations: Mapped[str | None]
    """What the helper noticed: changes in the household, what the family asked about."""
    idempotency_key: Mapped[str | None]


class Consent(TenantTable):
    """Consent to share a person's data: with whom, for what, until when; history is kept."""

    __tablename__ = "consent"
    tenant_refs = {"person_id": "person", "case_id": "carer_case"}
    extra_args = (
        CheckConstraint("withdrawn_at IS NULL OR withdrawn_at >= given_at", name="withdrawn_after_given"),
        CheckConstraint("given_by = 'self' OR guardian_name IS NOT NULL", name="guardian_named"),
        Index(None, "municipality_code", "person_id"),
        # A recording's idempotency key: one per tenant, so a retried recording finds its consent (0022).
        UniqueConstraint("municipality_code", "idempotency_key"),
        CheckConstraint("char_length(idempotency_key) BETWEEN 1 AND 200", name="idempotency_key_length"),
        Index(None, "municipality_code", "case_id"),
    )

    person_id: Mapped[uuid.UUID]
    case_id: Mapped[uuid.UUID | None]
    given_by: Mapped[v.ConsentGiver] = mapped_column(pg_enum(v.ConsentGiver, "consent_giver"))
    guardian_name: Mapped[str | None]
    purpose: Mapped[str]
    shared_organisation_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), server_default=text("'{}'")
    )
    shared_organisation_kinds: Mapped[list[v.OrganisationKind]] = mapped_column(
        ARRAY(pg_enum(v.OrganisationKind, "organisation_kind")), server_default=text("'{}'")
    )
    given_at: Mapped[dt.datetime]
    withdrawn_at: Mapped[dt.datetime | None]
    expires_on: Mapped[dt.date | None]
    withdrawal_reason: Mapped[str | None]
    idempotency_key: Mapped[str | None]


class EmergencyAccess(TenantTable):
    """Break the glass: a written reason, a time limit, shown to the supervisor."""

    __tablename__ = "emergency_access"
    tenant_refs = {"case_id": "carer_case"}
    extra_args = (
        CheckConstraint("char_length(reason) >= 10", name="reason_written"),
        CheckConstraint(
            "expires_at > granted_at AND expires_at <= granted_at + INTERVAL '24 hours'",
            name="time_limited",
        ),
        # A worker's own keys: an agency reads only its own accesses.
        UniqueConstraint("municipality_code", "subject", "idempotency_key"),
        CheckConstraint("char_length(idempotency_key) BETWEEN 1 AND 200", name="idempotency_key_length"),
    )

    case_id: Mapped[uuid.UUID]
    subject: Mapped[str]
    reason: Mapped[str]
    granted_at: Mapped[dt.datetime] = created_at()
    expires_at: Mapped[dt.datetime]
    idempotency_key: Mapped[str | None]


class CaseShare(TenantTable):
    """What lets an organisation taking part in a case read its shared view (meeting
    decisions, plan goals): a consent, the yotaikyo registration or a supervisor's
    override. Written by the services whenever one of those changes; read at the start of
    an agency's request into `kizuna.shared_cases` (0021, docs/security-model.md)."""

    __tablename__ = "case_share"
    tenant_refs = {"case_id": "carer_case", "consent_id": "consent"}
    extra_args = (
        CheckConstraint("(basis = 'consent') = (consent_id IS NOT NULL)", name="consent_iff_consent_basis"),
        CheckConstraint("basis <> 'override' OR char_length(btrim(reason)) > 0", name="override_with_reason"),
        CheckConstraint("revoked_at IS NULL OR revoked_at >= created_at", name="revoked_after_created"),
        Index(None, "municipality_code", "organisation_id"),
        Index(None, "municipality_code", "case_id"),
        UniqueConstraint("municipality_code", "idempotency_key"),
        CheckConstraint("char_length(idempotency_key) BETWEEN 1 AND 200", name="idempotency_key_length"),
    )

    case_id: Mapped[uuid.UUID]
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    basis: Mapped[v.ShareBasis] = mapped_column(pg_enum(v.ShareBasis, "share_basis"))
    consent_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None]
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    created_by: Mapped[str]
    created_at: Mapped[dt.datetime] = created_at()
    idempotency_key: Mapped[str | None]
    """A supervisor's override only: the shares the services write are kept once each."""


# Submissions (0024): a municipality's figures of a fiscal year are submitted by its
# supervisor and accepted or returned (with a comment) by its prefecture's analyst.
def submission_checks() -> tuple[CheckConstraint, ...]:
    """The CHECKs of a submission's state, for each table that holds one."""
    return (
        CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name="fiscal_year_range"),
        CheckConstraint("(submission = 'draft') = (submitted_at IS NULL)", name="submitted_iff_not_draft"),
        CheckConstraint(
            "(submission IN ('accepted', 'returned')) = (decided_at IS NOT NULL)", name="decided_iff_decided"
        ),
        CheckConstraint("decided_at IS NULL OR decided_at >= submitted_at", name="decided_after_submitted"),
        CheckConstraint("submission <> 'returned' OR return_comment IS NOT NULL", name="returned_with_comment"),
        CheckConstraint("char_length(btrim(return_comment)) BETWEEN 1 AND 1000", name="return_comment_length"),
        # A prefecture's own tenant (NN000C) submits nothing: it enters its own programmes.
        CheckConstraint("municipality_code !~ '^[0-9]{2}000[0-9]$'", name="of_a_municipality"),
    )


class MunicipalityStatus(TenantTable):
    """体制整備 by fiscal year; counts in the prefecture's totals once accepted."""

    __tablename__ = "municipality_status"
    extra_args = (
        UniqueConstraint("municipality_code", "fiscal_year"),
        CheckConstraint(
            "carer_salons >= 0 AND childrens_places >= 0 AND young_carer_coordinators >= 0",
            name="counts_not_negative",
        ),
        *submission_checks(),
    )

    fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    one_stop_window: Mapped[bool]
    complex_case_team: Mapped[bool]
    jusoteki: Mapped[v.JusotekiStatus] = mapped_column(pg_enum(v.JusotekiStatus, "jusoteki_status"))
    carer_salons: Mapped[int]
    childrens_places: Mapped[int]
    young_carer_coordinators: Mapped[int]
    kodomo_katei_center: Mapped[bool]
    advisor_dispatch: Mapped[bool]
    submission: Mapped[v.SubmissionStatus] = mapped_column(pg_enum(v.SubmissionStatus, "submission_status"))
    submitted_at: Mapped[dt.datetime | None]
    decided_at: Mapped[dt.datetime | None]
    submitted_by: Mapped[uuid.UUID | None]
    decided_by: Mapped[uuid.UUID | None]
    return_comment: Mapped[str | None]
    """The prefecture's reason for returning it: kept until its next decision."""


class ProgrammeSubmission(TenantTable):
    """The submission of a municipality's programme figures (`programme_activity`) of a
    fiscal year; no row yet is a draft. They count in the prefecture's totals once accepted."""

    __tablename__ = "programme_submission"
    extra_args = (UniqueConstraint("municipality_code", "fiscal_year"), *submission_checks())

    fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    submission: Mapped[v.SubmissionStatus] = mapped_column(pg_enum(v.SubmissionStatus, "submission_status"))
    submitted_at: Mapped[dt.datetime | None]
    decided_at: Mapped[dt.datetime | None]
    submitted_by: Mapped[uuid.UUID | None]
    decided_by: Mapped[uuid.UUID | None]
    return_comment: Mapped[str | None]
    created_at: Mapped[dt.datetime] = created_at()


class ProgrammeActivity(TenantTable):
    """A programme's figures by fiscal year (trainings, seminars, salons, surveys …)."""

    __tablename__ = "programme_activity"
    extra_args = (
        CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name="fiscal_year_range"),
        CheckConstraint("participants IS NULL OR participants >= 0", name="participants_not_negative"),
        CheckConstraint("percent IS NULL OR percent BETWEEN 0 AND 100", name="percent_range"),
        CheckConstraint("companies IS NULL OR companies >= 0", name="companies_not_negative"),
        CheckConstraint("char_length(idempotency_key) BETWEEN 1 AND 200", name="idempotency_key_length"),
        Index(None, "municipality_code", "fiscal_year"),
        UniqueConstraint("municipality_code", "idempotency_key"),
    )

    fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[v.ProgrammeKind] = mapped_column(pg_enum(v.ProgrammeKind, "programme_kind"))
    title: Mapped[str]
    held_on: Mapped[dt.date | None]
    participants: Mapped[int | None]
    companies: Mapped[int | None]
    age_group: Mapped[str | None]
    percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    idempotency_key: Mapped[str | None]


class AuditEvent(TenantTable):
    """Who read or changed what: append-only, hash-chained per tenant by `seq`.

    Requests write events unsealed (no `seq`, `prev_hash`, `hash`); the sealer
    (platform/audit.py) links them into the chain afterwards, all three at once.
    """

    __tablename__ = "audit_event"
    extra_args = (
        UniqueConstraint("municipality_code", "seq"),
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint("(seq IS NULL) = (prev_hash IS NULL) AND (seq IS NULL) = (hash IS NULL)", name="sealed_whole"),
        CheckConstraint("entity_id IS NULL OR entity_ids IS NULL", name="objects_named_one_way"),
        # The sealer's work list, and the supervisor's page (newest first).
        Index(
            "ix_audit_event_unsealed", "municipality_code", "occurred_at", "id", postgresql_where=text("seq IS NULL")
        ),
        Index("ix_audit_event_recent", "municipality_code", text("occurred_at DESC"), text("id DESC")),
        # Who changed this child's record: the supervisor's page of one object (0017); who read
        # it is found by a scan, which row security leaves no index to help (0037).
        Index("ix_audit_event_object", "municipality_code", "entity_id", text("occurred_at DESC"), text("id DESC")),
        # What this user did: the supervisor's page of one actor's events (0035).
        Index("ix_audit_event_actor", "municipality_code", "subject", text("occurred_at DESC"), text("id DESC")),
        # Every event of a kind (an entity, an entity's action, or an action by skipping the
        # entities): the rare changes among the reads (0036).
        Index(
            "ix_audit_event_kind", "municipality_code", "entity", "action", text("occurred_at DESC"), text("id DESC")
        ),
    )

    seq: Mapped[int | None] = mapped_column(BigInteger)
    occurred_at: Mapped[dt.datetime]
    subject: Mapped[str]
    role: Mapped[v.AppRole] = mapped_column(pg_enum(v.AppRole, "app_role"))
    action: Mapped[str]
    entity: Mapped[str]
    entity_id: Mapped[uuid.UUID | None]
    """The one object a change event is about."""
    entity_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID))
    """The objects a read event names: every one of its kind the request read, once."""
    fields: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    request_id: Mapped[str]
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    hash: Mapped[bytes | None] = mapped_column(LargeBinary)


class AuditSeal(TenantTable):
    """A sealed head of a tenant's audit chain: after each round the sealer appends the
    `seq` and `hash` it reached. Only the sealer writes here, so deleting the newest events
    (or all of them) leaves a head the chain no longer reaches."""

    __tablename__ = "audit_seal"
    extra_args = (
        UniqueConstraint("municipality_code", "seq"),
        CheckConstraint("seq >= 1", name="seq_positive"),
    )

    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_at: Mapped[dt.datetime] = created_at()


_tenant_names = {model.__tablename__ for model in TenantTable.__subclasses__()}
# In dependency order, so seeds insert and tests walk them parents first.
TENANT_TABLES: tuple[str, ...] = tuple(t.name for t in Base.metadata.sorted_tables if t.name in _tenant_names)
GLOBAL_TABLES: tuple[str, ...] = tuple(t.name for t in Base.metadata.sorted_tables if t.name not in _tenant_names)
