"""Case histories: each case walks the edges of the workflow (`schema/cases/workflow.py`)
from intake to its current stage, and each stage leaves the records it belongs to."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Final

from kizuna.platform.provisioning import OrganisationRow
from kizuna.platform.vocabulary import (
    ApprovalStatus,
    ApprovalSubject,
    CaredForCondition,
    CarerCategory,
    CaseEventKind,
    CaseStage,
    ContactKind,
    MeetingKind,
    OrganisationKind,
)
from kizuna.schema.cases import workflow
from kizuna.schema.cases.dispatch_rules import add_months
from kizuna.tenants.demo_calendar import AS_OF_DATE, SPAN_DAYS
from kizuna.tenants.demo_dispatches import dispatch
from kizuna.tenants.demo_draft import Draft, Step, Story
from kizuna.tenants.demo_records import (
    approval,
    assessment,
    consents,
    contact,
    event,
    follow_up_contacts,
    meeting,
    support_plan,
)

S, C = CaseStage, CaredForCondition
ORDER: Final = (workflow.INITIAL_STAGE, S.SHARING, S.GATHERING, S.CONFERENCE)
"""The stages every case passes, in this order, before the flow first branches."""
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
STAGE_REASONS: Final = {
    S.SHARING: "関係機関との情報共有を開始",
    S.GATHERING: "家庭状況の情報収集・アセスメントを開始",
    S.CONFERENCE: "ケース検討会議で支援方針を検討",
    S.MULTI_AGENCY_MEETING: "関係機関を含めた会議で役割分担を確認",
    S.SUPPORT: "支援計画に基づく支援を開始",
    S.MONITORING: "進行管理会議でモニタリングを実施",
    S.CLOSED: "ケアの負担が軽減し、本人・家族の同意を得て終結",
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


def timeline(draft: Draft, stage: CaseStage) -> list[Step]:
    """The case's transitions, dated back from AS_OF so the current stage has a plausible age."""
    loops = draft.rng.choice((0, 0, 1, 1, 2))
    while True:
        path = route(draft, stage, loops)
        offsets = [0]
        for _, to in path[1:]:
            offsets.append(offsets[-1] + draft.rng.randint(*GAP_DAYS[to]))
        if offsets[-1] <= SPAN_DAYS - 30 or loops == 0:
            break
        loops = 0
    dwell = draft.rng.randint(0, max(0, min(DWELL_DAYS[stage], SPAN_DAYS - offsets[-1] - 10)))
    day0 = AS_OF_DATE - dt.timedelta(days=offsets[-1] + dwell)
    steps: list[Step] = []
    for (kind, to), offset in zip(path, offsets, strict=True):
        previous = steps[-1].stage if steps else None
        steps.append(Step(to, draft.office_time(day0 + dt.timedelta(days=offset)), kind, previous))
    return steps


def route(draft: Draft, stage: CaseStage, loops: int) -> list[tuple[CaseEventKind, CaseStage]]:
    """The case's walk from intake to `stage`, each step with the event it writes: every
    step is an edge of the workflow (a step the flow does not allow fails here)."""
    stages = walk(draft, stage, loops)
    path = [(CaseEventKind.OPENED, stages[0])]
    for source, target in itertools.pairwise(stages):
        edge = workflow.transition(source, target)
        if edge is None:
            raise ValueError(f"the case workflow has no move from {source} to {target}")
        path.append((edge.event, target))
    return path


