"""What a case accumulates: its events, contact logs, assessments, versioned support plans,
approvals, meetings with their participants and consents."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Final

from kizuna.platform.provisioning import OrganisationRow
from kizuna.platform.vocabulary import (
    ApprovalStatus,
    ApprovalSubject,
    CarerCategory,
    CaseEventKind,
    CaseStage,
    ConsentGiver,
    ContactKind,
    MeetingKind,
    OrganisationKind,
)
from kizuna.schema.cases.dispatch_rules import add_months
from kizuna.schema.cases.workflow import age
from kizuna.tenants.demo_calendar import AS_OF, AS_OF_DATE, EARLIEST, fiscal_year
from kizuna.tenants.demo_draft import Draft, Story

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
EFFECTS: Final = 6  # school attendance, study, health, sleep, friendships, future plans


def event(
    draft: Draft,
    story: Story,
    kind: CaseEventKind,
    at: dt.datetime,
    *,
    actor: str,
    reason: str | None,
    moved: tuple[CaseStage | None, CaseStage | None] = (None, None),
) -> None:
    from_value, to_value = (stage.value if stage else None for stage in moved)
    draft.add(
        "case_event", draft.new_id(at), story.case_id, kind.value, from_value, to_value, actor, reason, at,
        draft.plan.name_of(actor),
    )  # fmt: skip


def contact(draft: Draft, story: Story, kind: ContactKind, at: dt.datetime, summary: str | None = None) -> None:
    writer = draft.plan.coordinator if kind is ContactKind.JOINT_VISIT else draft.plan.caseworker
    text = summary or draft.pick(CONTACT_SUMMARIES[kind])
    draft.add("contact_log", draft.new_id(at), story.case_id, kind.value, at, text, writer.subject)


def follow_up_contacts(draft: Draft, story: Story, start: dt.datetime, end: dt.datetime) -> None:
    at = start
    for _ in range(8):
        at += dt.timedelta(days=draft.rng.randint(14, 45))
        if at >= end:
            return
        kind = draft.rng.choices(list(ContactKind), weights=(2, 4, 2, 5))[0]
        contact(draft, story, kind, at)


def assessment(draft: Draft, story: Story, on: dt.date, *, improvement: int) -> None:
    burden = float(story.hours) / 12
    student = story.category is not CarerCategory.BUSINESS_CARER and story.category is not CarerCategory.FAMILY_CARER
    effects = [
        0 if index < 2 and not student else max(0, min(3, round(burden + draft.rng.uniform(-1, 1)) - improvement))
        for index in range(EFFECTS)
    ]
    hours = max(Decimal(0), story.hours - improvement * Decimal(draft.rng.randint(0, 10)))
    assessor = draft.plan.coordinator if story.category is CarerCategory.YOUNG_CARER else draft.plan.caseworker
    wishes = draft.pick(WISHES[story.category])
    notes = "再アセスメント。" if improvement else "家族全体の状況を確認した。"
    draft.add("assessment", draft.new_id(on), story.case_id, on, assessor.subject, hours, *effects, wishes, notes)


def support_plan(draft: Draft, story: Story, created: dt.datetime, start: dt.date) -> uuid.UUID:
    story.plans += 1
    plan_id = draft.new_id(created)
    goals = draft.pick(GOALS[story.category])
    if story.plans > 1:
        goals = f"（第{story.plans}版）{goals}"
    end = add_months(start, draft.rng.choice((3, 6)))
    author = draft.plan.caseworker.subject
    draft.add("support_plan", plan_id, story.case_id, story.plans, goals, start, end, author, created)
    return plan_id


def approval(
    draft: Draft,
    story: Story,
    subject: ApprovalSubject,
    requested: dt.datetime,
    *,
    plan_id: uuid.UUID | None = None,
    status: ApprovalStatus = ApprovalStatus.REQUESTED,
    decided: dt.datetime | None = None,
) -> None:
    staff, supervisor = draft.plan.caseworker.subject, draft.plan.supervisor.subject
    decided_by = supervisor if decided else None
    comment = "目標を具体的に記載すること。" if status is ApprovalStatus.REJECTED else None
    draft.add(
        "approval", draft.new_id(requested), story.case_id, subject.value, plan_id, status.value, staff, requested,
        decided_by, decided, comment,
    )  # fmt: skip
    event(draft, story, CaseEventKind.APPROVAL_REQUESTED, requested, actor=staff, reason=subject.label)
    if decided is not None:
        kind = CaseEventKind.REJECTED if status is ApprovalStatus.REJECTED else CaseEventKind.APPROVED
        event(draft, story, kind, decided, actor=supervisor, reason=comment)


def meeting(
    draft: Draft, story: Story | None, kind: MeetingKind, held: dt.date, decisions: str, *, review: dt.date | None
) -> None:
    meeting_id = draft.new_id(held)
    draft.add("meeting", meeting_id, story.case_id if story else None, kind.value, held, decisions, review)
    department = draft.department.id
    people: list[tuple[uuid.UUID | None, str]] = [
        (department, f"{draft.plan.caseworker.display_name}（ケースワーカー）")
    ]
    if story is None or story.category.value.startswith("young"):
        people.append((department, f"{draft.plan.coordinator.display_name}（コーディネーター）"))
    organisations = story.participants if story else practitioner_organisations(draft)
    for organisation in organisations:
        if organisation.id != department:
            people.append((organisation.id, f"{draft.full_name()}（{draft.pick(TITLES[organisation.kind])}）"))
    if story is not None and kind is not MeetingKind.YOTAIKYO_PRACTITIONERS and draft.rng.random() < 0.3:
        people.append((None, f"{story.carer.family} {story.carer.given}（本人）"))
    for organisation_id, name in people:
        draft.add("meeting_participant", draft.new_id(held), meeting_id, organisation_id, name)


def yotaikyo_meeting(draft: Draft, story: Story) -> None:
    conference = next(s.at for s in story.steps if s.stage is CaseStage.CONFERENCE)
    end = story.steps[-1].at if story.stage is CaseStage.CLOSED else AS_OF
    held = draft.between(conference, end).date()
    decisions = "要支援児童として登録し、進行管理を継続する。"
    meeting(draft, story, MeetingKind.YOTAIKYO_PRACTITIONERS, held, decisions, review=add_months(held, 3))


def practitioner_organisations(draft: Draft) -> list[OrganisationRow]:
    kinds = (
        OrganisationKind.JUNIOR_HIGH_SCHOOL,
        OrganisationKind.ELEMENTARY_SCHOOL,
        OrganisationKind.HEALTH_WELFARE_CENTER,
        OrganisationKind.COMMUNITY_GENERAL_SUPPORT_CENTER,
    )
    ssw = next(o for o in draft.plan.organisations if o.id == draft.plan.school_social_worker.organisation_id)
    return [draft.plan.of(kind)[0] for kind in kinds] + [ssw]


def practitioners_meetings(draft: Draft) -> None:
    """The yotaikyo practitioners' meeting (実務者会議), quarterly, about no single case."""
    for year in range(fiscal_year(EARLIEST), fiscal_year(AS_OF_DATE) + 1):
        for month in (5, 8, 11, 2):
            held = dt.date(year + (month < 4), month, draft.rng.randint(10, 25))
            if held <= AS_OF_DATE:
                cases = draft.rng.randint(3, 15)
                decisions = f"要支援児童{cases}件の進行管理状況を確認し、支援方針を共有した。"
                meeting(draft, None, MeetingKind.YOTAIKYO_PRACTITIONERS, held, decisions, review=add_months(held, 3))


