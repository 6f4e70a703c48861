"""The people and casework of one demo tenant: pure, deterministic row generation.

`generate_casework` turns a tenant's organisations and staff, a case count and a seed
into rows for every case-related tenant table (households, persons, care relationships,
cases with their append-only history, participants, assessments, versioned support plans,
approvals, meetings, contact logs, referrals, helper dispatches with visits, consents).
Nothing here touches a database: the same inputs give the same rows, ids included.

It composes the seeder's parts, which share one `Draft` and must draw in the same order:
`demo_households` (people), `demo_histories` (each case's walk through the workflow and
what each stage records, with `demo_records` and `demo_dispatches`) and `demo_referrals`.
Every case follows the flow of seed 002 (`schema/cases/workflow.py`), stopped at its
current stage, and its records are dated inside the stage they belong to, between FY2022
and `AS_OF`.
"""

from __future__ import annotations

import random
from typing import Final

from faker import Faker

from kizuna.platform.vocabulary import CarerCategory, CaseStage, OrganisationKind, RiskLevel
from kizuna.tenants.demo_draft import Draft, Row, TenantPlan
from kizuna.tenants.demo_histories import ORDER, choose_participants, step_records, timeline
from kizuna.tenants.demo_households import household
from kizuna.tenants.demo_records import practitioners_meetings, yotaikyo_meeting
from kizuna.tenants.demo_referrals import loose_referrals, merged_referrals, origin_referral

S = CaseStage
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


def generate_casework(plan: TenantPlan, *, cases: int, seed: int) -> dict[str, list[Row]]:
    """Every case-related row of one tenant, keyed by table (columns as in `COLUMNS`)."""
    key = f"{seed}:{plan.code}:casework"
    faker = Faker("ja_JP")
    faker.seed_instance(key)
    return build(Draft(plan, random.Random(key), faker), cases)  # noqa: S311 (synthetic data, not secrets)


def build(draft: Draft, cases: int) -> dict[str, list[Row]]:
    for stage, category in assignments(draft, cases):
        case(draft, stage, category)
    merged_referrals(draft, round(cases * 0.08))
    loose_referrals(draft, max(4, round(cases * 0.3)))
    practitioners_meetings(draft)
    return draft.rows


def assignments(draft: Draft, cases: int) -> list[tuple[CaseStage, CarerCategory]]:
    """Every stage × category pair when the count allows it, else every stage and every
    category at least once; the rest are weighted draws."""
    stages, categories = list(STAGE_WEIGHTS), list(CATEGORY_WEIGHTS)
    if cases >= len(stages) * len(categories):
        pairs = [(s, c) for s in stages for c in categories]
    else:
        drawn = categories + draft.rng.choices(categories, list(CATEGORY_WEIGHTS.values()), k=cases)
        picked = draft.rng.sample(drawn[: len(categories)], len(categories)) + drawn[len(categories) :]
        pairs = [(stages[i % len(stages)], picked[i]) for i in range(cases)]
    while len(pairs) < cases:
        stage = draft.rng.choices(stages, weights=list(STAGE_WEIGHTS.values()))[0]
        pairs.append((stage, draft.rng.choices(categories, weights=list(CATEGORY_WEIGHTS.values()))[0]))
    draft.rng.shuffle(pairs)
    return pairs


def case(draft: Draft, stage: CaseStage, category: CarerCategory) -> None:
    story = household(draft, category, timeline(draft, stage))
    draft.stories.append(story)
    risk = draft.rng.choices(list(RiskLevel), weights=(45, 40, 15))[0]
    story.yotaikyo = category is CarerCategory.YOUNG_CARER and risk is not RiskLevel.LOW and draft.rng.random() < 0.6
    kind = draft.pick(LEAD_KINDS[category])
    lead = draft.department if kind is OrganisationKind.MUNICIPAL_DEPARTMENT else draft.pick(draft.plan.of(kind))
    choose_participants(draft, story, lead)
    coordinator = draft.plan.coordinator if category.value.startswith("young") else None
    closed_at = story.steps[-1].at if stage is S.CLOSED else None
    worker = draft.plan.caseworker
    draft.add(
        "carer_case", story.case_id, story.carer.person_id, story.household_id, category.value, stage.value,
        lead.id, worker.subject, coordinator and coordinator.subject, story.yotaikyo, risk.value, story.opened_at,
        closed_at, worker.display_name, coordinator and coordinator.display_name,
    )  # fmt: skip
    origin_referral(draft, story, risk)
    for index in range(len(story.steps)):
        step_records(draft, story, index)
    if story.yotaikyo and story.stage not in ORDER:
        yotaikyo_meeting(draft, story)
