"""Helper dispatches (子育て世帯ヘルパー派遣) and their visits, inside the rules of
`schema/cases/dispatch_rules.py`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Final

from kizuna.platform.vocabulary import CareTask, CaseStage, DispatchStatus, OrganisationKind
from kizuna.schema.cases.dispatch_rules import MAX_VISIT_MINUTES, PERIOD_MONTHS, add_months
from kizuna.tenants.demo_calendar import AS_OF_DATE
from kizuna.tenants.demo_draft import Draft, Story

# What a helper does (家事・育児支援, seed 002), in words and as the care task it takes over.
VISIT_TASKS: Final = (
    ("調理・配膳", CareTask.HOUSEWORK),
    ("掃除・洗濯", CareTask.HOUSEWORK),
    ("買い物", CareTask.HOUSEWORK),
    ("きょうだいの見守り", CareTask.WATCHING_OVER),
    ("保育園への送迎", CareTask.SIBLING_CARE),
    ("きょうだいの入浴", CareTask.SIBLING_CARE),
)
VISIT_NOTES: Final = (
    "本人は部活動に参加できている。",
    "母の表情が明るくなってきた。",
    "台所が片付いてきた。",
    "弟が落ち着いて過ごしている。",
    None,
)


def dispatch(draft: Draft, story: Story, conference: dt.datetime, support: dt.datetime) -> None:
    """子育て世帯ヘルパー派遣: application → joint survey → plan → decision → visits."""
    provider = draft.pick(draft.plan.of(OrganisationKind.HOME_HELP_PROVIDER))
    applied = draft.between(conference, support).date()
    survey = applied + dt.timedelta(days=draft.rng.randint(2, 7))
    decided = survey + dt.timedelta(days=draft.rng.randint(2, 7))
    start = decided + dt.timedelta(days=draft.rng.randint(1, 5))
    period_end = add_months(start, draft.rng.choice((3, PERIOD_MONTHS))) - dt.timedelta(days=1)
    last_day = min(story.closed_on or AS_OF_DATE, AS_OF_DATE)
    extended = add_months(period_end, 3) if period_end < last_day and draft.rng.random() < 0.5 else None
    plan = "週1回・2時間以内。家事援助と、きょうだいの見守り。"
    row: list[Any] = [draft.new_id(applied), story.case_id, provider.id, None, applied, survey, plan, decided]
    row += [start, period_end, extended]
    status = dispatch_status(row, story, last_day)
    row[3] = status.value
    draft.add("helper_dispatch", *row)
    if status in (DispatchStatus.IN_SERVICE, DispatchStatus.MONITORING, DispatchStatus.ENDED):
        draft.add(
            "case_participant",
            draft.new_id(decided),
            story.case_id,
            provider.id,
            "ヘルパー派遣",
            draft.office_time(decided),
        )
        visits(draft, row[0], start, min(extended or period_end, last_day))


def dispatch_status(row: list[Any], story: Story, last_day: dt.date) -> DispatchStatus:
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
    return DispatchStatus.MONITORING if story.stage is CaseStage.MONITORING else DispatchStatus.IN_SERVICE


def visits(draft: Draft, dispatch_id: uuid.UUID, first: dt.date, last: dt.date) -> None:
    """At most one visit per ISO week (one draw per week from Monday to Friday), at most 2 hours."""
    monday = first - dt.timedelta(days=first.weekday())
    while monday <= last:
        day = monday + dt.timedelta(days=draft.rng.randint(0, 4))
        if first <= day <= last and draft.rng.random() < 0.85:
            done = draft.rng.sample(VISIT_TASKS, draft.rng.randint(1, 3))
            tasks = [t.value for t in CareTask if t in {task for _, task in done}]
            activities = "、".join(words for words, _ in done)
            minutes = draft.rng.choice((60, 90, MAX_VISIT_MINUTES))
            notes = draft.pick(VISIT_NOTES)
            draft.add("helper_visit", draft.new_id(day), dispatch_id, day, minutes, tasks, activities, notes)
        monday += dt.timedelta(days=7)