def consents(draft: Draft, story: Story, given: dt.datetime) -> None:
    """Consent to share with the case's agencies; renewed yearly while the case runs (history kept)."""
    carer = story.carer
    shared = [o for o in story.participants if o.kind is not OrganisationKind.MUNICIPAL_DEPARTMENT]
    kinds = sorted({o.kind.value for o in shared})
    end = story.steps[-1].at if story.stage is CaseStage.CLOSED else AS_OF
    for _ in range(4):
        years = age(carer.birth, given.date())
        by_guardian = years < 15 or (years < 18 and draft.rng.random() < 0.5)
        guardian = next((f"{m.family} {m.given}" for m in story.members if m.relation in ("母", "父")), "保護者")
        giver = ConsentGiver.GUARDIAN if by_guardian else ConsentGiver.SELF
        expires = add_months(given.date(), 12)
        withdrawn = draft.between(given, end) if draft.rng.random() < 0.04 else None
        draft.add(
            "consent", draft.new_id(given), carer.person_id, story.case_id, giver.value,
            guardian if by_guardian else None, "支援に必要な範囲での関係機関との情報共有",
            [o.id for o in shared], kinds, given, withdrawn, expires,
        )  # fmt: skip
        if withdrawn is not None or expires >= end.date():
            return
        given = draft.office_time(expires - dt.timedelta(days=draft.rng.randint(1, 20)))