def walk(draft: Draft, stage: CaseStage, loops: int) -> list[CaseStage]:
    """The seeder's choice among the workflow's routes to `stage`: a multi-agency meeting
    now and then, `loops` returns from monitoring to support, and rarely a reopened case."""
    stages = list(ORDER)
    if stage in ORDER:
        return stages[: ORDER.index(stage) + 1]
    if stage is S.MULTI_AGENCY_MEETING or draft.rng.random() < 0.35:
        stages.append(S.MULTI_AGENCY_MEETING)
    if stage is S.MULTI_AGENCY_MEETING:
        return stages
    stages += [S.SUPPORT, *[S.MONITORING, S.SUPPORT] * loops]
    if stage is S.SUPPORT:
        if draft.rng.random() < 0.1:  # closed once, then reopened
            stages += [S.MONITORING, S.CLOSED, S.SUPPORT]
        return stages
    stages.append(S.MONITORING)
    return stages if stage is S.MONITORING else [*stages, S.CLOSED]


def choose_participants(draft: Draft, story: Story, lead: OrganisationRow) -> None:
    chosen = [lead]
    if story.stage is not S.INTAKE:
        conditions = {c for m in story.members for c in m.conditions}
        kinds = [kind for c in sorted(conditions, key=list(C).index) for kind in AGENCIES_FOR[c]]
        if story.category is CarerCategory.YOUNG_CARER:
            chosen += [draft.department, *([story.school] if story.school else [])]
            kinds += [OrganisationKind.NPO] if draft.rng.random() < 0.4 else []
        chosen += [draft.pick(draft.plan.of(kind)) for kind in kinds]
    story.participants = list({o.id: o for o in chosen}.values())


# --- what happens in each stage ------------------------------------------------------


def step_records(draft: Draft, story: Story, index: int) -> None:
    """The transition's event, then the records of the stage it entered."""
    step, end = story.steps[index], story.end_of(index)
    actor = draft.plan.supervisor.subject if step.kind is CaseEventKind.REOPENED else draft.plan.caseworker.subject
    event(draft, story, step.kind, step.at, actor=actor, reason=reason(step), moved=(step.previous, step.stage))
    if step.stage is S.INTAKE:
        intake(draft, story, step.at, end)
    elif step.stage is S.SHARING:
        sharing(draft, story, step.at, end)
    elif step.stage is S.GATHERING:
        gathering(draft, story, step.at, end, current=index == len(story.steps) - 1)
    elif step.stage in (S.CONFERENCE, S.MULTI_AGENCY_MEETING):
        meeting_stage(draft, story, step, end, current=index == len(story.steps) - 1)
    elif step.stage is S.SUPPORT:
        support(draft, story, index, end)
    elif step.stage is S.MONITORING:
        monitoring(draft, story, step.at, end, current=index == len(story.steps) - 1)
    else:
        closure(draft, story, story.steps[index - 1].at, step.at)


def reason(step: Step) -> str | None:
    if step.kind is CaseEventKind.OPENED:
        return "相談受理"
    if step.kind is CaseEventKind.REOPENED:
        return "ケアの負担が再び増えたため再開"
    if step.previous is S.MONITORING and step.stage is S.SUPPORT:
        return "モニタリングの結果、支援計画を見直して支援を継続"
    return STAGE_REASONS.get(step.stage)


def intake(draft: Draft, story: Story, start: dt.datetime, end: dt.datetime) -> None:
    assigned = draft.between(start + dt.timedelta(minutes=1), min(end, start + dt.timedelta(hours=2)))
    why = f"担当ケースワーカーを{draft.plan.caseworker.display_name}に決定"
    event(draft, story, CaseEventKind.ASSIGNED, assigned, actor=draft.plan.supervisor.subject, reason=why)
    lead = story.participants[0]
    draft.add("case_participant", draft.new_id(start), story.case_id, lead.id, "主担当機関", start)
    kind = ContactKind.INTERVIEW if draft.rng.random() < 0.7 else ContactKind.PHONE
    contact(draft, story, kind, draft.between(start, min(end, start + dt.timedelta(days=3))))


