"""The people and casework of one demo tenant: pure, deterministic row generation.

`generate_casework` turns a tenant's organisations and staff, a case count and a seed
into rows for every case-related tenant table (households, persons, care relationships,
cases with their append-only history, participants, assessments, versioned support plans,
approvals, meetings, contact logs, referrals, helper dispatches with visits, consents).
Nothing here touches a database: the same inputs give the same rows, ids included.

Every case follows the flow of seed 002 (相談受理 → 情報共有 → 情報収集 → ケース検討会議 →
(関係機関を含めた会議) → 支援 ⇄ 進行管理 → 終結), stopped at its current stage, and its
records are dated inside the stage they belong to, between FY2022 and `AS_OF`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from faker import Faker

from kizuna.platform.ids import uuid7
from kizuna.platform.provisioning import OrganisationRow
from kizuna.platform.vocabulary import (
    ApprovalStatus,
    ApprovalSubject,
    CaredForCondition,
    CarerCategory,
    CareTask,
    CaseEventKind,
    CaseStage,
    ConsentGiver,
    ContactKind,
    DispatchStatus,
    MeetingKind,
    OrganisationKind,
    ReferralSource,
    ReferralStatus,
    RiskLevel,
    Urgency,
)

Row = tuple[Any, ...]
JST: Final = dt.timezone(dt.timedelta(hours=9), "JST")
AS_OF: Final = dt.datetime(2026, 1, 31, tzinfo=JST)
"""The demo's "now" (end of 30 January 2026, FY2025 = 令和7年度): fixed, so seeds repeat."""
AS_OF_DATE: Final = dt.date(2026, 1, 30)
EARLIEST: Final = dt.date(2022, 4, 1)
"""Cases open from FY2022 (令和4年度) on."""
SPAN_DAYS: Final = (AS_OF_DATE - EARLIEST).days

# Columns of each table after municipality_code, in the order rows are built;
# "column:type" casts the parameter to kizuna.type.
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "household": ("id", "name", "district", "created_at"),
    "person": (
        "id", "household_id", "family_name", "given_name", "family_name_kana", "given_name_kana",
        "birth_date", "school_organisation_id", "school_grade", "created_at",
    ),
    "care_relationship": (
        "id", "carer_person_id", "cared_for_person_id", "relationship",
        "conditions:cared_for_condition[]", "tasks:care_task[]", "hours_per_week",
    ),
    "carer_case": (
        "id", "person_id", "household_id", "category:carer_category", "stage:case_stage", "lead_organisation_id",
        "assigned_worker", "coordinator", "yotaikyo_registered", "risk_level:risk_level", "opened_at", "closed_at",
    ),
    "case_event": (
        "id", "case_id", "kind:case_event_kind", "from_stage:case_stage", "to_stage:case_stage",
        "actor", "reason", "occurred_at",
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
        "received_at", "decided_at",
    ),
    "helper_dispatch": (
        "id", "case_id", "provider_organisation_id", "status:dispatch_status", "applied_on", "survey_visit_on",
        "plan", "decided_on", "period_start", "period_end", "extended_until",
    ),
    "helper_visit": ("id", "dispatch_id", "visited_on", "minutes", "activities", "observations"),
    "consent": (
        "id", "person_id", "case_id", "given_by:consent_giver", "guardian_name", "purpose",
        "shared_organisation_ids", "shared_organisation_kinds:organisation_kind[]",
        "given_at", "withdrawn_at", "expires_on",
    ),
}  # fmt: skip

