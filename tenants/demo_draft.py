"""One tenant's rows as they are drawn: the tenant's plan (organisations and demo staff),
the stories of its cases, and the tools every part of the seeder draws with."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from faker import Faker

from kizuna.platform.ids import uuid7
from kizuna.platform.provisioning import OrganisationRow
from kizuna.platform.vocabulary import CaredForCondition, CarerCategory, CaseEventKind, CaseStage, OrganisationKind
from kizuna.tenants.demo_calendar import AS_OF, JST

Row = tuple[Any, ...]
# Columns of each table after municipality_code, in the order rows are built;
# "column:type" casts the parameter to kizuna.type.
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "household": ("id", "name", "district", "created_at"),
    "person": (
        "id", "household_id", "family_name", "given_name", "family_name_kana", "given_name_kana",
        "birth_date", "school_organisation_id", "school_grade", "created_at", "name_key", "kana_key",
    ),
    "care_relationship": (
        "id", "carer_person_id", "cared_for_person_id", "relationship",
        "conditions:cared_for_condition[]", "tasks:care_task[]", "hours_per_week",
    ),
    "carer_case": (
        "id", "person_id", "household_id", "category:carer_category", "stage:case_stage", "lead_organisation_id",
        "assigned_worker", "coordinator", "yotaikyo_registered", "risk_level:risk_level", "opened_at", "closed_at",
        "assigned_worker_name", "coordinator_name",
    ),
    "case_event": (
        "id", "case_id", "kind:case_event_kind", "from_stage:case_stage", "to_stage:case_stage",
        "actor", "reason", "occurred_at", "actor_name",
    ),
    "case_participant": ("id", "case_id", "organisation_id", "role", "added_at"),
    "assessment": (
        "id", "case_id", "assessed_on", "assessor", "care_hours_per_week", "school_attendance_effect",
        "study_effect", "health_effect", "sleep_effect", "friendship_effect", "future_plans_effect",
        "own_wishes", "notes",
    ),
    "support_plan": ("id", "case_id", "version", "goals", "period_start", "period_end", "created_by", "created_at"),
    "approval": (
        "id", "case_id", "subject:approval_subject", "support_plan_id", "status:approval_status",
        "requested_by", "requested_at", "decided_by", "decided_at", "comment",
    ),
    "meeting": ("id", "case_id", "kind:meeting_kind", "held_on", "decisions", "next_review_on"),
    "meeting_participant": ("id", "meeting_id", "organisation_id", "participant_name"),
    "contact_log": ("id", "case_id", "kind:contact_kind", "contacted_at", "summary", "recorded_by"),
    "referral": (
        "id", "source:referral_source", "referrer_organisation_id", "referrer_subject", "person_id",
        "child_display_name", "noticed", "urgency:urgency", "status:referral_status", "case_id",
        "received_at", "decided_at", "care_tasks:care_task[]", "family_aware", "decision_reason", "decided_by",
    ),
    "helper_dispatch": (
        "id", "case_id", "provider_organisation_id", "status:dispatch_status", "applied_on", "survey_visit_on",
        "plan", "decided_on", "period_start", "period_end", "extended_until",
    ),
    "helper_visit": ("id", "dispatch_id", "visited_on", "minutes", "tasks:care_task[]", "activities", "observations"),
    "consent": (
        "id", "person_id", "case_id", "given_by:consent_giver", "guardian_name", "purpose",
        "shared_organisation_ids", "shared_organisation_kinds:organisation_kind[]",
        "given_at", "withdrawn_at", "expires_on",
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class StaffMember:
    subject: str
    display_name: str
    organisation_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class TenantPlan:
    """What the generator needs to know about one municipality."""

    code: str
    districts: tuple[str, ...]
    organisations: tuple[OrganisationRow, ...]
    caseworker: StaffMember
    supervisor: StaffMember
    coordinator: StaffMember
    school_staff: StaffMember
    school_social_worker: StaffMember
    welfare_worker: StaffMember
    prefecture_department: uuid.UUID

    def of(self, kind: OrganisationKind) -> tuple[OrganisationRow, ...]:
        return tuple(o for o in self.organisations if o.kind is kind)

    def name_of(self, user: str) -> str:
        """The display name of the staff member whose user id is `user`."""
        staff = (self.caseworker, self.supervisor, self.coordinator, self.school_staff)
        return next(
            s.display_name for s in (*staff, self.school_social_worker, self.welfare_worker) if s.subject == user
        )


@dataclass(slots=True)
class Member:
    person_id: uuid.UUID
    family: str
    given: str
    birth: dt.date
    relation: str
    conditions: tuple[CaredForCondition, ...] = ()


@dataclass(slots=True)
class Step:
    stage: CaseStage
    at: dt.datetime
    kind: CaseEventKind
    previous: CaseStage | None


@dataclass(slots=True)
class Story:
    case_id: uuid.UUID
    category: CarerCategory
    steps: list[Step]
    household_id: uuid.UUID
    members: list[Member]
    school: OrganisationRow | None
    hours: Decimal
    yotaikyo: bool = False
    participants: list[OrganisationRow] = field(default_factory=list)
    plans: int = 0

    @property
    def carer(self) -> Member:
        return self.members[0]

    @property
    def stage(self) -> CaseStage:
        return self.steps[-1].stage

    @property
    def opened_at(self) -> dt.datetime:
        return self.steps[0].at

    @property
    def closed_on(self) -> dt.date | None:
        return self.steps[-1].at.date() if self.stage is CaseStage.CLOSED else None

    def end_of(self, index: int) -> dt.datetime:
        """When the case left step `index` (AS_OF while it is still there)."""
        return self.steps[index + 1].at if index + 1 < len(self.steps) else AS_OF


class Draft:
    """One tenant's rows being built; every draw comes from one seeded `random.Random`
    (and the Faker instance seeded alongside it), in a fixed order: the same calls in the
    same order give the same rows."""

    def __init__(self, plan: TenantPlan, rng: random.Random, faker: Faker) -> None:
        self.plan = plan
        self.rng = rng
        self.faker = faker
        self.rows: dict[str, list[Row]] = {table: [] for table in COLUMNS}
        self.stories: list[Story] = []
        self.department = next(o for o in plan.organisations if o.id == plan.caseworker.organisation_id)

    # --- small tools -------------------------------------------------------------------

    def new_id(self, at: dt.datetime | dt.date) -> uuid.UUID:
        moment = at if isinstance(at, dt.datetime) else dt.datetime.combine(at, dt.time(9), JST)
        return uuid7(int(moment.timestamp() * 1000), self.rng)

    def office_time(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(9), JST) + dt.timedelta(minutes=self.rng.randint(0, 510))

    def between(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        seconds = max(0, int((end - start).total_seconds()))
        return start + dt.timedelta(seconds=self.rng.randint(0, seconds))

    def moments(self, start: dt.datetime, end: dt.datetime, count: int) -> list[dt.datetime]:
        return sorted(self.between(start, end) for _ in range(count))

    def pick(self, options: Sequence[Any]) -> Any:
        return options[self.rng.randrange(len(options))]

    def add(self, table: str, *values: Any) -> None:
        self.rows[table].append(values)

    def opaque_subject(self, issuer: str) -> str:
        return f"{issuer}:{self.rng.getrandbits(48):012x}"

    def full_name(self) -> str:
        return f"{self.faker.last_name()} {self.faker.first_name()}"
