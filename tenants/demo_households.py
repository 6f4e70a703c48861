"""Households, their members and who cares for whom: a carer of the case's category and
age, the family around them, the schools of the children and the care relationships."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Final

from kizuna.platform.provisioning import OrganisationRow
from kizuna.platform.vocabulary import CaredForCondition, CarerCategory, CareTask
from kizuna.schema.cases.workflow import ADULT_AGE
from kizuna.schema.people.names import name_key
from kizuna.tenants.demo_calendar import AS_OF_DATE, fiscal_year, school_grade, school_kind, years_before
from kizuna.tenants.demo_draft import Draft, Member, Step, Story

C, K = CaredForCondition, CareTask
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
Spec = tuple[str, bool, dt.date, tuple[CaredForCondition, ...]]
"""A household member to create: relation to the carer, female, birth date, conditions if cared for."""


def household(draft: Draft, category: CarerCategory, steps: list[Step]) -> Story:
    opened = steps[0].at
    family, family_kana, _ = draft.faker.last_name_pair()
    household_id = draft.new_id(opened)
    draft.add("household", household_id, f"{family}家", draft.pick(draft.plan.districts), opened)
    members: list[Member] = []
    schools: list[OrganisationRow | None] = []
    for relation, female, birth, conditions in household_specs(draft, category, opened.date()):
        pair = draft.faker.first_name_female_pair() if female else draft.faker.first_name_male_pair()
        member = Member(draft.new_id(opened), family, pair[0], birth, relation, conditions)
        school = school_for(draft, birth)
        grade = school_grade(birth, AS_OF_DATE) if school else None
        draft.add(
            "person", member.person_id, household_id, family, pair[0], family_kana, pair[1], birth,
            school.id if school else None, grade, opened, name_key(family, pair[0]), name_key(family_kana, pair[1]),
        )  # fmt: skip
        members.append(member)
        schools.append(school)
    case_id = draft.new_id(opened)
    hours = care_relationships(draft, category, members, opened)
    return Story(case_id, category, steps, household_id, members, schools[0], hours)


def household_specs(draft: Draft, category: CarerCategory, opened: dt.date) -> list[Spec]:
    """The carer first (aged for the category on `opened`), then 1-5 more members."""
    carer_birth = young_carer_birth(draft, opened) if category is CarerCategory.YOUNG_CARER else None
    if carer_birth is None:
        low, high = {
            CarerCategory.YOUNG_ADULT_CARER: (18, 38),
            CarerCategory.BUSINESS_CARER: (35, 63),
            CarerCategory.FAMILY_CARER: (40, 84),
        }[category]
        carer_birth = years_before(opened, draft.rng.randint(low, high)) - dt.timedelta(draft.rng.randint(1, 330))
    female = draft.rng.random() < 0.6
    carer: Spec = ("本人", female, carer_birth, ())
    if category in (CarerCategory.YOUNG_CARER, CarerCategory.YOUNG_ADULT_CARER):
        others = children_household(draft, category, carer_birth)
    elif category is CarerCategory.BUSINESS_CARER:
        others = working_household(draft, female, carer_birth)
    else:
        others = older_household(draft, female, carer_birth)
    return [carer, *others][:6]


def relative_birth(draft: Draft, carer_birth: dt.date, years_older: tuple[int, int]) -> dt.date:
    """A relative `years_older` (negative: younger) than the carer, born by AS_OF."""
    days = draft.rng.randint(years_older[0] * 365, years_older[1] * 365)
    return min(carer_birth - dt.timedelta(days=days), AS_OF_DATE - dt.timedelta(days=200))


def children_household(draft: Draft, category: CarerCategory, carer_birth: dt.date) -> list[Spec]:
    rng = draft.rng
    condition = rng.choice((C.MENTAL_ILLNESS, C.ILLNESS, C.PHYSICAL_DISABILITY, C.DEPENDENCE, C.LIMITED_JAPANESE))
    parent_cared = category is CarerCategory.YOUNG_ADULT_CARER or rng.random() < 0.7
    specs: list[Spec] = [
        ("母", True, relative_birth(draft, carer_birth, (22, 38)), (condition,) if parent_cared else ())
    ]
    if rng.random() < 0.55:
        specs.append(("父", False, relative_birth(draft, carer_birth, (24, 42)), ()))
    if category is CarerCategory.YOUNG_CARER and (not parent_cared or rng.random() < 0.5):
        for _ in range(rng.randint(1, 2)):
            sister = rng.random() < 0.5
            specs.append(
                ("妹" if sister else "弟", sister, relative_birth(draft, carer_birth, (-9, -1)), (C.YOUNG_SIBLINGS,))
            )
    elif rng.random() < 0.3:
        sister = rng.random() < 0.5
        born = relative_birth(draft, carer_birth, (-6, -1))
        specs.append(("妹" if sister else "弟", sister, born, (C.INTELLECTUAL_DISABILITY,)))
    if not parent_cared and rng.random() < 0.5:
        specs.append(("祖母", True, relative_birth(draft, carer_birth, (55, 75)), (C.ELDERLY,)))
    return specs


def working_household(draft: Draft, female: bool, carer_birth: dt.date) -> list[Spec]:
    rng = draft.rng
    condition = rng.choice((C.ILLNESS, C.PHYSICAL_DISABILITY))
    mother = rng.choice(("母", "義母"))
    specs: list[Spec] = [(mother, True, relative_birth(draft, carer_birth, (25, 35)), (C.ELDERLY, condition))]
    if rng.random() < 0.7:
        specs.append(("夫" if female else "妻", not female, relative_birth(draft, carer_birth, (-4, 6)), ()))
    if rng.random() < 0.5:
        daughter = rng.random() < 0.5
        specs.append(("長女" if daughter else "長男", daughter, relative_birth(draft, carer_birth, (-32, -22)), ()))
    return specs


def older_household(draft: Draft, female: bool, carer_birth: dt.date) -> list[Spec]:
    rng, situation = draft.rng, draft.rng.random()
    if situation < 0.5:
        spouse = ("夫" if female else "妻", not female, relative_birth(draft, carer_birth, (-3, 8)))
        return [(*spouse, (C.ELDERLY, C.ILLNESS))]
    if situation < 0.8:
        daughter = rng.random() < 0.4
        condition = rng.choice((C.INTELLECTUAL_DISABILITY, C.MENTAL_ILLNESS))
        child = ("長女" if daughter else "長男", daughter, relative_birth(draft, carer_birth, (-32, -22)))
        return [
            (*child, (condition,)),
            ("夫" if female else "妻", not female, relative_birth(draft, carer_birth, (-3, 6)), ()),
        ]
    return [("母", True, relative_birth(draft, carer_birth, (22, 32)), (C.ELDERLY, C.PHYSICAL_DISABILITY))]


def young_carer_birth(draft: Draft, opened: dt.date) -> dt.date:
    """Under 18 when the case opened, and still at school (grade 1-12) on AS_OF."""
    years_since = (AS_OF_DATE - opened).days / 365.25
    grades = list(range(min(12, 2 + math.ceil(years_since)), 13))
    grade = draft.rng.choices(grades, weights=[GRADE_WEIGHTS[g] for g in grades])[0]
    birth_fy = fiscal_year(AS_OF_DATE) - 6 - grade
    start = max(dt.date(birth_fy, 4, 2), years_before(opened, ADULT_AGE) + dt.timedelta(days=1))
    end = dt.date(birth_fy + 1, 4, 1)
    return start + dt.timedelta(days=draft.rng.randint(0, max(0, (end - start).days)))


def school_for(draft: Draft, birth: dt.date) -> OrganisationRow | None:
    grade = school_grade(birth, AS_OF_DATE)
    if not 1 <= grade <= 12:
        return None
    schools = draft.plan.of(school_kind(grade))
    # the demo teacher's school (the first) is the most likely, so its referrals show
    return draft.rng.choices(schools, weights=[3 if i == 0 else 1 for i in range(len(schools))])[0]


def care_relationships(draft: Draft, category: CarerCategory, members: list[Member], opened: dt.datetime) -> Decimal:
    carer, others = members[0], members[1:]
    cared = [m for m in others if m.conditions] or others[:1]
    low, high = HOURS[category]
    total = Decimal(0)
    for member in cared:
        member.conditions = member.conditions or (C.ILLNESS,)
        options = sorted({t for c in member.conditions for t in TASKS_FOR[c]}, key=list(CareTask).index)
        tasks = draft.rng.sample(options, draft.rng.randint(1, min(3, len(options))))
        hours = Decimal(draft.rng.randint(low * 2, high * 2)) / 2
        total += hours
        draft.add(
            "care_relationship", draft.new_id(opened), carer.person_id, member.person_id, member.relation,
            [c.value for c in member.conditions], [t.value for t in tasks], hours,
        )  # fmt: skip
    return min(total, Decimal(168))