S, C, K = CaseStage, CaredForCondition, CareTask
ORDER: Final = (S.INTAKE, S.SHARING, S.GATHERING, S.CONFERENCE)
GAP_DAYS: Final = {
    S.SHARING: (1, 5),
    S.GATHERING: (2, 10),
    S.CONFERENCE: (7, 30),
    S.MULTI_AGENCY_MEETING: (5, 21),
    S.SUPPORT: (6, 21),
    S.MONITORING: (45, 120),
    S.CLOSED: (14, 60),
}
DWELL_DAYS: Final = {  # how long a case may have sat in its current stage
    S.INTAKE: 6,
    S.SHARING: 10,
    S.GATHERING: 21,
    S.CONFERENCE: 14,
    S.MULTI_AGENCY_MEETING: 14,
    S.SUPPORT: 150,
    S.MONITORING: 40,
    S.CLOSED: 1000,
}
STAGE_WEIGHTS: Final = {
    S.INTAKE: 5,
    S.SHARING: 5,
    S.GATHERING: 8,
    S.CONFERENCE: 6,
    S.MULTI_AGENCY_MEETING: 4,
    S.SUPPORT: 28,
    S.MONITORING: 14,
    S.CLOSED: 30,
}
CATEGORY_WEIGHTS: Final = {
    CarerCategory.YOUNG_CARER: 50,
    CarerCategory.YOUNG_ADULT_CARER: 18,
    CarerCategory.BUSINESS_CARER: 14,
    CarerCategory.FAMILY_CARER: 18,
}
STAGE_REASONS: Final = {
    S.SHARING: "関係機関との情報共有を開始",
    S.GATHERING: "家庭状況の情報収集・アセスメントを開始",
    S.CONFERENCE: "ケース検討会議で支援方針を検討",
    S.MULTI_AGENCY_MEETING: "関係機関を含めた会議で役割分担を確認",
    S.SUPPORT: "支援計画に基づく支援を開始",
    S.MONITORING: "進行管理会議でモニタリングを実施",
    S.CLOSED: "ケアの負担が軽減し、本人・家族の同意を得て終結",
}
TASKS_FOR: Final = {
    C.ELDERLY: (K.WATCHING_OVER, K.PERSONAL_CARE, K.HOUSEWORK, K.HOSPITAL_ACCOMPANIMENT),
    C.PHYSICAL_DISABILITY: (K.PERSONAL_CARE, K.HOUSEWORK, K.HOSPITAL_ACCOMPANIMENT),
    C.INTELLECTUAL_DISABILITY: (K.WATCHING_OVER, K.EMOTIONAL_SUPPORT, K.PERSONAL_CARE),
    C.MENTAL_ILLNESS: (K.EMOTIONAL_SUPPORT, K.HOUSEWORK, K.WATCHING_OVER, K.MONEY_MANAGEMENT),
    C.ILLNESS: (K.HOUSEWORK, K.HOSPITAL_ACCOMPANIMENT, K.PERSONAL_CARE),
    C.DEPENDENCE: (K.EMOTIONAL_SUPPORT, K.MONEY_MANAGEMENT, K.WATCHING_OVER),
    C.LIMITED_JAPANESE: (K.INTERPRETING, K.MONEY_MANAGEMENT, K.HOSPITAL_ACCOMPANIMENT),
    C.YOUNG_SIBLINGS: (K.SIBLING_CARE, K.HOUSEWORK),
}
HOURS: Final = {
    CarerCategory.YOUNG_CARER: (2, 30),
    CarerCategory.YOUNG_ADULT_CARER: (5, 40),
    CarerCategory.BUSINESS_CARER: (4, 25),
    CarerCategory.FAMILY_CARER: (8, 60),
}
GRADE_WEIGHTS: Final = {1: 1, 2: 1, 3: 2, 4: 3, 5: 4, 6: 5, 7: 8, 8: 9, 9: 8, 10: 6, 11: 6, 12: 4}
WISHES: Final = {
    CarerCategory.YOUNG_CARER: (
        "部活動を続けたい",
        "高校に進学したい",
        "友達と遊ぶ時間がほしい",
        "家のことを誰かに手伝ってほしい",
        "勉強する時間がほしい",
        "母の病気のことを知りたい",
        "今の生活は変えたくないが、少し休みたい",
    ),
    CarerCategory.YOUNG_ADULT_CARER: (
        "就職活動に専念したい",
        "大学を続けたい",
        "自分の将来を考える時間がほしい",
        "同じ立場の人と話したい",
    ),
    CarerCategory.BUSINESS_CARER: (
        "仕事を辞めずに介護を続けたい",
        "介護休業制度について知りたい",
        "デイサービスを増やしたい",
        "夜間の見守りを手伝ってほしい",
    ),
    CarerCategory.FAMILY_CARER: (
        "できるだけ自宅で介護を続けたい",
        "自分の通院の時間を確保したい",
        "介護者サロンに参加してみたい",
        "ショートステイを利用したい",
    ),
}
GOALS: Final = {
    CarerCategory.YOUNG_CARER: (
        "子育て世帯ヘルパー派遣により家事の負担を軽減し、登校と学習の時間を確保する。",
        "学校（担任・SSW）と月1回情報を共有し、本人が相談できる大人を増やす。",
        "保護者の通院・服薬を医療機関と調整し、本人が担う見守りを減らす。",
        "こどもの居場所につなぎ、本人が安心して過ごせる時間をつくる。",
    ),
    CarerCategory.YOUNG_ADULT_CARER: (
        "障害福祉サービスの利用を調整し、本人の就職活動の時間を確保する。",
        "若者ケアラーのオンラインサロンにつなぎ、孤立を防ぐ。",
    ),
    CarerCategory.BUSINESS_CARER: (
        "介護保険サービスを見直し、仕事と介護を両立できる体制を整える。",
        "勤務先の介護休業・介護休暇制度の利用を支援する。",
    ),
    CarerCategory.FAMILY_CARER: (
        "ショートステイの定期利用で介護者の休息を確保する。",
        "介護者サロンへの参加を支援し、介護者の孤立を防ぐ。",
    ),
}
NOTICED: Final = {
    ReferralSource.SCHOOL: (
        "遅刻や欠席が増えている。弟の保育園の送迎をしていると話していた。",
        "授業中に居眠りが多い。夜遅くまで家事をしている様子。",
        "提出物が出ない。母の具合が悪いと話している。",
        "修学旅行の費用の相談があり、家庭の状況が心配。",
    ),
    ReferralSource.WELFARE_AGENCY: (
        "訪問時、子どもが祖母の介護をしている様子が見られた。",
        "利用者の家族が介護のため離職を考えている。",
        "障害のある兄弟の世話を主に担っている家族がいる。",
    ),
    ReferralSource.MEDICAL: (
        "通院の付き添いをいつも子どもがしている。",
        "退院後の在宅介護を家族だけで担う予定と聞いた。",
    ),
    ReferralSource.SELF: ("家族の介護がつらく、相談したい。", "仕事と介護の両立が難しくなってきた。"),
    ReferralSource.FAMILY: ("子どもに負担をかけているので相談したい。", "親の介護のことで家族が疲れている。"),
    ReferralSource.LINE_CONSULTATION: (
        "LINE相談で、母の代わりに家事をしていてつらいと相談があった。",
        "LINE相談で、家族の世話で進路を考えられないと相談があった。",
    ),
    ReferralSource.OTHER: (
        "民生委員から、子どもが家事を担っている家庭があると情報提供。",
        "主任児童委員から、夜遅くに買い物をしている子どもがいると連絡。",
    ),
}
SOURCE_WEIGHTS: Final = {
    CarerCategory.YOUNG_CARER: (45, 10, 5, 5, 10, 15, 10),
    CarerCategory.YOUNG_ADULT_CARER: (5, 20, 10, 25, 10, 25, 5),
    CarerCategory.BUSINESS_CARER: (0, 25, 5, 35, 20, 0, 15),
    CarerCategory.FAMILY_CARER: (0, 45, 20, 10, 20, 0, 5),
}
CONTACT_SUMMARIES: Final = {
    ContactKind.INTERVIEW: (
        "来所にて面談。家庭の状況とケアの内容を聞き取った。",
        "本人と面談。学校生活の様子を確認した。",
    ),
    ContactKind.HOME_VISIT: (
        "家庭訪問。家事の負担が本人に集中している。",
        "家庭訪問。保護者の体調は安定している。",
    ),
    ContactKind.JOINT_VISIT: (
        "関係機関と同行訪問。サービス利用について保護者と話し合った。",
        "コーディネーターと同行訪問し、本人の意向を確認した。",
    ),
    ContactKind.PHONE: ("電話にて近況を確認。特に変わりなし。", "保護者から電話。通院の予定について相談あり。"),
}
VISIT_TASKS: Final = ("調理・配膳", "掃除・洗濯", "買い物", "きょうだいの見守り", "保育園への送迎", "入浴の介助")
VISIT_NOTES: Final = (
    "本人は部活動に参加できている。",
    "母の表情が明るくなってきた。",
    "台所が片付いてきた。",
    "弟が落ち着いて過ごしている。",
    None,
)


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
        return self.steps[-1].at.date() if self.stage is S.CLOSED else None

    def end_of(self, index: int) -> dt.datetime:
        """When the case left step `index` (AS_OF while it is still there)."""
        return self.steps[index + 1].at if index + 1 < len(self.steps) else AS_OF


Spec = tuple[str, bool, dt.date, tuple[CaredForCondition, ...]]
"""A household member to create: relation to the carer, female, birth date, conditions if cared for."""


# --- calendar helpers ------------------------------------------------------------------


