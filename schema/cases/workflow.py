"""The case workflow of seed 002 as data, and the rules that guard it.

相談受理 intake → 情報共有 sharing → 情報収集 gathering → ケース検討会議 conference →
(関係機関を含めた会議 multi-agency meeting, when needed) → 支援 support ⇄ 進行管理
monitoring → 終結 closed; a closed case is reopened into support. Entering support needs a
support plan approved by a supervisor, closing needs an approved closure (DESIGN section 4).

Pure domain: no database, no GraphQL. The mutations and the demo seeder use the same
`TRANSITIONS`, so a seeded history is one the API would have accepted. A rule that refuses
returns a `Refusal` (a stable code, the input field, a catalogue message), never raises:
the caller decides whether that is a user error or a bug. A mutation reports it as
`Refused(<UserErrorCode>, refusal.field, refusal.message, **refusal.params)`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from kizuna.platform import wareki
from kizuna.platform.i18n import Message
from kizuna.platform.vocabulary import ApprovalSubject, CarerCategory, CaseEventKind, CaseStage


class Rule(enum.StrEnum):
    """Why the workflow refused: a stable code, for clients and tests to branch on."""

    ALREADY_IN_STAGE = "already_in_stage"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    APPROVAL_REQUIRED = "approval_required"
    DISPATCH_STEP_NOT_ALLOWED = "dispatch_step_not_allowed"
    PERIOD_NOT_AFTER_START = "period_not_after_start"
    PERIOD_TOO_LONG = "period_too_long"
    EXTENSION_NOT_AFTER_END = "extension_not_after_end"
    EXTENSION_TOO_LONG = "extension_too_long"
    VISIT_MINUTES = "visit_minutes"
    VISIT_OUTSIDE_PERIOD = "visit_outside_period"
    SECOND_VISIT_IN_WEEK = "second_visit_in_week"
    DATE_BEFORE_PREVIOUS_STEP = "date_before_previous_step"
    VISIT_TASKS = "visit_tasks"
    DISPATCH_ALREADY_OPEN = "dispatch_already_open"
    CASE_CLOSED = "case_closed"
    PROVIDER_REQUIRED = "provider_required"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A rule the requested change breaks: `field` names the mutation input to correct,
    `message` and `params` are what a person reads (`message.in_(language, **params)`)."""

    rule: Rule
    field: str
    message: Message
    # dataclasses.field, spelt out: inside this class `field` is the attribute above
    params: Mapping[str, object] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Transition:
    """An edge of the case graph: the event it writes and the approval it needs."""

    source: CaseStage
    target: CaseStage
    event: CaseEventKind = CaseEventKind.STAGE_CHANGED
    approval: ApprovalSubject | None = None


S = CaseStage
INITIAL_STAGE: Final = S.INTAKE
"""Where every case opens (a `CaseEventKind.OPENED` event, not a transition)."""

TRANSITIONS: Final = (
    Transition(S.INTAKE, S.SHARING),
    Transition(S.SHARING, S.GATHERING),
    Transition(S.GATHERING, S.CONFERENCE),
    Transition(S.CONFERENCE, S.MULTI_AGENCY_MEETING),
    Transition(S.CONFERENCE, S.SUPPORT, approval=ApprovalSubject.SUPPORT_PLAN),
    Transition(S.MULTI_AGENCY_MEETING, S.SUPPORT, approval=ApprovalSubject.SUPPORT_PLAN),
    Transition(S.SUPPORT, S.MONITORING),
    # monitoring returns to support with a reviewed (new, approved) plan version
    Transition(S.MONITORING, S.SUPPORT, approval=ApprovalSubject.SUPPORT_PLAN),
    Transition(S.MONITORING, S.CLOSED, approval=ApprovalSubject.CLOSURE),
    Transition(S.CLOSED, S.SUPPORT, CaseEventKind.REOPENED, ApprovalSubject.SUPPORT_PLAN),
)
_EDGES: Final = MappingProxyType({(t.source, t.target): t for t in TRANSITIONS})


def allowed_transitions(stage: CaseStage) -> tuple[Transition, ...]:
    """The moves a case in `stage` may make, in the flow's order."""
    return tuple(t for t in TRANSITIONS if t.source is stage)


def transition(source: CaseStage, target: CaseStage) -> Transition | None:
    """The edge from `source` to `target`, or None if the flow has none."""
    return _EDGES.get((source, target))


def needs_approval(source: CaseStage, target: CaseStage) -> ApprovalSubject | None:
    """What a supervisor must have approved before the case moves (None: nothing, or no such edge)."""
    edge = transition(source, target)
    return edge.approval if edge else None


def check_transition(
    source: CaseStage, target: CaseStage, *, approved: Collection[ApprovalSubject] = ()
) -> Refusal | None:
    """None if a case in `source` may move to `target` now. `approved` holds the subjects
    of the case's approved approvals not yet used by an earlier move."""
    if source is target:
        return Refusal(Rule.ALREADY_IN_STAGE, "toStage", Message.ALREADY_IN_STAGE)
    edge = transition(source, target)
    if edge is None:
        return Refusal(Rule.TRANSITION_NOT_ALLOWED, "toStage", Message.TRANSITION_NOT_ALLOWED)
    if edge.approval is not None and edge.approval not in approved:
        message = (
            Message.SUPPORT_PLAN_APPROVAL_REQUIRED
            if edge.approval is ApprovalSubject.SUPPORT_PLAN
            else Message.CLOSURE_APPROVAL_REQUIRED
        )
        return Refusal(Rule.APPROVAL_REQUIRED, "toStage", message)
    return None


# --- the carer category: no gap at 18 (seed 003) -------------------------------------

JAPAN: Final = wareki.JAPAN
"""Birthdays, and so categories, change at midnight in Japan, whatever the server's zone."""
ADULT_AGE: Final = 18
"""A young carer (ヤングケアラー) is under 18; from that birthday a young adult carer."""


def age(birth_date: dt.date, on_date: dt.date) -> int:
    """Completed years on `on_date` (a year is completed on the birthday; 29 February
    birthdays on 1 March in common years)."""
    before_birthday = (on_date.month, on_date.day) < (birth_date.month, birth_date.day)
    return on_date.year - birth_date.year - before_birthday


def category_at(category: CarerCategory, birth_date: dt.date, on_date: dt.date) -> CarerCategory:
    """The category a case of `category` holds on `on_date`: the same case carries a young
    carer over to young adult carer on their 18th birthday; other categories stay."""
    if category is CarerCategory.YOUNG_CARER and age(birth_date, on_date) >= ADULT_AGE:
        return CarerCategory.YOUNG_ADULT_CARER
    return category


def today() -> dt.date:
    """The date in Japan now."""
    return dt.datetime.now(JAPAN).date()


def eighteenth_birthday(birth_date: dt.date) -> dt.date:
    """The day a young carer becomes a young adult carer (a 29 February birthday: 1 March)."""
    try:
        return birth_date.replace(year=birth_date.year + ADULT_AGE)
    except ValueError:
        return dt.date(birth_date.year + ADULT_AGE, 3, 1)
