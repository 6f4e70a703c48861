"""Referrals (気づき・相談): the one a case started from, later notices merged into a case,
and those that made no case (waiting, declined, revoked)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Final

from kizuna.platform.provisioning import OrganisationRow
from kizuna.platform.vocabulary import (
    CarerCategory,
    CareTask,
    CaseStage,
    OrganisationKind,
    ReferralSource,
    ReferralStatus,
    RiskLevel,
    Urgency,
)
from kizuna.tenants.demo_calendar import AS_OF, EARLIEST, grade_label, school_grade
from kizuna.tenants.demo_draft import Draft, Story

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
DECLINE_REASONS: Final = (
    "市外に住んでいるため、住所地の市町村の窓口を案内しました。",
    "ケアの実態が確認できなかったため、学校での見守りを続けてください。",
    "すでに他の機関が支援しているため、そちらに引き継ぎました。",
    "家族の同意が得られなかったため、学校と情報を共有しながら見守ります。",
)
# What a sender saw, by the source: the tasks a referral notes.
TASKS_SEEN: Final = {
    ReferralSource.SCHOOL: (CareTask.SIBLING_CARE, CareTask.HOUSEWORK, CareTask.EMOTIONAL_SUPPORT),
    ReferralSource.WELFARE_AGENCY: (CareTask.PERSONAL_CARE, CareTask.WATCHING_OVER, CareTask.HOUSEWORK),
    ReferralSource.MEDICAL: (CareTask.HOSPITAL_ACCOMPANIMENT, CareTask.PERSONAL_CARE),
}
SOURCE_WEIGHTS: Final = {
    CarerCategory.YOUNG_CARER: (45, 10, 5, 5, 10, 15, 10),
    CarerCategory.YOUNG_ADULT_CARER: (5, 20, 10, 25, 10, 25, 5),
    CarerCategory.BUSINESS_CARER: (0, 25, 5, 35, 20, 0, 15),
    CarerCategory.FAMILY_CARER: (0, 45, 20, 10, 20, 0, 5),
}
WELFARE_REFERRERS: Final = (
    OrganisationKind.COMMUNITY_GENERAL_SUPPORT_CENTER,
    OrganisationKind.SOCIAL_WELFARE_COUNCIL,
    OrganisationKind.DISABILITY_CONSULTATION,
    OrganisationKind.CARE_MANAGEMENT_OFFICE,
)


def referrer(
    draft: Draft, source: ReferralSource, school: OrganisationRow | None
) -> tuple[uuid.UUID | None, str | None]:
    plan = draft.plan
    if source is ReferralSource.SCHOOL:
        if draft.rng.random() < 0.25:
            return plan.school_social_worker.organisation_id, plan.school_social_worker.subject
        school = school or draft.pick(plan.of(OrganisationKind.HIGH_SCHOOL))
        own = school.id == plan.school_staff.organisation_id
        return school.id, plan.school_staff.subject if own else draft.opaque_subject("giga")
    if source is ReferralSource.WELFARE_AGENCY:
        agency: OrganisationRow = draft.pick([o for kind in WELFARE_REFERRERS for o in plan.of(kind)])
        own = agency.id == plan.welfare_worker.organisation_id
        return agency.id, plan.welfare_worker.subject if own else draft.opaque_subject("staff")
    if source is ReferralSource.MEDICAL:
        return draft.pick(plan.of(OrganisationKind.MEDICAL_INSTITUTION)).id, draft.opaque_subject("staff")
    if source is ReferralSource.LINE_CONSULTATION:
        return plan.prefecture_department, None
    return None, None


def display_name(draft: Draft, story: Story, source: ReferralSource) -> str:
    carer = story.carer
    grade = school_grade(carer.birth, story.opened_at.date())
    if source is ReferralSource.SCHOOL and 1 <= grade <= 12:
        return f"{grade_label(grade)} {carer.family}さん"
    return f"{carer.family} {carer.given}"


def noted(draft: Draft, source: ReferralSource, status: ReferralStatus) -> tuple[Any, ...]:
    """A referral's last columns: what the concern form noted (the tasks seen, whether the
    family knows) and, once decided, why it was declined and who decided (the caseworker;
    nobody when its sender revoked it)."""
    seen = TASKS_SEEN.get(source, ())
    tasks = sorted(draft.rng.sample(seen, draft.rng.randint(0, len(seen))), key=list(CareTask).index)
    family_aware = draft.rng.choice((True, False, None))
    reason = draft.pick(DECLINE_REASONS) if status is ReferralStatus.DECLINED else None
    undecided = status in (ReferralStatus.SUBMITTED, ReferralStatus.REVOKED)
    decided_by = None if undecided else draft.plan.caseworker.subject
    return [t.value for t in tasks], family_aware, reason, decided_by


def urgency(draft: Draft, risk: RiskLevel) -> Urgency:
    weights = (2, 4, 4) if risk is RiskLevel.HIGH else (6, 3, 1)
    return draft.rng.choices(list(Urgency), weights=weights)[0]


def origin_referral(draft: Draft, story: Story, risk: RiskLevel) -> None:
    """Most cases start from a referral, accepted when the case opened."""
    if draft.rng.random() >= 0.85:
        return
    source = draft.rng.choices(list(ReferralSource), weights=SOURCE_WEIGHTS[story.category])[0]
    organisation, subject = referrer(draft, source, story.school)
    received = story.opened_at - dt.timedelta(days=draft.rng.randint(0, 5), minutes=draft.rng.randint(0, 300))
    draft.add(
        "referral", draft.new_id(received), source.value, organisation, subject, story.carer.person_id,
        display_name(draft, story, source), draft.pick(NOTICED[source]), urgency(draft, risk).value,
        ReferralStatus.ACCEPTED.value, story.case_id, received, story.opened_at,
        *noted(draft, source, ReferralStatus.ACCEPTED),
    )  # fmt: skip


def merged_referrals(draft: Draft, count: int) -> None:
    """A second notice about a child who already has a case: merged into it."""
    open_long = [s for s in draft.stories if len(s.steps) > 2]
    for story in draft.rng.sample(open_long, min(count, len(open_long))):
        end = story.steps[-1].at if story.stage is CaseStage.CLOSED else AS_OF
        received = draft.between(story.steps[1].at, end)
        decided = draft.between(received, min(end, received + dt.timedelta(days=3)))
        source = draft.rng.choices(list(ReferralSource), weights=SOURCE_WEIGHTS[story.category])[0]
        organisation, subject = referrer(draft, source, story.school)
        draft.add(
            "referral", draft.new_id(received), source.value, organisation, subject, story.carer.person_id,
            display_name(draft, story, source), draft.pick(NOTICED[source]), Urgency.ROUTINE.value,
            ReferralStatus.MERGED.value, story.case_id, received, decided,
            *noted(draft, source, ReferralStatus.MERGED),
        )  # fmt: skip


def loose_referrals(draft: Draft, count: int) -> None:
    """Referrals that made no case: waiting, declined or revoked by their sender. The
    first four make sure each demo referrer and the LINE consultation have one."""
    plan = draft.plan
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
            organisation, subject = (staff.organisation_id, staff.subject) if staff else referrer(draft, source, None)
        else:
            source = draft.rng.choices(list(ReferralSource), weights=(30, 15, 5, 10, 10, 20, 10))[0]
            status = draft.rng.choices(statuses, weights=(25, 50, 25))[0]
            organisation, subject = referrer(draft, source, None)
        loose_referral(draft, source, organisation, subject, status)


def loose_referral(
    draft: Draft, source: ReferralSource, organisation: uuid.UUID | None, subject: str | None, status: ReferralStatus
) -> None:
    if status is ReferralStatus.SUBMITTED:
        received = AS_OF - dt.timedelta(days=draft.rng.randint(1, 14), minutes=draft.rng.randint(0, 600))
        decided = None
    else:
        received = draft.between(draft.office_time(EARLIEST), AS_OF - dt.timedelta(days=20))
        days = draft.rng.randint(0, 3) if status is ReferralStatus.REVOKED else draft.rng.randint(1, 14)
        decided = received + dt.timedelta(days=days, minutes=draft.rng.randint(0, 120))
    grade = draft.rng.randint(4, 11)
    name = f"{grade_label(grade)} {draft.faker.last_name()}さん" if source is ReferralSource.SCHOOL else None
    draft.add(
        "referral", draft.new_id(received), source.value, organisation, subject, None, name,
        draft.pick(NOTICED[source]), urgency(draft, RiskLevel.LOW).value, status.value, None, received, decided,
        *noted(draft, source, status),
    )  # fmt: skip