def fiscal_year(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def school_grade(birth: dt.date, on: dt.date) -> int:
    """1-12 for 小1 … 高3 (a school year takes the births of 2 April to 1 April); else not at school."""
    birth_fy = birth.year if (birth.month, birth.day) >= (4, 2) else birth.year - 1
    return fiscal_year(on) - birth_fy - 6


def age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def years_before(day: dt.date, years: int) -> dt.date:
    return dt.date(day.year - years, day.month, min(day.day, 28))


def add_months(day: dt.date, months: int) -> dt.date:
    """Month arithmetic as PostgreSQL's `date + interval 'n months'` does it (clamped)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def grade_label(grade: int) -> str:
    if grade <= 6:
        return f"小学{grade}年"
    return f"中学{grade - 6}年" if grade <= 9 else f"高校{grade - 9}年"


def school_kind(grade: int) -> OrganisationKind:
    if grade <= 6:
        return OrganisationKind.ELEMENTARY_SCHOOL
    return OrganisationKind.JUNIOR_HIGH_SCHOOL if grade <= 9 else OrganisationKind.HIGH_SCHOOL


TITLES: Final = {
    OrganisationKind.ELEMENTARY_SCHOOL: ("担任", "養護教諭", "教頭"),
    OrganisationKind.JUNIOR_HIGH_SCHOOL: ("担任", "養護教諭", "生徒指導主事"),
    OrganisationKind.HIGH_SCHOOL: ("担任", "養護教諭"),
    OrganisationKind.COMMUNITY_GENERAL_SUPPORT_CENTER: ("主任介護支援専門員", "社会福祉士"),
    OrganisationKind.SOCIAL_WELFARE_COUNCIL: ("コミュニティソーシャルワーカー",),
    OrganisationKind.DISABILITY_CONSULTATION: ("相談支援専門員",),
    OrganisationKind.HEALTH_WELFARE_CENTER: ("保健師", "家庭児童相談員"),
    OrganisationKind.CARE_MANAGEMENT_OFFICE: ("介護支援専門員",),
    OrganisationKind.HOME_HELP_PROVIDER: ("サービス提供責任者",),
    OrganisationKind.MEDICAL_INSTITUTION: ("医療ソーシャルワーカー",),
    OrganisationKind.NPO: ("居場所スタッフ",),
    OrganisationKind.MUNICIPAL_DEPARTMENT: ("スクールソーシャルワーカー",),
}
PARTICIPANT_ROLES: Final = {
    OrganisationKind.ELEMENTARY_SCHOOL: "在籍校",
    OrganisationKind.JUNIOR_HIGH_SCHOOL: "在籍校",
    OrganisationKind.HIGH_SCHOOL: "在籍校",
    OrganisationKind.COMMUNITY_GENERAL_SUPPORT_CENTER: "高齢者の相談支援",
    OrganisationKind.SOCIAL_WELFARE_COUNCIL: "地域の見守り・サロン",
    OrganisationKind.DISABILITY_CONSULTATION: "障害福祉サービスの調整",
    OrganisationKind.HEALTH_WELFARE_CENTER: "地区担当保健師",
    OrganisationKind.CARE_MANAGEMENT_OFFICE: "ケアプランの調整",
    OrganisationKind.HOME_HELP_PROVIDER: "ヘルパー派遣",
    OrganisationKind.MEDICAL_INSTITUTION: "医療との連携",
    OrganisationKind.NPO: "こどもの居場所",
    OrganisationKind.MUNICIPAL_DEPARTMENT: "ヤングケアラー・コーディネーター",
}
LEAD_KINDS: Final = {
    CarerCategory.YOUNG_CARER: (OrganisationKind.MUNICIPAL_DEPARTMENT, OrganisationKind.HEALTH_WELFARE_CENTER),
    CarerCategory.YOUNG_ADULT_CARER: (OrganisationKind.MUNICIPAL_DEPARTMENT, OrganisationKind.SOCIAL_WELFARE_COUNCIL),
    CarerCategory.BUSINESS_CARER: (OrganisationKind.COMMUNITY_GENERAL_SUPPORT_CENTER,),
    CarerCategory.FAMILY_CARER: (
        OrganisationKind.COMMUNITY_GENERAL_SUPPORT_CENTER,
        OrganisationKind.CARE_MANAGEMENT_OFFICE,
        OrganisationKind.DISABILITY_CONSULTATION,
    ),
}
AGENCIES_FOR: Final = {
    C.ELDERLY: (OrganisationKind.COMMUNITY_GENERAL_SUPPORT_CENTER, OrganisationKind.CARE_MANAGEMENT_OFFICE),
    C.PHYSICAL_DISABILITY: (OrganisationKind.DISABILITY_CONSULTATION,),
    C.INTELLECTUAL_DISABILITY: (OrganisationKind.DISABILITY_CONSULTATION,),
    C.MENTAL_ILLNESS: (OrganisationKind.MEDICAL_INSTITUTION,),
    C.ILLNESS: (OrganisationKind.MEDICAL_INSTITUTION,),
    C.DEPENDENCE: (OrganisationKind.MEDICAL_INSTITUTION,),
    C.LIMITED_JAPANESE: (OrganisationKind.SOCIAL_WELFARE_COUNCIL,),
    C.YOUNG_SIBLINGS: (OrganisationKind.HEALTH_WELFARE_CENTER,),
}
WELFARE_REFERRERS: Final = (
    OrganisationKind.COMMUNITY_GENERAL_SUPPORT_CENTER,
    OrganisationKind.SOCIAL_WELFARE_COUNCIL,
    OrganisationKind.DISABILITY_CONSULTATION,
    OrganisationKind.CARE_MANAGEMENT_OFFICE,
)
EFFECTS: Final = 6  # school attendance, study, health, sleep, friendships, future plans


def generate_casework(plan: TenantPlan, *, cases: int, seed: int) -> dict[str, list[Row]]:
    """Every case-related row of one tenant, keyed by table (columns as in `COLUMNS`)."""
    key = f"{seed}:{plan.code}:casework"
    faker = Faker("ja_JP")
    faker.seed_instance(key)
    return Casework(plan, random.Random(key), faker).build(cases)  # noqa: S311 (synthetic data, not secrets)


class Casework:
    """Builds one tenant's rows; every draw comes from one seeded `random.Random` (and the
    Faker instance seeded alongside it), in a fixed order."""

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

    # --- the whole tenant --------------------------------------------------------------

    def build(self, cases: int) -> dict[str, list[Row]]:
        for stage, category in self.assignments(cases):
            self.case(stage, category)
        self.merged_referrals(round(cases * 0.08))
        self.loose_referrals(max(4, round(cases * 0.3)))
        self.practitioners_meetings()
        return self.rows

    def assignments(self, cases: int) -> list[tuple[CaseStage, CarerCategory]]:
        """Every stage × category pair when the count allows it, else every stage and every
        category at least once; the rest are weighted draws."""
        stages, categories = list(STAGE_WEIGHTS), list(CATEGORY_WEIGHTS)
        if cases >= len(stages) * len(categories):
            pairs = [(s, c) for s in stages for c in categories]
        else:
            drawn = categories + self.rng.choices(categories, list(CATEGORY_WEIGHTS.values()), k=cases)
            picked = self.rng.sample(drawn[: len(categories)], len(categories)) + drawn[len(categories) :]
            pairs = [(stages[i % len(stages)], picked[i]) for i in range(cases)]
        while len(pairs) < cases:
            stage = self.rng.choices(stages, weights=list(STAGE_WEIGHTS.values()))[0]
            pairs.append((stage, self.rng.choices(categories, weights=list(CATEGORY_WEIGHTS.values()))[0]))
        self.rng.shuffle(pairs)
        return pairs

    # --- one case ----------------------------------------------------------------------

    def case(self, stage: CaseStage, category: CarerCategory) -> None:
        story = self.household(category, self.timeline(stage))
        self.stories.append(story)
        risk = self.rng.choices(list(RiskLevel), weights=(45, 40, 15))[0]
        story.yotaikyo = category is CarerCategory.YOUNG_CARER and risk is not RiskLevel.LOW and self.rng.random() < 0.6
        kind = self.pick(LEAD_KINDS[category])
        lead = self.department if kind is OrganisationKind.MUNICIPAL_DEPARTMENT else self.pick(self.plan.of(kind))
        self.choose_participants(story, lead)
        coordinator = self.plan.coordinator.subject if category.value.startswith("young") else None
        closed_at = story.steps[-1].at if stage is S.CLOSED else None
        self.add(
            "carer_case", story.case_id, story.carer.person_id, story.household_id, category.value, stage.value,
            lead.id, self.plan.caseworker.subject, coordinator, story.yotaikyo, risk.value, story.opened_at, closed_at,
        )  # fmt: skip
        self.origin_referral(story, risk)
        for index in range(len(story.steps)):
            self.step_records(story, index)
        if story.yotaikyo and story.stage not in ORDER:
            self.yotaikyo_meeting(story)

    def timeline(self, stage: CaseStage) -> list[Step]:
        """The case's transitions, dated back from AS_OF so the current stage has a plausible age."""
        loops = self.rng.choice((0, 0, 1, 1, 2))
        while True:
            path = self.path(stage, loops)
            offsets = [0]
            for _, to in path[1:]:
                offsets.append(offsets[-1] + self.rng.randint(*GAP_DAYS[to]))
            if offsets[-1] <= SPAN_DAYS - 30 or loops == 0:
                break
            loops = 0
        dwell = self.rng.randint(0, max(0, min(DWELL_DAYS[stage], SPAN_DAYS - offsets[-1] - 10)))
        day0 = AS_OF_DATE - dt.timedelta(days=offsets[-1] + dwell)
        steps: list[Step] = []
        for (kind, to), offset in zip(path, offsets, strict=True):
            previous = steps[-1].stage if steps else None
            steps.append(Step(to, self.office_time(day0 + dt.timedelta(days=offset)), kind, previous))
        return steps

    def path(self, stage: CaseStage, loops: int) -> list[tuple[CaseEventKind, CaseStage]]:
        changed = CaseEventKind.STAGE_CHANGED
        path = [(CaseEventKind.OPENED, S.INTAKE)] + [(changed, s) for s in ORDER[1:]]
        if stage in ORDER:
            return path[: ORDER.index(stage) + 1]
        if stage is S.MULTI_AGENCY_MEETING or self.rng.random() < 0.35:
            path.append((changed, S.MULTI_AGENCY_MEETING))
        if stage is S.MULTI_AGENCY_MEETING:
            return path
        path.append((changed, S.SUPPORT))
        for _ in range(loops):
            path += [(changed, S.MONITORING), (changed, S.SUPPORT)]
        if stage is S.SUPPORT:
            if self.rng.random() < 0.1:  # closed once, then reopened
                path += [(changed, S.MONITORING), (changed, S.CLOSED), (CaseEventKind.REOPENED, S.SUPPORT)]
            return path
        path.append((changed, S.MONITORING))
        return path if stage is S.MONITORING else [*path, (changed, S.CLOSED)]

    # --- households and persons --------------------------------------------------------

    def household(self, category: CarerCategory, steps: list[Step]) -> Story:
        opened = steps[0].at
        family, family_kana, _ = self.faker.last_name_pair()
        household_id = self.new_id(opened)
        self.add("household", household_id, f"{family}家", self.pick(self.plan.districts), opened)
        members: list[Member] = []
        schools: list[OrganisationRow | None] = []
        for relation, female, birth, conditions in self.household_specs(category, opened.date()):
            pair = self.faker.first_name_female_pair() if female else self.faker.first_name_male_pair()
            member = Member(self.new_id(opened), family, pair[0], birth, relation, conditions)
            school = self.school_for(birth)
            grade = school_grade(birth, AS_OF_DATE) if school else None
            self.add(
                "person", member.person_id, household_id, family, pair[0], family_kana, pair[1], birth,
                school.id if school else None, grade, opened,
            )  # fmt: skip
            members.append(member)
            schools.append(school)
        case_id = self.new_id(opened)
        hours = self.care_relationships(category, members, opened)
        return Story(case_id, category, steps, household_id, members, schools[0], hours)

    def household_specs(self, category: CarerCategory, opened: dt.date) -> list[Spec]:
        """The carer first (aged for the category on `opened`), then 1-5 more members."""
        carer_birth = self.young_carer_birth(opened) if category is CarerCategory.YOUNG_CARER else None
        if carer_birth is None:
            low, high = {
                CarerCategory.YOUNG_ADULT_CARER: (18, 38),
                CarerCategory.BUSINESS_CARER: (35, 63),
                CarerCategory.FAMILY_CARER: (40, 84),
            }[category]
            carer_birth = years_before(opened, self.rng.randint(low, high)) - dt.timedelta(self.rng.randint(1, 330))
        female = self.rng.random() < 0.6
        carer: Spec = ("本人", female, carer_birth, ())
        if category in (CarerCategory.YOUNG_CARER, CarerCategory.YOUNG_ADULT_CARER):
            others = self.children_household(category, carer_birth)
        elif category is CarerCategory.BUSINESS_CARER:
            others = self.working_household(female, carer_birth)
        else:
            others = self.older_household(female, carer_birth)
        return [carer, *others][:6]

    def relative_birth(self, carer_birth: dt.date, years_older: tuple[int, int]) -> dt.date:
        """A relative `years_older` (negative: younger) than the carer, born by AS_OF."""
        days = self.rng.randint(years_older[0] * 365, years_older[1] * 365)
        return min(carer_birth - dt.timedelta(days=days), AS_OF_DATE - dt.timedelta(days=200))

    def children_household(self, category: CarerCategory, carer_birth: dt.date) -> list[Spec]:
        rng = self.rng
        condition = rng.choice((C.MENTAL_ILLNESS, C.ILLNESS, C.PHYSICAL_DISABILITY, C.DEPENDENCE, C.LIMITED_JAPANESE))
        parent_cared = category is CarerCategory.YOUNG_ADULT_CARER or rng.random() < 0.7
        specs: list[Spec] = [
            ("母", True, self.relative_birth(carer_birth, (22, 38)), (condition,) if parent_cared else ())
        ]
        if rng.random() < 0.55:
            specs.append(("父", False, self.relative_birth(carer_birth, (24, 42)), ()))
        if category is CarerCategory.YOUNG_CARER and (not parent_cared or rng.random() < 0.5):
            for _ in range(rng.randint(1, 2)):
                sister = rng.random() < 0.5
                specs.append(
                    ("妹" if sister else "弟", sister, self.relative_birth(carer_birth, (-9, -1)), (C.YOUNG_SIBLINGS,))
                )
        elif rng.random() < 0.3:
            sister = rng.random() < 0.5
            born = self.relative_birth(carer_birth, (-6, -1))
            specs.append(("妹" if sister else "弟", sister, born, (C.INTELLECTUAL_DISABILITY,)))
        if not parent_cared and rng.random() < 0.5:
            specs.append(("祖母", True, self.relative_birth(carer_birth, (55, 75)), (C.ELDERLY,)))
        return specs

    def working_household(self, female: bool, carer_birth: dt.date) -> list[Spec]:
        rng = self.rng
        condition = rng.choice((C.ILLNESS, C.PHYSICAL_DISABILITY))
        mother = rng.choice(("母", "義母"))
        specs: list[Spec] = [(mother, True, self.relative_birth(carer_birth, (25, 35)), (C.ELDERLY, condition))]
        if rng.random() < 0.7:
            specs.append(("夫" if female else "妻", not female, self.relative_birth(carer_birth, (-4, 6)), ()))
        if rng.random() < 0.5:
            daughter = rng.random() < 0.5
            specs.append(("長女" if daughter else "長男", daughter, self.relative_birth(carer_birth, (-32, -22)), ()))
        return specs

    def older_household(self, female: bool, carer_birth: dt.date) -> list[Spec]:
        rng, situation = self.rng, self.rng.random()
        if situation < 0.5:
            spouse = ("夫" if female else "妻", not female, self.relative_birth(carer_birth, (-3, 8)))
            return [(*spouse, (C.ELDERLY, C.ILLNESS))]
        if situation < 0.8:
            daughter = rng.random() < 0.4
            condition = rng.choice((C.INTELLECTUAL_DISABILITY, C.MENTAL_ILLNESS))
            child = ("長女" if daughter else "長男", daughter, self.relative_birth(carer_birth, (-32, -22)))
            return [
                (*child, (condition,)),
                ("夫" if female else "妻", not female, self.relative_birth(carer_birth, (-3, 6)), ()),
            ]
        return [("母", True, self.relative_birth(carer_birth, (22, 32)), (C.ELDERLY, C.PHYSICAL_DISABILITY))]

    def young_carer_birth(self, opened: dt.date) -> dt.date:
        """Under 18 when the case opened, and still at school (grade 1-12) on AS_OF."""
        years_since = (AS_OF_DATE - opened).days / 365.25
        grades = list(range(min(12, 2 + math.ceil(years_since)), 13))
        grade = self.rng.choices(grades, weights=[GRADE_WEIGHTS[g] for g in grades])[0]
        birth_fy = fiscal_year(AS_OF_DATE) - 6 - grade
        start = max(dt.date(birth_fy, 4, 2), years_before(opened, 18) + dt.timedelta(days=1))
        end = dt.date(birth_fy + 1, 4, 1)
        return start + dt.timedelta(days=self.rng.randint(0, max(0, (end - start).days)))

    def school_for(self, birth: dt.date) -> OrganisationRow | None:
        grade = school_grade(birth, AS_OF_DATE)
        if not 1 <= grade <= 12:
            return None
        schools = self.plan.of(school_kind(grade))
        # the demo teacher's school (the first) is the most likely, so its referrals show
        return self.rng.choices(schools, weights=[3 if i == 0 else 1 for i in range(len(schools))])[0]

    def care_relationships(self, category: CarerCategory, members: list[Member], opened: dt.datetime) -> Decimal:
        carer, others = members[0], members[1:]
        cared = [m for m in others if m.conditions] or others[:1]
        low, high = HOURS[category]
        total = Decimal(0)
        for member in cared:
            member.conditions = member.conditions or (C.ILLNESS,)
            options = sorted({t for c in member.conditions for t in TASKS_FOR[c]}, key=list(CareTask).index)
            tasks = self.rng.sample(options, self.rng.randint(1, min(3, len(options))))
            hours = Decimal(self.rng.randint(low * 2, high * 2)) / 2
            total += hours
            self.add(
                "care_relationship", self.new_id(opened), carer.person_id, member.person_id, member.relation,
                [c.value for c in member.conditions], [t.value for t in tasks], hours,
            )  # fmt: skip
        return min(total, Decimal(168))

    def choose_participants(self, story: Story, lead: OrganisationRow) -> None:
        chosen = [lead]
        if story.stage is not S.INTAKE:
            conditions = {c for m in story.members for c in m.conditions}
            kinds = [kind for c in sorted(conditions, key=list(C).index) for kind in AGENCIES_FOR[c]]
            if story.category is CarerCategory.YOUNG_CARER:
                chosen += [self.department, *([story.school] if story.school else [])]
                kinds += [OrganisationKind.NPO] if self.rng.random() < 0.4 else []
            chosen += [self.pick(self.plan.of(kind)) for kind in kinds]
        story.participants = list({o.id: o for o in chosen}.values())

    # --- what happens in each stage ----------------------------------------------------

    def step_records(self, story: Story, index: int) -> None:
        step, end = story.steps[index], story.end_of(index)
        actor = self.plan.supervisor.subject if step.kind is CaseEventKind.REOPENED else self.plan.caseworker.subject
        self.event(story, step.kind, step.at, actor=actor, reason=self.reason(step), moved=(step.previous, step.stage))
        if step.stage is S.INTAKE:
            self.intake(story, step.at, end)
        elif step.stage is S.SHARING:
            self.sharing(story, step.at, end)
        elif step.stage is S.GATHERING:
            self.gathering(story, step.at, end, current=index == len(story.steps) - 1)
        elif step.stage in (S.CONFERENCE, S.MULTI_AGENCY_MEETING):
            self.meeting_stage(story, step, end, current=index == len(story.steps) - 1)
        elif step.stage is S.SUPPORT:
            self.support(story, index, end)
        elif step.stage is S.MONITORING:
            self.monitoring(story, step.at, end, current=index == len(story.steps) - 1)
        else:
            self.closure(story, story.steps[index - 1].at, step.at)

    @staticmethod
    def reason(step: Step) -> str | None:
        if step.kind is CaseEventKind.OPENED:
            return "相談受理"
        if step.kind is CaseEventKind.REOPENED:
            return "ケアの負担が再び増えたため再開"
        if step.previous is S.MONITORING and step.stage is S.SUPPORT:
            return "モニタリングの結果、支援計画を見直して支援を継続"
        return STAGE_REASONS.get(step.stage)

    def event(
        self,
        story: Story,
        kind: CaseEventKind,
        at: dt.datetime,
        *,
        actor: str,
        reason: str | None,
        moved: tuple[CaseStage | None, CaseStage | None] = (None, None),
    ) -> None:
        from_value, to_value = (stage.value if stage else None for stage in moved)
        self.add("case_event", self.new_id(at), story.case_id, kind.value, from_value, to_value, actor, reason, at)

    def intake(self, story: Story, start: dt.datetime, end: dt.datetime) -> None:
        assigned = self.between(start + dt.timedelta(minutes=1), min(end, start + dt.timedelta(hours=2)))
        reason = f"担当ケースワーカーを{self.plan.caseworker.display_name}に決定"
        self.event(story, CaseEventKind.ASSIGNED, assigned, actor=self.plan.supervisor.subject, reason=reason)
        lead = story.participants[0]
        self.add("case_participant", self.new_id(start), story.case_id, lead.id, "主担当機関", start)
        kind = ContactKind.INTERVIEW if self.rng.random() < 0.7 else ContactKind.PHONE
        self.contact(story, kind, self.between(start, min(end, start + dt.timedelta(days=3))))

    def sharing(self, story: Story, start: dt.datetime, end: dt.datetime) -> None:
        for organisation in story.participants[1:]:
            role = PARTICIPANT_ROLES[organisation.kind]
            self.add("case_participant", self.new_id(start), story.case_id, organisation.id, role, start)
        self.contact(story, ContactKind.PHONE, self.between(start, end))
        if not (story.yotaikyo and self.rng.random() < 0.3):  # yotaikyo members may share without consent
            self.consents(story, self.between(start, end))

    def gathering(self, story: Story, start: dt.datetime, end: dt.datetime, *, current: bool) -> None:
        kind = ContactKind.JOINT_VISIT if self.rng.random() < 0.3 else ContactKind.HOME_VISIT
        self.contact(story, kind, self.between(start, end))
        if not current or self.rng.random() < 0.5:
            self.assessment(story, self.between(start, end).date(), improvement=0)

    def meeting_stage(self, story: Story, step: Step, end: dt.datetime, *, current: bool) -> None:
        conference = step.stage is S.CONFERENCE
        kind = MeetingKind.CASE_CONFERENCE if conference else MeetingKind.MULTI_AGENCY
        decisions = (
            "支援方針を決定。支援計画案を作成し、スーパーバイザーの承認を得る。"
            if conference
            else "関係機関の役割分担と情報共有の方法を確認した。"
        )
        held = step.at.date()
        self.meeting(story, kind, held, decisions, held + dt.timedelta(days=30))
        if current and self.rng.random() < 0.6:  # a plan waiting for the supervisor
            created, requested = self.moments(step.at, end, 2)
            plan_id = self.support_plan(story, created, step.at.date())
            self.approval(story, ApprovalSubject.SUPPORT_PLAN, requested, plan_id=plan_id)

    def support(self, story: Story, index: int, end: dt.datetime) -> None:
        step, before = story.steps[index], story.steps[index - 1].at
        rejected_first = story.plans == 0 and self.rng.random() < 0.15
        times = self.moments(before, step.at, 6 if rejected_first else 3)
        if rejected_first:
            plan_id = self.support_plan(story, times[0], step.at.date())
            rejected = ApprovalStatus.REJECTED
            self.approval(
                story, ApprovalSubject.SUPPORT_PLAN, times[1], plan_id=plan_id, status=rejected, decided=times[2]
            )
            times = times[3:]
        plan_id = self.support_plan(story, times[0], step.at.date())
        approved = ApprovalStatus.APPROVED
        self.approval(story, ApprovalSubject.SUPPORT_PLAN, times[1], plan_id=plan_id, status=approved, decided=times[2])
        self.follow_up_contacts(story, step.at, end)
        first_support = all(s.stage is not S.SUPPORT for s in story.steps[:index])
        if first_support and story.category is CarerCategory.YOUNG_CARER and self.rng.random() < 0.45:
            self.dispatch(story, before, step.at)

    def monitoring(self, story: Story, start: dt.datetime, end: dt.datetime, *, current: bool) -> None:
        held = start.date()
        closing = story.stage is S.CLOSED and end == story.steps[-1].at
        decisions = "目標はおおむね達成。終結に向けて調整する。" if closing else "支援を継続し、3か月後に再評価する。"
        self.meeting(story, MeetingKind.MONITORING, held, decisions, add_months(held, 3))
        self.assessment(story, self.between(start, end).date(), improvement=1)
        if current and self.rng.random() < 0.3:  # closure requested, not yet decided
            requested = self.between(start, end)
            self.approval(story, ApprovalSubject.CLOSURE, requested)

    def closure(self, story: Story, start: dt.datetime, closed: dt.datetime) -> None:
        requested, decided = self.moments(start, closed, 2)
        self.approval(story, ApprovalSubject.CLOSURE, requested, status=ApprovalStatus.APPROVED, decided=decided)
        self.contact(story, ContactKind.PHONE, closed, "終結について本人・家族に連絡した。")

    # --- records -----------------------------------------------------------------------

    def contact(self, story: Story, kind: ContactKind, at: dt.datetime, summary: str | None = None) -> None:
        writer = self.plan.coordinator if kind is ContactKind.JOINT_VISIT else self.plan.caseworker
        text = summary or self.pick(CONTACT_SUMMARIES[kind])
        self.add("contact_log", self.new_id(at), story.case_id, kind.value, at, text, writer.subject)

    def follow_up_contacts(self, story: Story, start: dt.datetime, end: dt.datetime) -> None:
        at = start
        for _ in range(8):
            at += dt.timedelta(days=self.rng.randint(14, 45))
            if at >= end:
                return
            kind = self.rng.choices(list(ContactKind), weights=(2, 4, 2, 5))[0]
            self.contact(story, kind, at)

    def assessment(self, story: Story, on: dt.date, *, improvement: int) -> None:
        burden = float(story.hours) / 12
        student = (
            story.category is not CarerCategory.BUSINESS_CARER and story.category is not CarerCategory.FAMILY_CARER
        )
        effects = [
            0 if index < 2 and not student else max(0, min(3, round(burden + self.rng.uniform(-1, 1)) - improvement))
            for index in range(EFFECTS)
        ]
        hours = max(Decimal(0), story.hours - improvement * Decimal(self.rng.randint(0, 10)))
        assessor = self.plan.coordinator if story.category is CarerCategory.YOUNG_CARER else self.plan.caseworker
        wishes = self.pick(WISHES[story.category])
        notes = "再アセスメント。" if improvement else "家族全体の状況を確認した。"
        self.add("assessment", self.new_id(on), story.case_id, on, assessor.subject, hours, *effects, wishes, notes)

    def support_plan(self, story: Story, created: dt.datetime, start: dt.date) -> uuid.UUID:
        story.plans += 1
        plan_id = self.new_id(created)
        goals = self.pick(GOALS[story.category])
        if story.plans > 1:
            goals = f"（第{story.plans}版）{goals}"
        end = add_months(start, self.rng.choice((3, 6)))
        author = self.plan.caseworker.subject
        self.add("support_plan", plan_id, story.case_id, story.plans, goals, start, end, author, created)
        return plan_id

    def approval(
        self,
        story: Story,
        subject: ApprovalSubject,
        requested: dt.datetime,
        *,
        plan_id: uuid.UUID | None = None,
        status: ApprovalStatus = ApprovalStatus.REQUESTED,
        decided: dt.datetime | None = None,
    ) -> None:
        staff, supervisor = self.plan.caseworker.subject, self.plan.supervisor.subject
        decided_by = supervisor if decided else None
        comment = "目標を具体的に記載すること。" if status is ApprovalStatus.REJECTED else None
        self.add(
            "approval", self.new_id(requested), story.case_id, subject.value, plan_id, status.value, staff, requested,
            decided_by, decided, comment,
        )  # fmt: skip
        self.event(story, CaseEventKind.APPROVAL_REQUESTED, requested, actor=staff, reason=subject.label)
        if decided is not None:
            kind = CaseEventKind.REJECTED if status is ApprovalStatus.REJECTED else CaseEventKind.APPROVED
            self.event(story, kind, decided, actor=supervisor, reason=comment)

    def meeting(
        self, story: Story | None, kind: MeetingKind, held: dt.date, decisions: str, review: dt.date | None
    ) -> None:
        meeting_id = self.new_id(held)
        self.add("meeting", meeting_id, story.case_id if story else None, kind.value, held, decisions, review)
        department = self.department.id
        people: list[tuple[uuid.UUID | None, str]] = [
            (department, f"{self.plan.caseworker.display_name}（ケースワーカー）")
        ]
        if story is None or story.category.value.startswith("young"):
            people.append((department, f"{self.plan.coordinator.display_name}（コーディネーター）"))
        organisations = story.participants if story else self.practitioner_organisations()
        for organisation in organisations:
            if organisation.id != department:
                people.append((organisation.id, f"{self.full_name()}（{self.pick(TITLES[organisation.kind])}）"))
        if story is not None and kind is not MeetingKind.YOTAIKYO_PRACTITIONERS and self.rng.random() < 0.3:
            people.append((None, f"{story.carer.family} {story.carer.given}（本人）"))
        for organisation_id, name in people:
            self.add("meeting_participant", self.new_id(held), meeting_id, organisation_id, name)

    def yotaikyo_meeting(self, story: Story) -> None:
        conference = next(s.at for s in story.steps if s.stage is S.CONFERENCE)
        end = story.steps[-1].at if story.stage is S.CLOSED else AS_OF
        held = self.between(conference, end).date()
        decisions = "要支援児童として登録し、進行管理を継続する。"
        self.meeting(story, MeetingKind.YOTAIKYO_PRACTITIONERS, held, decisions, add_months(held, 3))

    def practitioner_organisations(self) -> list[OrganisationRow]:
        kinds = (
            OrganisationKind.JUNIOR_HIGH_SCHOOL,
            OrganisationKind.ELEMENTARY_SCHOOL,
            OrganisationKind.HEALTH_WELFARE_CENTER,
            OrganisationKind.COMMUNITY_GENERAL_SUPPORT_CENTER,
        )
        ssw = next(o for o in self.plan.organisations if o.id == self.plan.school_social_worker.organisation_id)
        return [self.plan.of(kind)[0] for kind in kinds] + [ssw]

    def practitioners_meetings(self) -> None:
        """The yotaikyo practitioners' meeting (実務者会議), quarterly, about no single case."""
        for year in range(fiscal_year(EARLIEST), fiscal_year(AS_OF_DATE) + 1):
            for month in (5, 8, 11, 2):
                held = dt.date(year + (month < 4), month, self.rng.randint(10, 25))
                if held <= AS_OF_DATE:
                    cases = self.rng.randint(3, 15)
                    decisions = f"要支援児童{cases}件の進行管理状況を確認し、支援方針を共有した。"
                    self.meeting(None, MeetingKind.YOTAIKYO_PRACTITIONERS, held, decisions, add_months(held, 3))

    def consents(self, story: Story, given: dt.datetime) -> None:
        """Consent to share with the case's agencies; renewed yearly while the case runs (history kept)."""
        carer = story.carer
        shared = [o for o in story.participants if o.kind is not OrganisationKind.MUNICIPAL_DEPARTMENT]
        kinds = sorted({o.kind.value for o in shared})
        end = story.steps[-1].at if story.stage is S.CLOSED else AS_OF
        for _ in range(4):
            years = age(carer.birth, given.date())
            by_guardian = years < 15 or (years < 18 and self.rng.random() < 0.5)
            guardian = next((f"{m.family} {m.given}" for m in story.members if m.relation in ("母", "父")), "保護者")
            giver = ConsentGiver.GUARDIAN if by_guardian else ConsentGiver.SELF
            expires = add_months(given.date(), 12)
            withdrawn = self.between(given, end) if self.rng.random() < 0.04 else None
            self.add(
                "consent", self.new_id(given), carer.person_id, story.case_id, giver.value,
                guardian if by_guardian else None, "支援に必要な範囲での関係機関との情報共有",
                [o.id for o in shared], kinds, given, withdrawn, expires,
            )  # fmt: skip
            if withdrawn is not None or expires >= end.date():
                return
            given = self.office_time(expires - dt.timedelta(days=self.rng.randint(1, 20)))

    def dispatch(self, story: Story, conference: dt.datetime, support: dt.datetime) -> None:
        """子育て世帯ヘルパー派遣: application → joint survey → plan → decision → visits."""
        provider = self.pick(self.plan.of(OrganisationKind.HOME_HELP_PROVIDER))
        applied = self.between(conference, support).date()
        survey = applied + dt.timedelta(days=self.rng.randint(2, 7))
        decided = survey + dt.timedelta(days=self.rng.randint(2, 7))
        start = decided + dt.timedelta(days=self.rng.randint(1, 5))
        period_end = add_months(start, self.rng.choice((3, 6))) - dt.timedelta(days=1)
        last_day = min(story.closed_on or AS_OF_DATE, AS_OF_DATE)
        extended = add_months(period_end, 3) if period_end < last_day and self.rng.random() < 0.5 else None
        plan = "週1回・2時間以内。家事援助と、きょうだいの見守り。"
        row: list[Any] = [self.new_id(applied), story.case_id, provider.id, None, applied, survey, plan, decided]
        row += [start, period_end, extended]
        status = self.dispatch_status(row, story, last_day)
        row[3] = status.value
        self.add("helper_dispatch", *row)
        if status in (DispatchStatus.IN_SERVICE, DispatchStatus.MONITORING, DispatchStatus.ENDED):
            self.add(
                "case_participant",
                self.new_id(decided),
                story.case_id,
                provider.id,
                "ヘルパー派遣",
                self.office_time(decided),
            )
            self.visits(row[0], start, min(extended or period_end, last_day))

    def dispatch_status(self, row: list[Any], story: Story, last_day: dt.date) -> DispatchStatus:
        """Blank out what has not happened by AS_OF and say where the dispatch stands."""
        survey, decided, start, period_end, extended = row[5], row[7], row[8], row[9], row[10]
        if survey > AS_OF_DATE:
            row[5:] = [None] * 6
            return DispatchStatus.APPLIED
        if decided > AS_OF_DATE:
            row[7:] = [None] * 4
            return DispatchStatus.PLANNED
        if start > AS_OF_DATE:
            return DispatchStatus.DECIDED
        if story.closed_on is not None or (extended or period_end) < last_day:
            return DispatchStatus.ENDED
        return DispatchStatus.MONITORING if story.stage is S.MONITORING else DispatchStatus.IN_SERVICE

    def visits(self, dispatch_id: uuid.UUID, first: dt.date, last: dt.date) -> None:
        """At most one visit per ISO week, at most 2 hours."""
        monday = first - dt.timedelta(days=first.weekday())
        while monday <= last:
            day = monday + dt.timedelta(days=self.rng.randint(0, 4))
            if first <= day <= last and self.rng.random() < 0.85:
                tasks = "、".join(self.rng.sample(VISIT_TASKS, self.rng.randint(1, 3)))
                minutes = self.rng.choice((60, 90, 120))
                self.add("helper_visit", self.new_id(day), dispatch_id, day, minutes, tasks, self.pick(VISIT_NOTES))
            monday += dt.timedelta(days=7)

    # --- referrals ---------------------------------------------------------------------

    def referrer(self, source: ReferralSource, school: OrganisationRow | None) -> tuple[uuid.UUID | None, str | None]:
        plan = self.plan
        if source is ReferralSource.SCHOOL:
            if self.rng.random() < 0.25:
                return plan.school_social_worker.organisation_id, plan.school_social_worker.subject
            school = school or self.pick(plan.of(OrganisationKind.HIGH_SCHOOL))
            own = school.id == plan.school_staff.organisation_id
            return school.id, plan.school_staff.subject if own else self.opaque_subject("giga")
        if source is ReferralSource.WELFARE_AGENCY:
            agency: OrganisationRow = self.pick([o for kind in WELFARE_REFERRERS for o in plan.of(kind)])
            own = agency.id == plan.welfare_worker.organisation_id
            return agency.id, plan.welfare_worker.subject if own else self.opaque_subject("staff")
        if source is ReferralSource.MEDICAL:
            return self.pick(plan.of(OrganisationKind.MEDICAL_INSTITUTION)).id, self.opaque_subject("staff")
        if source is ReferralSource.LINE_CONSULTATION:
            return plan.prefecture_department, None
        return None, None

    def display_name(self, story: Story, source: ReferralSource) -> str:
        carer = story.carer
        grade = school_grade(carer.birth, story.opened_at.date())
        if source is ReferralSource.SCHOOL and 1 <= grade <= 12:
            return f"{grade_label(grade)} {carer.family}さん"
        return f"{carer.family} {carer.given}"

    def urgency(self, risk: RiskLevel) -> Urgency:
        weights = (2, 4, 4) if risk is RiskLevel.HIGH else (6, 3, 1)
        return self.rng.choices(list(Urgency), weights=weights)[0]

    def origin_referral(self, story: Story, risk: RiskLevel) -> None:
        """Most cases start from a referral, accepted when the case opened."""
        if self.rng.random() >= 0.85:
            return
        source = self.rng.choices(list(ReferralSource), weights=SOURCE_WEIGHTS[story.category])[0]
        organisation, subject = self.referrer(source, story.school)
        received = story.opened_at - dt.timedelta(days=self.rng.randint(0, 5), minutes=self.rng.randint(0, 300))
        self.add(
            "referral", self.new_id(received), source.value, organisation, subject, story.carer.person_id,
            self.display_name(story, source), self.pick(NOTICED[source]), self.urgency(risk).value,
            ReferralStatus.ACCEPTED.value, story.case_id, received, story.opened_at,
        )  # fmt: skip

    def merged_referrals(self, count: int) -> None:
        """A second notice about a child who already has a case: merged into it."""
        open_long = [s for s in self.stories if len(s.steps) > 2]
        for story in self.rng.sample(open_long, min(count, len(open_long))):
            end = story.steps[-1].at if story.stage is S.CLOSED else AS_OF
            received = self.between(story.steps[1].at, end)
            decided = self.between(received, min(end, received + dt.timedelta(days=3)))
            source = self.rng.choices(list(ReferralSource), weights=SOURCE_WEIGHTS[story.category])[0]
            organisation, subject = self.referrer(source, story.school)
            self.add(
                "referral", self.new_id(received), source.value, organisation, subject, story.carer.person_id,
                self.display_name(story, source), self.pick(NOTICED[source]), Urgency.ROUTINE.value,
                ReferralStatus.MERGED.value, story.case_id, received, decided,
            )  # fmt: skip

    def loose_referrals(self, count: int) -> None:
        """Referrals that made no case: waiting, declined or revoked by their sender. The
        first four make sure each demo referrer and the LINE consultation have one."""
        plan = self.plan
        fixed = [
            (ReferralSource.SCHOOL, plan.school_staff, ReferralStatus.SUBMITTED),
            (ReferralSource.SCHOOL, plan.school_social_worker, ReferralStatus.DECLINED),
            (ReferralSource.WELFARE_AGENCY, plan.welfare_worker, ReferralStatus.REVOKED),
            (ReferralSource.LINE_CONSULTATION, None, ReferralStatus.SUBMITTED),
        ]
        statuses = [ReferralStatus.SUBMITTED, ReferralStatus.DECLINED, ReferralStatus.REVOKED]
        for index in range(count):
            if index < len(fixed):
                source, staff, status = fixed[index]
                organisation, subject = (staff.organisation_id, staff.subject) if staff else self.referrer(source, None)
            else:
                source = self.rng.choices(list(ReferralSource), weights=(30, 15, 5, 10, 10, 20, 10))[0]
                status = self.rng.choices(statuses, weights=(25, 50, 25))[0]
                organisation, subject = self.referrer(source, None)
            self.loose_referral(source, organisation, subject, status)

    def loose_referral(
        self, source: ReferralSource, organisation: uuid.UUID | None, subject: str | None, status: ReferralStatus
    ) -> None:
        if status is ReferralStatus.SUBMITTED:
            received = AS_OF - dt.timedelta(days=self.rng.randint(1, 14), minutes=self.rng.randint(0, 600))
            decided = None
        else:
            received = self.between(self.office_time(EARLIEST), AS_OF - dt.timedelta(days=20))
            days = self.rng.randint(0, 3) if status is ReferralStatus.REVOKED else self.rng.randint(1, 14)
            decided = received + dt.timedelta(days=days, minutes=self.rng.randint(0, 120))
        grade = self.rng.randint(4, 11)
        name = f"{grade_label(grade)} {self.faker.last_name()}さん" if source is ReferralSource.SCHOOL else None
        self.add(
            "referral", self.new_id(received), source.value, organisation, subject, None, name,
            self.pick(NOTICED[source]), self.urgency(RiskLevel.LOW).value, status.value, None, received, decided,
        )  # fmt: skip