def sharing(draft: Draft, story: Story, start: dt.datetime, end: dt.datetime) -> None:
    for organisation in story.participants[1:]:
        role = PARTICIPANT_ROLES[organisation.kind]
        draft.add("case_participant", draft.new_id(start), story.case_id, organisation.id, role, start)
    contact(draft, story, ContactKind.PHONE, draft.between(start, end))
    if not (story.yotaikyo and draft.rng.random() < 0.3):  # yotaikyo members may share without consent
        consents(draft, story, draft.between(start, end))


def gathering(draft: Draft, story: Story, start: dt.datetime, end: dt.datetime, *, current: bool) -> None:
    kind = ContactKind.JOINT_VISIT if draft.rng.random() < 0.3 else ContactKind.HOME_VISIT
    contact(draft, story, kind, draft.between(start, end))
    if not current or draft.rng.random() < 0.5:
        assessment(draft, story, draft.between(start, end).date(), improvement=0)


def meeting_stage(draft: Draft, story: Story, step: Step, end: dt.datetime, *, current: bool) -> None:
    conference = step.stage is S.CONFERENCE
    kind = MeetingKind.CASE_CONFERENCE if conference else MeetingKind.MULTI_AGENCY
    decisions = (
        "支援方針を決定。支援計画案を作成し、スーパーバイザーの承認を得る。"
        if conference
        else "関係機関の役割分担と情報共有の方法を確認した。"
    )
    held = step.at.date()
    meeting(draft, story, kind, held, decisions, review=held + dt.timedelta(days=30))
    if current and draft.rng.random() < 0.6:  # a plan waiting for the supervisor
        created, requested = draft.moments(step.at, end, 2)
        plan_id = support_plan(draft, story, created, step.at.date())
        approval(draft, story, ApprovalSubject.SUPPORT_PLAN, requested, plan_id=plan_id)


def support(draft: Draft, story: Story, index: int, end: dt.datetime) -> None:
    step, before = story.steps[index], story.steps[index - 1].at
    rejected_first = story.plans == 0 and draft.rng.random() < 0.15
    times = draft.moments(before, step.at, 6 if rejected_first else 3)
    if rejected_first:
        plan_id = support_plan(draft, story, times[0], step.at.date())
        rejected = ApprovalStatus.REJECTED
        approval(
            draft, story, ApprovalSubject.SUPPORT_PLAN, times[1], plan_id=plan_id, status=rejected, decided=times[2]
        )
        times = times[3:]
    plan_id = support_plan(draft, story, times[0], step.at.date())
    approved = ApprovalStatus.APPROVED
    approval(draft, story, ApprovalSubject.SUPPORT_PLAN, times[1], plan_id=plan_id, status=approved, decided=times[2])
    follow_up_contacts(draft, story, step.at, end)
    first_support = all(s.stage is not S.SUPPORT for s in story.steps[:index])
    if first_support and story.category is CarerCategory.YOUNG_CARER and draft.rng.random() < 0.45:
        dispatch(draft, story, before, step.at)


def monitoring(draft: Draft, story: Story, start: dt.datetime, end: dt.datetime, *, current: bool) -> None:
    held = start.date()
    closing = story.stage is S.CLOSED and end == story.steps[-1].at
    decisions = "目標はおおむね達成。終結に向けて調整する。" if closing else "支援を継続し、3か月後に再評価する。"
    meeting(draft, story, MeetingKind.MONITORING, held, decisions, review=add_months(held, 3))
    assessment(draft, story, draft.between(start, end).date(), improvement=1)
    if current and draft.rng.random() < 0.3:  # closure requested, not yet decided
        requested = draft.between(start, end)
        approval(draft, story, ApprovalSubject.CLOSURE, requested)


def closure(draft: Draft, story: Story, start: dt.datetime, closed: dt.datetime) -> None:
    requested, decided = draft.moments(start, closed, 2)
    approval(draft, story, ApprovalSubject.CLOSURE, requested, status=ApprovalStatus.APPROVED, decided=decided)
    contact(draft, story, ContactKind.PHONE, closed, "終結について本人・家族に連絡した。")
